import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttentionReader, AttentionWriter } from '../../src/pacer/attention-ring.js';
import { readBatch } from '../../src/handback/batch-reader.js';
import { PacerCore } from '../../src/pacer/pacer-core.js';
import {
  C_ACKED,
  C_BATCHES,
  C_SPIN_US,
  C_STALLS,
  C_TICKLOG_WR,
  C_TICKS,
  P_CLOCK_READS,
  PROFILE_BYTE,
  PROFILE_FIELDS,
  TICKLOG_BYTE,
  TICKLOG_SIZE,
  attentionSlots,
  controlBytes,
  type PacerCommand,
  type PacerOptions,
} from '../../src/pacer/pacer-layout.js';
import { PacerLoop, type LoopDeps } from '../../src/pacer/pacer-loop.js';
import { LaneRing } from '../../src/ring/lane-ring.js';
import { messageText, wireFor } from '../helpers/core-harness.js';
import { stampedFrame } from '../helpers/seeded.js';

// The pacer thread's loop with a fake clock, wait and post: what it sleeps, when it refuses to
// step, what it counts, all exact and independent of the machine.

const OPTIONS: PacerOptions = {
  lead: 0,
  spinUs: 300,
  phases: 4,
  catchUpFrames: 2,
  lateMs: 2,
  maxInflightBatches: 4,
  nice: null,
};
const WRAP = 2 ** 31;

class FakeThread implements LoopDeps {
  t = 0;
  /** Each clock read moves time on by this much (a spin must end). */
  readStepMs = 0.001;
  /** What a post costs, ms (postMessage of a large batch on a busy thread). */
  postMs = 0;
  overshootMs = 0;
  readonly waits: number[] = [];
  readonly posted: ArrayBuffer[] = [];
  readonly inbox: (PacerCommand | ArrayBuffer)[] = [];

  now(): number {
    this.t += this.readStepMs;
    this.reads++;
    return this.t;
  }
  reads = 0;
  /** What one busy iteration costs, ms (1 ns). */
  busyStepMs = 0.000001;
  busy(iterations: number): void {
    this.t += iterations * this.busyStepMs;
  }
  /** Waits that main interrupts (notify) after this many ms instead of letting them time out. */
  readonly interrupts: number[] = [];
  wait(_seq: number, ms: number): 'timed-out' | 'ok' {
    this.waits.push(ms);
    const cut = this.interrupts.shift();
    if (cut !== undefined && cut < ms) {
      this.t += cut;
      return 'ok';
    }
    this.t += ms + this.overshootMs;
    return 'timed-out';
  }
  post(batch: ArrayBuffer): void {
    this.t += this.postMs;
    this.posted.push(batch);
  }
  poll(): PacerCommand | ArrayBuffer | undefined {
    return this.inbox.shift();
  }
  readonly handbacks: unknown[] = [];
  handBackTo(port: unknown): void {
    this.handbacks.push(port);
  }
  heapUsedBytes(): number {
    return 1 << 20;
  }
  crash(): void {
    throw new Error('not in these tests');
  }
}

function setup(opts: Partial<PacerOptions> = {}, counterStart = 0) {
  const options = { ...OPTIONS, ...opts };
  const slots = attentionSlots(16);
  const control = new SharedArrayBuffer(controlBytes(slots));
  const ctl = new Int32Array(control);
  for (const w of [C_TICKS, C_ACKED, C_STALLS, C_TICKLOG_WR]) ctl[w] = counterStart;
  const thread = new FakeThread();
  const core = new PacerCore(options, new AttentionReader(control, slots));
  const loop = new PacerLoop(control, core, options, thread);
  const attention = new AttentionWriter(control, slots);
  const ring = new LaneRing(120, undefined, counterStart);
  thread.inbox.push({ op: 'open', lane: 0, owner: ring.owner, sab: ring.sab, wire: wireFor('MZ1') });
  const push = (n: number, from = 0): void => {
    for (let i = 0; i < n; i++) {
      ring.pushFrame(stampedFrame(from + i), 0);
      if (ring.pacerIdle()) attention.push(0, new Int32Array(ring.sab, 0, 64));
    }
  };
  const ack = (n = 1): void => void Atomics.add(ctl, C_ACKED, n);
  const tickErrors = (): number[] => {
    const log = new Int32Array(control, TICKLOG_BYTE, TICKLOG_SIZE);
    const n = (ctl[C_TICKLOG_WR]! - counterStart) | 0;
    return Array.from({ length: n / 2 }, (_, k) => log[(counterStart + 2 * k) & (TICKLOG_SIZE - 1)]!);
  };
  return { ctl, thread, core, loop, ring, push, ack, tickErrors };
}

