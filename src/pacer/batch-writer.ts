import { RECORD_HEADER_BYTES, R_GEN, R_KIND, R_LANE, R_VALUE } from './pacer-layout.js';

/**
 * Builds one hand-back batch in a reusable scratch buffer, then detaches a right-sized copy for
 * transfer. One allocation per batch, none per frame.
 */
export class BatchWriter {
  private buf: ArrayBuffer;
  private u8: Uint8Array;
  private i32: Int32Array;
  private at = 0;
  private mark = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = new ArrayBuffer(initialBytes);
    this.u8 = new Uint8Array(this.buf);
    this.i32 = new Int32Array(this.buf);
  }

  get bytes(): Uint8Array {
    return this.u8;
  }

  /** Start a record with room for `payloadBytes`; returns the offset where its payload goes. */
  begin(lane: number, gen: number, kind: number, value: number, payloadBytes: number): number {
    this.ensure(RECORD_HEADER_BYTES + payloadBytes + 3);
    this.mark = this.at;
    const w = this.at >> 2;
    this.i32[w + R_LANE] = lane;
    this.i32[w + R_GEN] = gen;
    this.i32[w + R_KIND] = kind;
    this.i32[w + R_VALUE] = value;
    return this.at + RECORD_HEADER_BYTES;
  }

  /** Finish the record whose payload ends at `end`. */
  end(end: number): void {
    this.at = (end + 3) & ~3;
  }

  /** Forget the record begun last (its slot was dropped or cleared while we read it). */
  abandon(): void {
    this.at = this.mark;
  }

  /** The batch as a transferable ArrayBuffer, or null when empty; resets the writer. */
  take(): ArrayBuffer | null {
    if (this.at === 0) return null;
    const out = this.buf.slice(0, this.at);
    this.at = 0;
    return out;
  }

  private ensure(extra: number): void {
    if (this.at + extra <= this.u8.length) return;
    let size = this.u8.length * 2;
    while (size < this.at + extra) size *= 2;
    const next = new ArrayBuffer(size);
    new Uint8Array(next).set(this.u8.subarray(0, this.at));
    this.buf = next;
    this.u8 = new Uint8Array(next);
    this.i32 = new Int32Array(next);
  }
}
