import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LaneSink } from '../../src/handback/handback-consumer.js';
import { PacedHost as PacerHost } from '../helpers/paced-host.js';
import { LaneRing } from '../../src/ring/lane-ring.js';
import { until } from '../helpers/engine-fixture.js';
import { messageText, wireFor } from '../helpers/core-harness.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

// Batches go back to the pacer for reuse once every sink has returned, unless a sink says it still
// holds a view (a socket that queued the frame). Real worker, real lanes.

const OPTIONS = { lead: 3, spinUs: 0, phases: 1, catchUpFrames: 2, lateMs: 2, maxInflightBatches: 500, nice: null };
const seqOf = (wire: Buffer | string): number =>
  readStamp(Buffer.from((JSON.parse(messageText(wire)) as { media: { payload: string } }).media.payload, 'base64'));

class Feeder {
  pushed = 0;
  constructor(
    readonly index: number,
    readonly ring: LaneRing,
    private readonly host: PacerHost,
  ) {}
  /** Keep 10 frames queued (a producer faster than real time). */
  topUp(): void {
    while (this.ring.depth() < 10) {
      this.ring.pushFrame(stampedFrame(this.index * 100_000 + this.pushed++), 0);
      if (this.ring.pacerIdle()) this.host.wake(this.index);
    }
  }
}

/** A sink that records each frame's stamp and holds no view (a socket that is keeping up). */
function recorder(into: number[], each = (): void => undefined): LaneSink {
  return {
    onFrame: (_g, wire) => {
      each();
      into.push(seqOf(wire));
      return false;
    },
    onMark: () => undefined,
  };
}

/** Open each feeder's lane with its sink and keep the lanes topped up until the timer is cleared. */
function feed(host: PacerHost, feeders: Feeder[], sinks: LaneSink[]): NodeJS.Timeout {
  feeders.forEach((f, i) => host.open(i, f.ring.sab, wireFor(`MZ${i}`), sinks[i]));
  return setInterval(() => feeders.forEach((f) => f.topUp()), 5);
}

test('a sink that holds views and says when it lets go: every batch comes back, none is reused while held', async () => {
  const host = new PacerHost(OPTIONS, { statsPeriodMs: 200 });
  const allocations: number[] = [];
  host.on('stats', (s) => allocations.push(s.batchAllocations));
  try {
    const got: number[][] = [[], []];
    // A socket that stalls for 5 batches every 10th frame, like ws over a kernel buffer: a frame
    // sent to an empty queue is queued as the view itself (held), one sent behind others is copied.
    const queued: { wire: Buffer; seq: number; until: number; view: boolean }[] = [];
    let batches = 0;
    let checked = 0;
    const writeOut = (): void => {
      while (queued.length > 0 && queued[0]!.until <= batches) {
        const q = queued.shift()!;
        if (q.view) checked++;
        assert.equal(seqOf(q.wire), q.seq, 'a queued frame was not written over before it went out');
      }
    };
    const feeders = [0, 1].map((i) => new Feeder(i, new LaneRing(120), host));
    const behind: LaneSink = {
      onFrame: (_g, wire) => {
        if (typeof wire === 'string') return false;
        const seq = seqOf(wire);
        got[0]!.push(seq);
        writeOut();
        const stall = got[0]!.length % 10 === 0 ? 5 : 0;
        if (queued.length === 0 && stall === 0) return false; // written at once
        const view = queued.length === 0;
        queued.push({
          wire: view ? wire : Buffer.from(wire),
          seq,
          until: Math.max(batches + stall, queued.at(-1)?.until ?? 0),
          view,
        });
        return view;
      },
      onMark: () => undefined,
      holding: () => {
        writeOut();
        return queued.length > 0;
      },
    };
    const sinks: LaneSink[] = [behind, recorder(got[1]!, () => batches++)];
    const timer = feed(host, feeders, sinks);
    try {
      await until(() => got[1]!.length >= 50, 10_000, '1 s of frames');
      await until(() => allocations.length >= 2, 5000, 'stats');
      const warm = allocations.at(-1)!;
      await until(() => got[1]!.length >= 200 && allocations.length >= 8, 10_000, '3 s more');
      for (const [i, g] of got.entries())
        assert.deepEqual(
          g,
          g.map((_, k) => i * 100_000 + k),
          `lane ${i}: in order, none torn`,
        );
      const { returned, abandoned } = host.heldBatches;
      assert.ok(
        checked >= 10 && returned >= 10,
        `held views checked ${checked}, batches given back after their hold ${returned}`,
      );
      assert.equal(abandoned, 0);
      // A held batch is parked, not lost: once the pool covers the hold time the pacer allocates nothing.
      assert.ok(allocations.at(-1)! - warm <= 2, `buffers allocated after warm-up: ${allocations.join(',')}`);
    } finally {
      clearInterval(timer);
    }
  } finally {
    await host.stop();
  }
});

