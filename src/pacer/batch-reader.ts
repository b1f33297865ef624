import { KIND_MARK } from '../ring/lane-layout.js';
import { RECORD_HEADER_BYTES, R_GEN, R_KIND, R_LANE, R_VALUE } from './pacer-layout.js';

export interface BatchVisitor {
  /** `wire` is a view into the batch (no copy): valid as long as the batch is not reused. */
  frame(lane: number, gen: number, wire: Buffer): void;
  mark(lane: number, gen: number, markId: number): void;
}

/** Walk the records of one hand-back batch (format in pacer-layout.ts). */
export function readBatch(batch: ArrayBuffer, visit: BatchVisitor): void {
  const words = new Int32Array(batch);
  const bytes = Buffer.from(batch);
  let at = 0;
  while (at < batch.byteLength) {
    const w = at >> 2;
    const lane = words[w + R_LANE]!;
    const gen = words[w + R_GEN]!;
    const value = words[w + R_VALUE]!;
    const start = at + RECORD_HEADER_BYTES;
    if (words[w + R_KIND] === KIND_MARK) {
      visit.mark(lane, gen, value);
      at = start;
    } else {
      visit.frame(lane, gen, bytes.subarray(start, start + value));
      at = (start + value + 3) & ~3;
    }
  }
}