test('the sleep is measured from after the step and the post, so slow work does not make the tick late', () => {
  const { thread, loop, push, ack, tickErrors } = setup();
  push(20);
  thread.postMs = 3; // a 3 ms postMessage
  for (let i = 0; i < 10; i++) {
    loop.turn();
    ack();
  }
  // Frames go out at 5, 25, 45 … ; each wait ends `spin` before the deadline, counted from the
  // clock read after the post: so no tick is later than the clock's own granularity.
  assert.ok(tickErrors().length >= 5, `ticks ${tickErrors().length}`);
  assert.ok(
    tickErrors().every((us) => us >= 0 && us <= 2),
    `tick errors µs ${tickErrors().join(',')}`,
  );
  assert.ok(
    thread.waits.every((ms) => ms <= 20 - 3),
    `waits ${thread.waits.map((w) => w.toFixed(3)).join(',')}`,
  );
});

test('no timed wait with nothing to pace: one housekeeping wake a second, no ticks', () => {
  const { ctl, thread, loop } = setup();
  for (let i = 0; i < 5; i++) loop.turn();
  assert.ok(
    thread.waits.every((ms) => ms > 999 && ms <= 1000),
    `waits ${thread.waits.join(',')}`,
  );
  assert.equal(ctl[C_TICKS], 0);
});

test('the hand-back gate: past maxInflightBatches unacknowledged the loop stops taking frames, and resumes', () => {
  const { ctl, thread, loop, ring, push, ack } = setup();
  push(30);
  for (let i = 0; i < 40 && thread.posted.length < 5; i++) loop.turn();
  assert.equal(thread.posted.length, 5, 'posts up to the gate (4 in flight + the one that crosses it)');
  const depth = ring.depth();
  for (let i = 0; i < 10; i++) loop.turn();
  assert.equal(thread.posted.length, 5, 'nothing more while main is not acknowledging');
  assert.equal(ring.depth(), depth, 'frames stay in the lane');
  assert.ok(ctl[C_STALLS]! > 0);
  ack(5);
  for (let i = 0; i < 10; i++) loop.turn();
  assert.ok(thread.posted.length > 5, 'resumes once main caught up');
});

test('a new hand-back port (the I/O thread was replaced): batches owed to the old one are written off', () => {
  const { thread, loop, push } = setup();
  push(30);
  for (let i = 0; i < 40 && thread.posted.length < 5; i++) loop.turn();
  assert.equal(thread.posted.length, 5, 'gated: the reader of the old port died and acknowledged none');
  const port = { name: 'new hand-back port' };
  thread.inbox.push({ op: 'handback', port } as unknown as PacerCommand); // a plain object stands in for the MessagePort
  for (let i = 0; i < 10; i++) loop.turn();
  assert.deepEqual(thread.handbacks, [port], 'the loop switched ports');
  assert.ok(thread.posted.length > 5, 'and posts again without an acknowledgement of the lost batches');
});

test('the batch and tick counters run through the int32 wrap without stopping the pacer', () => {
  const { ctl, thread, loop, push, ack, tickErrors } = setup({}, WRAP - 3);
  push(40);
  for (let i = 0; i < 60; i++) {
    loop.turn();
    ack(); // main keeps up: the gate must stay open across the wrap
  }
  assert.ok(thread.posted.length >= 20, `posted ${thread.posted.length} batches across the wrap`);
  assert.ok(ctl[C_BATCHES]! < 0 && ctl[C_TICKS]! < 0, 'both words wrapped to negative int32');
  assert.equal(ctl[C_STALLS], WRAP - 3, 'never gated');
  assert.equal(tickErrors().length, (ctl[C_TICKS]! - (WRAP - 3)) | 0, 'every tick logged across the wrap');
});

test('batch buffers given back are reused: the steady state allocates none', () => {
  const { thread, core, loop, push, ack } = setup();
  push(100);
  for (let i = 0; i < 20; i++) {
    loop.turn();
    ack();
    // main gives each batch back once it has sent from it
    while (thread.posted.length > 0) thread.inbox.push(thread.posted.shift()!);
  }
  const warm = core.batch.allocations;
  for (let i = 0; i < 100; i++) {
    loop.turn();
    ack();
    while (thread.posted.length > 0) thread.inbox.push(thread.posted.shift()!);
  }
  assert.ok(warm <= 2, `allocations while warming up: ${warm}`);
  assert.equal(core.batch.allocations, warm, 'no allocation in 100 wakes');
});

test('main waking the pacer early (notify) does not cost a tick or move a deadline', () => {
  const { ctl, thread, loop, push, ack, tickErrors } = setup();
  push(20);
  thread.interrupts.push(3, 1, 7, 2, 2); // main notifies in the middle of several sleeps
  let turns = 0;
  while ((ctl[C_TICKS]! | 0) < 8 && turns++ < 100) {
    loop.turn();
    ack();
  }
  assert.equal(ctl[C_TICKS], 8);
  assert.equal(thread.interrupts.length, 0, 'every interruption happened');
  assert.ok(
    tickErrors().every((us) => us >= 0 && us <= 2),
    `tick errors µs ${tickErrors().join(',')}`,
  );
  // A tick ends the wait for a deadline; that deadline's frame is built by the next turn's step.
  assert.equal(thread.posted.length, 7, 'one frame per deadline, none early');
});