test('a sink that holds views but cannot say when it lets go: its batches are never reused (left to the GC)', async () => {
  const host = new PacerHost(OPTIONS, { statsPeriodMs: 200 });
  const allocations: number[] = [];
  host.on('stats', (s) => allocations.push(s.batchAllocations));
  try {
    const held: Buffer[] = [];
    const got: number[][] = [[], []];
    const feeders = [0, 1].map((i) => new Feeder(i, new LaneRing(120), host));
    const sinks: LaneSink[] = [
      {
        // Keeps every 5th frame's view and says so, with no holding().
        onFrame: (_g, wire) => {
          got[0]!.push(seqOf(wire));
          if (got[0]!.length % 5 !== 0 || typeof wire === 'string') return false;
          held.push(wire);
          return true;
        },
        onMark: () => undefined,
      },
      recorder(got[1]!),
    ];
    const timer = feed(host, feeders, sinks);
    try {
      await until(() => got[1]!.length >= 150, 10_000, '3 s of frames');
    } finally {
      clearInterval(timer);
    }
    // Every held view still reads as the frame it was: its batch was never written again.
    const heldSeqs = held.map(seqOf);
    assert.deepEqual(
      heldSeqs,
      got[0]!.filter((_, k) => (k + 1) % 5 === 0).slice(0, heldSeqs.length),
      'held frames intact',
    );
    for (const [i, g] of got.entries())
      assert.deepEqual(
        g,
        g.map((_, k) => i * 100_000 + k),
        `lane ${i}: in order, none torn`,
      );
    assert.ok(
      host.heldBatches.abandoned >= held.length - 1,
      `${host.heldBatches.abandoned} batches left to the GC, ${held.length} views held`,
    );
    await until(() => allocations.length >= 3, 5000, 'stats');
    const last = allocations.at(-1)!;
    assert.ok(
      last <= held.length + 4,
      `${last} buffers allocated for ${got[1]!.length} batches, ${held.length} of them held`,
    );
  } finally {
    await host.stop();
  }
});

test('no view held: after warm-up the pacer allocates no batch buffer at all', async () => {
  const host = new PacerHost(OPTIONS, { statsPeriodMs: 200 });
  const allocations: number[] = [];
  host.on('stats', (s) => allocations.push(s.batchAllocations));
  try {
    const feeder = new Feeder(0, new LaneRing(120), host);
    let got = 0;
    host.open(0, feeder.ring.sab, wireFor('MZ0'), { onFrame: () => ++got < 0, onMark: () => undefined });
    const timer = setInterval(() => feeder.topUp(), 5);
    try {
      await until(() => got >= 50, 10_000, '1 s of frames');
      const warm = allocations.length;
      await until(() => got >= 150 && allocations.length >= warm + 3, 10_000, '2 s more');
    } finally {
      clearInterval(timer);
    }
    assert.ok(allocations.at(-1)! <= 4, `buffers allocated over ${got} frames: ${allocations.join(',')}`);
  } finally {
    await host.stop();
  }
});
