import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { LanePool, type Lane } from '../../src/engine/lane-pool.js';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import type { LaneSink } from '../../src/handback/handback-consumer.js';
import type { PacerCrashKind, PacerRestart } from '../../src/pacer/pacer-host.js';
import { PacedHost as PacerHost } from '../helpers/paced-host.js';
import type { PacerOptions } from '../../src/pacer/pacer-layout.js';
import { TwilioAdapter } from '../../src/protocol/twilio-adapter.js';
import { MULAW_8K } from '../../src/codec/audio-format.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';
import { messageText } from '../helpers/core-harness.js';

// A real PacerHost and worker, lanes made the way the engine makes them (LanePool + the Twilio
// wire prefix), frames stamped with a sequence number and pushed on a 50-per-second clock. The
// worker is crashed for real (crashForDiagnostics) and every frame is accounted for exactly:
// lost = pushed - received - still queued - dropped by the ring.

const OPTIONS: PacerOptions = {
  lead: 2,
  spinUs: 200,
  phases: 4,
  catchUpFrames: 2,
  lateMs: 2,
  maxInflightBatches: 500,
  nice: null,
};
const adapter = new TwilioAdapter();
const isPacerFailed = (err: unknown): boolean => err instanceof PtimeError && err.code === ErrorCodes.PACER_FAILED;

class TestLane implements LaneSink {
  readonly streamSid: string;
  readonly received: number[] = [];
  readonly problems: string[] = [];
  pushed = 0;
  private readonly frame = new Uint8Array(160);
  private readonly gen: number;

  constructor(
    readonly lane: Lane,
    private readonly host: PacerHost,
  ) {
    this.streamSid = `MZ${lane.index}`;
    this.gen = lane.ring.generation;
  }

  open(): void {
    const wire = adapter.mediaWire(this.streamSid, MULAW_8K);
    this.host.open(
      this.lane.index,
      this.lane.ring.sab,
      { ...wire, prefix: Buffer.from(wire.prefix), suffix: Buffer.from(wire.suffix) },
      this,
    );
  }

  push(): void {
    this.lane.ring.pushFrame(stampedFrame(this.pushed++, this.frame), 0);
    if (this.lane.ring.pacerIdle()) this.host.wake(this.lane.index); // what Call does
  }

  onFrame(gen: number, wire: Buffer | string): boolean {
    if (gen !== this.gen) this.problems.push(`frame of generation ${gen}, lane is at ${this.gen}`);
    const msg = JSON.parse(messageText(wire)) as { event: string; streamSid: string; media: { payload: string } };
    if (msg.streamSid !== this.streamSid) this.problems.push(`frame for ${msg.streamSid} on ${this.streamSid}`);
    const seq = readStamp(Buffer.from(msg.media.payload, 'base64'));
    if (seq < 0) this.problems.push('torn frame');
    const last = this.received.at(-1);
    if (last !== undefined && seq <= last) this.problems.push(`frame ${seq} after ${last}`);
    this.received.push(seq);
    return false;
  }

  onMark(): void {
    this.problems.push('unexpected mark');
  }

  /** Exact: every frame pushed was received, is still queued, was dropped by the ring, or is lost. */
  lost(): number {
    return this.pushed - this.received.length - this.lane.ring.depth() - this.lane.ring.drops;
  }
}

/** Pushes frames into each lane at 50 per second (a few ahead), like a TTS stream in real time. */
function produce(lanes: TestLane[]): () => void {
  const t0 = performance.now();
  const base = lanes.map((l) => l.pushed);
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - t0) / 20) + 4;
    lanes.forEach((l, i) => {
      while (l.pushed - base[i]! < due) l.push();
    });
  }, 5);
  return () => clearInterval(timer);
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function setup(count: number, host = new PacerHost(OPTIONS)) {
  const pool = new LanePool(120, 8);
  const lanes = Array.from({ length: count }, () => new TestLane(pool.acquire()!, host));
  for (const l of lanes) l.open();
  return { host, pool, lanes };
}

