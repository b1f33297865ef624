/**
 * A real consumer thread for the lane ring tests: takes frames with LaneReader exactly as the
 * pacer does (read in place, then commit with compareExchange) and records (seq, gen) of every
 * committed frame into shared memory.
 */
import { workerData } from 'node:worker_threads';
import { LaneReader } from '../../src/ring/lane-reader.js';
import { KIND_FRAME } from '../../src/ring/lane-layout.js';
import { readStamp } from './seeded.js';
import { W_COUNT, W_DONE, W_TORN } from './ring-consumer-control.js';

const { lane, control, results } = workerData as {
  lane: SharedArrayBuffer;
  control: SharedArrayBuffer;
  results: SharedArrayBuffer;
};
const reader = new LaneReader(lane);
const ctl = new Int32Array(control);
const out = new Int32Array(results);
let count = 0;
let torn = 0;

for (;;) {
  if (!reader.begin()) {
    if (Atomics.load(ctl, W_DONE) === 1 && reader.isEmpty()) break;
    continue;
  }
  const kind = reader.kind();
  if (kind !== KIND_FRAME) continue;
  const seq = readStamp(reader.bytes, reader.dataOffset());
  const gen = reader.gen();
  if (!reader.commit()) continue; // dropped or cleared while we read: discard the copy
  if (seq < 0) torn++;
  out[count * 2] = seq;
  out[count * 2 + 1] = gen;
  count++;
}
Atomics.store(ctl, W_TORN, torn);
Atomics.store(ctl, W_COUNT, count);
