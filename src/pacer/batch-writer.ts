import { BATCH_HEADER_BYTES, RECORD_HEADER_BYTES, R_GEN, R_KIND, R_LANE, R_OWNER, R_VALUE } from './pacer-layout.js';

/**
 * Builds hand-back batches in place, in buffers that main transfers back once it has sent from
 * them (pacer-layout.ts), so the steady state allocates nothing on either thread: an ArrayBuffer
 * allocated here and freed on main, every wake, is how a worker's malloc arena grows.
 */
export class BatchWriter {
  private buf: ArrayBuffer;
  private u8: Uint8Array;
  private i32: Int32Array;
  private at = BATCH_HEADER_BYTES;
  private mark = BATCH_HEADER_BYTES;
  private readonly free: ArrayBuffer[] = [];
  private capacity: number;
  /** Buffers allocated so far (initial, pool misses and growth). */
  allocations = 0;

  /**
   * `maxFree`: returned buffers kept for reuse. At least every buffer that can be out at once (in
   * flight and parked), so none is ever dropped: one dropped here is freed on this thread, and the
   * pacer allocates its replacement on its own, so every long main stall (which returns many
   * buffers at once) would grow the pacer thread's malloc arena by another step that is never given
   * back.
   */
  constructor(
    private readonly maxFree = 130,
    initialBytes = 64 * 1024,
  ) {
    this.capacity = initialBytes;
    this.buf = this.allocate();
    this.u8 = new Uint8Array(this.buf);
    this.i32 = new Int32Array(this.buf);
  }

  get bytes(): Uint8Array {
    return this.u8;
  }

  /** Start a record with room for `payloadBytes`; returns the offset where its payload goes. */
  begin(lane: number, gen: number, kind: number, value: number, owner: number, payloadBytes: number): number {
    this.ensure(RECORD_HEADER_BYTES + payloadBytes + 3);
    this.mark = this.at;
    const w = this.at >> 2;
    this.i32[w + R_LANE] = lane;
    this.i32[w + R_GEN] = gen;
    this.i32[w + R_KIND] = kind;
    this.i32[w + R_VALUE] = value;
    this.i32[w + R_OWNER] = owner;
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

  /** The batch to transfer (its length in word 0), or null when empty; the writer moves to a free buffer. */
  take(): ArrayBuffer | null {
    if (this.at === BATCH_HEADER_BYTES) return null;
    this.i32[0] = this.at;
    const out = this.buf;
    this.use(this.free.pop() ?? this.allocate());
    return out;
  }

  /** A batch main has finished with. */
  recycle(buf: ArrayBuffer): void {
    // Smaller than today's capacity means it predates a growth: let it go.
    if (buf.byteLength === this.capacity && this.free.length < this.maxFree) this.free.push(buf);
  }

  private use(buf: ArrayBuffer): void {
    this.buf = buf;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.at = BATCH_HEADER_BYTES;
    this.mark = BATCH_HEADER_BYTES;
  }

  private allocate(): ArrayBuffer {
    this.allocations++;
    return new ArrayBuffer(this.capacity);
  }

  private ensure(extra: number): void {
    if (this.at + extra <= this.capacity) return;
    while (this.capacity < this.at + extra) this.capacity *= 2;
    this.free.length = 0;
    const old = this.u8.subarray(0, this.at);
    const at = this.at;
    const mark = this.mark;
    this.use(this.allocate());
    this.u8.set(old);
    this.at = at;
    this.mark = mark;
  }
}