/** Stop producing, let the lanes drain, stop the worker (which dispatches whatever it posted). */
async function finish(host: PacerHost, lanes: TestLane[], stopProducing: () => void): Promise<void> {
  stopProducing();
  await until(() => lanes.every((l) => l.lane.ring.depth() === 0), 5000, 'the lanes to drain');
  await host.stop();
}

for (const kind of ['throw', 'exit', 'terminate', 'hang'] as PacerCrashKind[]) {
  test(`a pacer that dies (${kind}) is restarted and every lane goes on, in order`, async () => {
    const { host, lanes } = setup(3);
    const stopProducing = produce(lanes);
    try {
      await until(() => lanes.every((l) => l.received.length >= 10), 5000, 'audio before the crash');
      const ticksBefore = host.ticks;
      const receivedBefore = lanes.map((l) => l.received.length);
      const restarted = once(host, 'restart') as Promise<[PacerRestart]>;
      await host.crashForDiagnostics(kind);
      const [info] = await restarted;

      assert.equal(info.attempt, 1);
      const reasons = {
        throw: 'pacer worker threw: pacer crash requested for diagnostics',
        exit: 'pacer worker exited with code 1',
        terminate: 'pacer worker exited with code 1',
        hang: 'hung',
      };
      assert.equal(info.reason, reasons[kind]);
      assert.ok(Number.isFinite(info.downMs) && info.downMs >= 0, `downMs ${info.downMs}`);
      assert.equal(host.restarts, 1);
      assert.equal(host.state, 'running');

      await until(
        () => lanes.every((l, i) => l.received.length >= receivedBefore[i]! + 25),
        5000,
        'audio after the restart',
      );
      assert.ok(host.ticks >= ticksBefore, 'ticks carry on across the restart');
      await finish(host, lanes, stopProducing);

      for (const l of lanes) {
        assert.deepEqual(l.problems, [], `${l.streamSid}: in order, untorn, right generation`);
        assert.equal(l.lane.ring.drops, 0, `${l.streamSid}: the outage did not overflow the lane`);
        // Both in-worker crashes happen between steps: nothing taken from a lane is left unposted.
        // terminate() can land mid-step and lose that step's frames (at most lead + catch-up + 1).
        // A hang starts between steps too, and the watchdog's terminate finds it spinning there.
        const limit = kind === 'terminate' ? OPTIONS.lead + OPTIONS.catchUpFrames + 1 : 0;
        assert.ok(
          l.lost() >= 0 && l.lost() <= limit,
          `${l.streamSid}: ${l.lost()} frames lost (pushed ${l.pushed}, received ${l.received.length})`,
        );
      }
      assert.equal(host.restarts, 1);
      assert.equal(host.hangs, kind === 'hang' ? 1 : 0, 'only a hang is counted as one');
    } finally {
      stopProducing();
      await host.stop();
    }
  });
}

test('lanes opened and closed while the pacer is down are carried over to the new worker', async () => {
  const { host, pool, lanes } = setup(2);
  const [a, b] = lanes as [TestLane, TestLane];
  const c = new TestLane(pool.acquire()!, host);
  let stopProducing = produce([a, b]);
  try {
    await until(() => a.received.length >= 5 && b.received.length >= 5, 5000, 'audio before the crash');
    const restarted = once(host, 'restart');
    await host.crashForDiagnostics('throw');
    // The first restart waits 0 ms on a timer: we run before it, with no worker at all.
    assert.equal(host.state, 'restarting');
    host.close(b.lane.index);
    const bAtClose = b.received.length;
    c.open();
    stopProducing();
    stopProducing = produce([a, b, c]);
    await restarted;
    await until(() => c.received.length >= 15 && a.received.length >= bAtClose + 15, 5000, 'audio on a and c');
    assert.equal(b.received.length, bAtClose, 'a lane closed during the outage stays closed');
    await finish(host, [a, c], stopProducing);
    for (const l of [a, c]) {
      assert.deepEqual(l.problems, []);
      assert.equal(l.lost(), 0, `${l.streamSid}: nothing lost`);
    }
    assert.deepEqual(c.received.slice(0, 5), [0, 1, 2, 3, 4], 'the new lane starts at its first frame');
  } finally {
    stopProducing();
    await host.stop();
  }
});

