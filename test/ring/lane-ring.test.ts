import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import { LanePool } from '../../src/engine/lane-pool.js';
import { KIND_FRAME, KIND_MARK, MAX_QUEUE_FRAMES } from '../../src/ring/lane-layout.js';
import { LaneReader } from '../../src/ring/lane-reader.js';
import { DROPPED_FRAME, DROPPED_MARK, DROPPED_NONE, LaneRing } from '../../src/ring/lane-ring.js';
import { W_COUNT, W_DONE, W_TORN } from '../helpers/ring-consumer-control.js';
import { readStamp, seeded, stampedFrame } from '../helpers/seeded.js';

/** Drain a lane on this thread the way the pacer does; returns the seqs taken. */
function drain(ring: LaneRing): { seqs: number[]; marks: number[] } {
  const r = new LaneReader(ring.sab);
  const seqs: number[] = [];
  const marks: number[] = [];
  while (r.begin()) {
    const kind = r.kind();
    if (kind === KIND_FRAME) seqs.push(readStamp(r.bytes, r.dataOffset()));
    else if (kind === KIND_MARK) marks.push(r.value());
    assert.ok(r.commit());
  }
  return { seqs, marks };
}

test('a bound outside 1..1024 is refused with a coded error naming the limit', () => {
  for (const bad of [0, -1, 1.5, MAX_QUEUE_FRAMES + 1, Number.NaN]) {
    assert.throws(
      () => new LaneRing(bad),
      (err: unknown) =>
        err instanceof PtimeError && err.code === ErrorCodes.QUEUE_BOUND && /1 to 1024/.test(err.message),
    );
  }
  assert.equal(new LaneRing(MAX_QUEUE_FRAMES).bound, MAX_QUEUE_FRAMES);
});

test('overflow drops the oldest, keeps the newest `bound` frames and counts every drop', () => {
  const ring = new LaneRing(120);
  let dropped = 0;
  for (let seq = 0; seq < 1000; seq++) if (ring.pushFrame(stampedFrame(seq), 0) === DROPPED_FRAME) dropped++;
  assert.equal(ring.depth(), 120);
  assert.equal(dropped, 880);
  assert.equal(ring.drops, 880);
  assert.deepEqual(
    drain(ring).seqs,
    Array.from({ length: 120 }, (_, i) => 880 + i),
  );
});

test('a mark that falls off a full queue is reported, not lost', () => {
  const ring = new LaneRing(4);
  assert.equal(ring.pushMark(77), DROPPED_NONE);
  for (let seq = 0; seq < 3; seq++) assert.equal(ring.pushFrame(stampedFrame(seq), 0), DROPPED_NONE);
  assert.equal(ring.pushFrame(stampedFrame(3), 0), DROPPED_MARK);
  assert.equal(ring.droppedMarkId, 77);
  assert.equal(ring.drops, 0, 'a dropped mark is not a dropped frame');
});

test('clear() empties the lane in one step and starts a new generation', () => {
  const ring = new LaneRing(120);
  for (let seq = 0; seq < 50; seq++) ring.pushFrame(stampedFrame(seq), 0);
  const gen = ring.generation;
  assert.equal(ring.clear(), 50);
  assert.equal(ring.depth(), 0);
  assert.notEqual(ring.generation, gen);
  ring.pushFrame(stampedFrame(999), 0);
  const r = new LaneReader(ring.sab);
  assert.ok(r.begin());
  assert.equal(r.gen(), ring.generation, 'frames written after clear carry the new generation');
  assert.deepEqual(drain(ring).seqs, [999]);
});

test('lane reuse: the next call starts empty on a new generation', () => {
  const pool = new LanePool(120, 1);
  const a = pool.acquire()!;
  for (let seq = 0; seq < 40; seq++) a.ring.pushFrame(stampedFrame(seq), 0);
  a.ring.pushMark(5);
  const oldGen = a.ring.generation;
  pool.release(a);
  const b = pool.acquire()!;
  assert.equal(b.index, a.index, 'the lane is recycled');
  assert.equal(b.ring.depth(), 0);
  assert.notEqual(b.ring.generation, oldGen);
  b.ring.pushFrame(stampedFrame(1000), 0);
  assert.deepEqual(drain(b.ring), { seqs: [1000], marks: [] });
});

async function runConcurrent(seed: number, total: number, clearEvery: number): Promise<void> {
  const ring = new LaneRing(120);
  const control = new SharedArrayBuffer(64);
  const results = new SharedArrayBuffer(total * 8);
  const ctl = new Int32Array(control);
  const worker = new Worker(new URL('../helpers/ring-consumer-worker.js', import.meta.url), {
    workerData: { lane: ring.sab, control, results },
  });
  await once(worker, 'online');
  const rand = seeded(seed);
  const frame = new Uint8Array(160);
  let pushed = 0;
  let cleared = 0;
  let bursts = 0;
  while (pushed < total) {
    // Bursts from 1 to 400 frames: small ones interleave with the consumer, big ones overflow.
    const burst = Math.min(total - pushed, 1 + Math.floor(rand() * 400));
    for (let i = 0; i < burst; i++) ring.pushFrame(stampedFrame(pushed++, frame), 0);
    if (clearEvery > 0 && ++bursts % clearEvery === 0) cleared += ring.clear();
    if (rand() < 0.3) {
      // Let the consumer catch up sometimes, so both the empty and the full regime are exercised.
      const until = Date.now() + 50;
      while (ring.depth() > 0 && Date.now() < until);
    }
  }
  Atomics.store(ctl, W_DONE, 1);
  await once(worker, 'exit');
  const count = Atomics.load(ctl, W_COUNT);
  const out = new Int32Array(results);
  assert.equal(Atomics.load(ctl, W_TORN), 0, 'no torn frame was ever committed');
  let prevSeq = -1;
  let prevGen = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const seq = out[i * 2]!;
    const gen = out[i * 2 + 1]!;
    assert.ok(seq > prevSeq, `frames arrive in order without duplicates (${prevSeq} then ${seq})`);
    assert.ok(gen >= prevGen, 'no frame of an older generation follows a newer one');
    prevSeq = seq;
    prevGen = gen;
  }
  // Every gap in the sequence is accounted for by a counted drop or a clear.
  assert.equal(
    count + ring.drops + cleared,
    total,
    `received ${count} + dropped ${ring.drops} + cleared ${cleared} = ${total}`,
  );
  assert.ok(total / ring.slots > 100, 'many trips round the ring');
  assert.ok(count > 0 && ring.drops > 0, 'both consumption and drop-oldest were exercised');
}

test('a worker consumer and a main producer: in order, every gap counted, no torn frame', async () => {
  for (const seed of [1, 2, 3]) await runConcurrent(seed, 100_000, 0);
});

test('clear() under concurrency: gaps counted, generations never go backwards', async () => {
  for (const seed of [11, 12]) await runConcurrent(seed, 100_000, 7);
});
