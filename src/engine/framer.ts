import { FRAME_BYTES, MULAW_SILENCE } from '../ring/lane-layout.js';

export interface FrameSink {
  /** Take the frame at `src[offset..offset+160)`; it must be copied before returning. */
  pushFrame(src: Uint8Array, offset: number): void;
}

/**
 * Cuts mu-law chunks of any length into exact 160-byte frames, carrying the remainder to the next
 * write. Whole frames are passed to the sink straight from the caller's buffer, so only the
 * remainder is ever copied here.
 */
export class Framer {
  private readonly tail = new Uint8Array(FRAME_BYTES);
  private fill = 0;

  constructor(private readonly sink: FrameSink) {}

  /** Bytes held back until the next write completes a frame. */
  get pending(): number {
    return this.fill;
  }

  write(bytes: Uint8Array): void {
    let i = 0;
    if (this.fill > 0) {
      i = Math.min(FRAME_BYTES - this.fill, bytes.length);
      this.tail.set(bytes.subarray(0, i), this.fill);
      this.fill += i;
      if (this.fill < FRAME_BYTES) return;
      this.sink.pushFrame(this.tail, 0);
      this.fill = 0;
    }
    for (; i + FRAME_BYTES <= bytes.length; i += FRAME_BYTES) this.sink.pushFrame(bytes, i);
    if (i < bytes.length) {
      this.tail.set(bytes.subarray(i), 0);
      this.fill = bytes.length - i;
    }
  }

  /** Pad the remainder with mu-law silence (0xFF) and emit it; false when nothing was pending. */
  flush(): boolean {
    if (this.fill === 0) return false;
    this.tail.fill(MULAW_SILENCE, this.fill);
    this.sink.pushFrame(this.tail, 0);
    this.fill = 0;
    return true;
  }

  reset(): void {
    this.fill = 0;
  }
}