test('six rapid crashes: five restarts backing off, then a fatal PACER_FAILED error and no more restarts', async () => {
  const { host, lanes } = setup(1);
  const [lane] = lanes as [TestLane];
  const stopProducing = produce(lanes);
  const restarts: PacerRestart[] = [];
  const fatals: PtimeError[] = [];
  const errors: Error[] = [];
  const exits: number[] = [];
  host.on('restart', (r) => restarts.push(r));
  host.on('fatal', (e) => fatals.push(e));
  host.on('error', (e) => errors.push(e));
  host.on('exit', (code) => exits.push(code));
  try {
    for (let i = 1; i <= 5; i++) {
      const restarted = once(host, 'restart');
      await host.crashForDiagnostics(i % 2 ? 'throw' : 'exit');
      await restarted;
      const got = lane.received.length;
      await until(() => lane.received.length >= got + 3, 5000, `audio after restart ${i}`);
    }
    assert.deepEqual(
      restarts.map((r) => r.attempt),
      [1, 2, 3, 4, 5],
    );
    // Backoff 0, 50, 100, 200, 400 ms: each outage lasts at least its delay.
    [0, 50, 100, 200, 400].forEach((delay, i) =>
      assert.ok(restarts[i]!.downMs >= delay, `restart ${i + 1}: down ${restarts[i]!.downMs} ms`),
    );

    await host.crashForDiagnostics('throw');
    assert.equal(fatals.length, 1);
    const fatal = fatals[0]!;
    assert.ok(isPacerFailed(fatal));
    assert.match(
      fatal.message,
      /^pacer worker failed 6 times within 30 s \(limit: 5 restarts per 30 s\); giving up\. Last failure: pacer worker threw: pacer crash requested for diagnostics$/,
    );
    assert.deepEqual(errors, [fatal], "'error' carries the same error");
    assert.deepEqual(exits, [1]);
    assert.equal(host.state, 'failed');

    await new Promise((r) => setTimeout(r, 600)); // longer than any backoff: nothing restarts
    assert.equal(restarts.length, 5);
    assert.equal(host.restarts, 5);
    const got = lane.received.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(lane.received.length, got, 'no pacer runs any more');
    await assert.rejects(
      host.crashForDiagnostics('throw'),
      (err) => isPacerFailed(err) && /state: failed/.test((err as Error).message),
    );
    await host.stop(); // resolves at once
    assert.deepEqual(lane.problems, []);
  } finally {
    stopProducing();
    await host.stop();
  }
});

test("a fatal failure handled through 'fatal' alone does not throw an unhandled 'error'", async () => {
  const host = new PacerHost(OPTIONS, { maxRestarts: 0 });
  const fatal = once(host, 'fatal') as Promise<[PtimeError]>;
  await host.crashForDiagnostics('exit');
  const [err] = await fatal;
  assert.ok(isPacerFailed(err));
  assert.match(err.message, /failed 1 time within 30 s \(limit: 0 restarts per 30 s\)/);
  await host.stop();
});

test('stop() never restarts, and cancels a restart waiting out its backoff', async () => {
  const first = new PacerHost(OPTIONS);
  const restarts: PacerRestart[] = [];
  first.on('restart', (r) => restarts.push(r));
  const exited = once(first, 'exit');
  await first.stop();
  await exited;
  assert.equal(first.state, 'stopped');
  await assert.rejects(first.crashForDiagnostics('throw'), isPacerFailed);

  const second = new PacerHost(OPTIONS);
  second.on('restart', (r) => restarts.push(r));
  const restarted = once(second, 'restart');
  await second.crashForDiagnostics('throw');
  await restarted; // restart 1 of the streak waited 0 ms; the next waits 50 ms
  await second.crashForDiagnostics('exit');
  assert.equal(second.state, 'restarting');
  await second.stop();
  assert.equal(second.state, 'stopped');

  await new Promise((r) => setTimeout(r, 200));
  assert.equal(restarts.length, 1, 'only the restart before stop()');
  assert.equal(first.restarts + second.restarts, 1);
});
