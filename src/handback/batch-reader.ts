import { KIND_MARK } from '../ring/lane-layout.js';
import {
  BATCH_HEADER_BYTES,
  FRAMES_SHIFT,
  RECORD_HEADER_BYTES,
  R_GEN,
  R_KIND,
  R_LANE,
  R_OWNER,
  R_VALUE,
} from '../pacer/pacer-layout.js';

export interface BatchVisitor {
  /**
   * `wire` is a view into the batch (no copy), valid until the batch is given back for reuse.
   * Return true if something still holds the view after the call (a socket that queued it).
   * `frames`: the 20 ms frames in the message (1 but for batching carriers).
   */
  frame(lane: number, gen: number, owner: number, wire: Buffer, frames: number): boolean;
  mark(lane: number, gen: number, owner: number, markId: number): void;
}

/** Walk the records of one hand-back batch (format in pacer-layout.ts); true if a frame view is still held. */
export function readBatch(batch: ArrayBuffer, visit: BatchVisitor): boolean {
  const words = new Int32Array(batch);
  const bytes = Buffer.from(batch);
  const used = words[0]!;
  let held = false;
  let at = BATCH_HEADER_BYTES;
  while (at < used) {
    const w = at >> 2;
    const lane = words[w + R_LANE]!;
    const gen = words[w + R_GEN]!;
    const value = words[w + R_VALUE]!;
    const owner = words[w + R_OWNER]!;
    const start = at + RECORD_HEADER_BYTES;
    const kind = words[w + R_KIND]!;
    if (kind === KIND_MARK) {
      visit.mark(lane, gen, owner, value);
      at = start;
    } else {
      if (visit.frame(lane, gen, owner, bytes.subarray(start, start + value), kind >>> FRAMES_SHIFT || 1)) held = true;
      at = (start + value + 3) & ~3;
    }
  }
  return held;
}