test('adaptive spin: the spin follows the overshoot + 50 µs, never below spinMinUs nor above its ceiling', () => {
  const { ctl, thread, loop, push, ack, tickErrors } = setup({
    adaptiveSpin: true,
    spinUs: 300,
    spinMinUs: 100,
    spinMaxUs: 300,
  });
  const run = (turns: number): void => {
    for (let i = 0; i < turns; i++) {
      push(1, i);
      loop.turn();
      ack();
    }
  };
  const spin = (): number => ctl[C_SPIN_US]!;
  thread.overshootMs = 0.01; // an idle core with a small timer slack: 10 µs late
  run(40);
  assert.equal(spin(), 100, 'shrunk from 300 to the floor, spinMinUs (10 µs + 50 µs is below it)');
  thread.overshootMs = 0.2;
  run(80);
  // The fake clock adds 1 µs per read to what the loop measures.
  assert.ok(spin() >= 250 && spin() <= 253, `spin ${spin()} µs = 200 µs overshoot + 50 µs margin`);
  thread.overshootMs = 1.2; // a loaded machine: the thread wakes 1.2 ms late
  run(4);
  assert.equal(spin(), 300, 'two late wake-ups lift it to the ceiling, spinUs, and not beyond');
  thread.overshootMs = 0.01;
  run(70);
  assert.equal(spin(), 100, 'once the late ones leave the window of 64, it shrinks again');
  // A tick is late only by the part of the overshoot the spin did not cover.
  assert.ok(
    tickErrors().every((us) => us >= 0 && us <= 1200),
    `tick errors µs ${tickErrors().join(',')}`,
  );
});

test('a fixed spin (spinMinUs = spinUs, not adaptive) stays put whatever the overshoot', () => {
  const { ctl, thread, loop, push, ack } = setup({ spinUs: 300 });
  thread.overshootMs = 0.01;
  for (let i = 0; i < 40; i++) {
    push(1, i);
    loop.turn();
    ack();
  }
  assert.equal(ctl[C_SPIN_US], 300);
});

test("a reused lane's open comes without its buffer: the loop paces it from the one it kept", () => {
  const { thread, loop, ring, push, ack } = setup();
  push(3);
  for (let i = 0; i < 4; i++) {
    loop.turn();
    ack();
  }
  const before = thread.posted.length;
  assert.ok(before >= 2, `first call paced (${before} batches)`);
  // Main: the call ends and the next one gets the same lane; the pacer was sent its buffer already.
  thread.inbox.push({ op: 'close', lane: 0 });
  ring.clear();
  ring.newOwner();
  thread.inbox.push({ op: 'open', lane: 0, owner: ring.owner, wire: wireFor('MZ2') });
  push(3, 100);
  for (let i = 0; i < 8; i++) {
    loop.turn();
    ack();
  }
  const frames = thread.posted.slice(before).flatMap((b) => {
    const out: string[] = [];
    readBatch(b, {
      frame: (_l, _g, _o, wire) => {
        out.push(messageText(wire));
        return false;
      },
      mark: () => undefined,
    });
    return out;
  });
  assert.equal(frames.length, 3, 'the second call played all its frames');
  assert.ok(
    frames.every((f) => f.includes('"streamSid":"MZ2"')),
    'under its own streamSid',
  );
});

test('an open without a buffer for a lane this worker never got is refused, not guessed', () => {
  const { thread, loop } = setup();
  thread.inbox.push({ op: 'open', lane: 5, owner: 1, wire: wireFor('MZ5') });
  assert.throws(() => loop.turn(), /open of lane 5 without its buffer/);
});

test("the spin reads the clock a few dozen times a wake, not back to back (each read allocates on the pacer's heap)", () => {
  const { ctl, thread, loop, push, ack, tickErrors } = setup();
  thread.readStepMs = 0.00006; // 60 ns a read, 5 ns a busy iteration: as on this project's VM
  thread.busyStepMs = 0.000005;
  push(40);
  const profile = new Float64Array(ctl.buffer, PROFILE_BYTE, PROFILE_FIELDS);
  const readsPerTurn: number[] = [];
  for (let i = 0; i < 30; i++) {
    const before = thread.reads;
    loop.turn();
    ack();
    readsPerTurn.push(thread.reads - before);
  }
  assert.ok(tickErrors().length >= 20, `ticks ${tickErrors().length}`);
  assert.ok(
    tickErrors().every((us) => us >= 0 && us <= 1),
    `tick errors µs ${tickErrors().join(',')}`,
  );
  // Back to back, a 300 µs spin alone would be 5000 reads.
  assert.ok(Math.max(...readsPerTurn.slice(2)) <= 60, `clock reads per turn ${readsPerTurn.join(',')}`);
  assert.equal(profile[P_CLOCK_READS], thread.reads);
});
