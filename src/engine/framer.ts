import type { AudioFormat } from '../codec/audio-format.js';

export interface FrameSink {
  /** Take the frame at `src[offset..offset+frameBytes)`; it must be copied before returning. */
  pushFrame(src: Uint8Array, offset: number): void;
}

/**
 * Cuts wire audio of any length into exact 20 ms frames of the call's format (160 bytes of G.711,
 * 320/640/960 of L16), carrying the remainder to the next write. Whole frames are passed to the
 * sink straight from the caller's buffer, so only the remainder is ever copied here.
 */
export class Framer {
  private readonly tail: Uint8Array;
  private readonly frameBytes: number;
  private readonly silence: number;
  private fill = 0;

  constructor(
    private readonly sink: FrameSink,
    format: AudioFormat,
  ) {
    this.frameBytes = format.frameBytes;
    this.silence = format.silence;
    this.tail = new Uint8Array(format.frameBytes);
  }

  /** Bytes held back until the next write completes a frame. */
  get pending(): number {
    return this.fill;
  }

  write(bytes: Uint8Array): void {
    const FRAME_BYTES = this.frameBytes;
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

  /** Pad the remainder with the format's silence and emit it; false when nothing was pending. */
  flush(): boolean {
    if (this.fill === 0) return false;
    this.tail.fill(this.silence, this.fill);
    this.sink.pushFrame(this.tail, 0);
    this.fill = 0;
    return true;
  }

  reset(): void {
    this.fill = 0;
  }
}
