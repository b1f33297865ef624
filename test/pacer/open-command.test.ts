import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessagePort } from 'node:worker_threads';
import type { LaneSink } from '../../src/handback/handback-consumer.js';
import { PacedHost as PacerHost } from '../helpers/paced-host.js';
import type { LaneWire, PacerCommand, PacerOptions } from '../../src/pacer/pacer-layout.js';
import { LaneRing } from '../../src/ring/lane-ring.js';
import { startCall, startEngine, until } from '../helpers/engine-fixture.js';
import { messageText, wireFor } from '../helpers/core-harness.js';
import { stampedFrame } from '../helpers/seeded.js';

// A per-call allocation that crosses to the pacer thread and is freed on another grows the pacer
// thread's malloc arena call after call. A call's `open` carries only what the pacer does not have yet.

const OPTIONS: PacerOptions = {
  lead: 0,
  spinUs: 0,
  phases: 1,
  catchUpFrames: 2,
  lateMs: 2,
  maxInflightBatches: 500,
  nice: null,
};

/** The real host; only its command port is watched (the property under test is what crosses it). */
function watchCommands(host: PacerHost): PacerCommand[] {
  const seen: PacerCommand[] = [];
  const port = (host as unknown as { commands: MessagePort }).commands;
  const post = port.postMessage.bind(port);
  port.postMessage = (msg: PacerCommand, transfer?: readonly MessagePort[]) => {
    seen.push(msg);
    post(msg, transfer as MessagePort[]);
  };
  return seen;
}

test("a reused lane's open goes without its buffer; a replacement worker gets every buffer again", async () => {
  const host = new PacerHost(OPTIONS, { statsPeriodMs: 100 });
  try {
    const seen = watchCommands(host);
    const ring = new LaneRing(120);
    const got: string[] = [];
    const sink: LaneSink = {
      onFrame: (_g, wire) => {
        got.push(messageText(wire));
        return false;
      },
      onMark: () => undefined,
    };
    const play = async (sid: string, from: number): Promise<void> => {
      ring.clear();
      ring.newOwner();
      host.open(0, ring.sab, wireFor(sid), sink);
      for (let i = 0; i < 3; i++) {
        ring.pushFrame(stampedFrame(from + i), 0);
        if (ring.pacerIdle()) host.wake(0);
      }
      await until(() => got.filter((w) => w.includes(`"${sid}"`)).length === 3, 5000, `${sid} played`);
      host.close(0);
    };
    await play('MZ-A', 0);
    await play('MZ-B', 100);
    const opens = seen.filter((c): c is Extract<PacerCommand, { op: 'open' }> => c.op === 'open');
    assert.deepEqual(
      opens.map((o) => o.sab === ring.sab),
      [true, false],
      'the buffer crossed once, with the first call',
    );

    // A crashed worker is replaced: the lanes open at that moment go to it with their buffers.
    host.open(0, ring.sab, wireFor('MZ-C'), sink);
    await host.crashForDiagnostics('throw');
    await until(() => host.state === 'running' && host.restarts === 1, 5000, 'replaced');
    ring.clear();
    ring.newOwner();
    host.close(0);
    host.open(0, ring.sab, wireFor('MZ-D'), sink);
    for (let i = 0; i < 3; i++) {
      ring.pushFrame(stampedFrame(200 + i), 0);
      if (ring.pacerIdle()) host.wake(0);
    }
    await until(
      () => got.filter((w) => w.includes('"MZ-D"')).length === 3,
      5000,
      'MZ-D played by the replacement worker',
    );
  } finally {
    await host.stop();
  }
});

test("the engine hands the pacer a call's wire as exact-size bytes, not a view into an 8 KB pool slab", async () => {
  const wires: LaneWire[] = [];
  class Recording extends PacerHost {
    constructor(
      options: PacerOptions,
      private readonly sinks: (lane: number) => LaneSink | undefined,
    ) {
      super(options);
    }

    override open(lane: number, sab: SharedArrayBuffer, wire: LaneWire): void {
      wires.push(wire);
      super.open(lane, sab, wire, this.sinks(lane)); // the engine's sink for the lane: its socket
    }
  }
  const fx = await startEngine({ pacer: (o, sinks) => new Recording(o, sinks) });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    call.send(stampedFrame(1));
    await c.waitFor((m) => m.some((x) => x.event === 'media'), 5000, 'a frame');
    assert.equal(wires.length, 1);
    for (const part of [wires[0]!.prefix, wires[0]!.suffix]) {
      assert.equal(
        part.buffer.byteLength,
        part.byteLength,
        'the bytes own their buffer: the clone to the pacer copies only them',
      );
    }
    assert.match(Buffer.from(wires[0]!.prefix).toString(), new RegExp(`"streamSid":"${call.streamSid}"`));
  } finally {
    await fx.close();
  }
});
