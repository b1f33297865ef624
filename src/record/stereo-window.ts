/**
 * The part of a recording not yet written: interleaved stereo PCM16 from sample `base` on. Each
 * channel's audio is put at its position (silence where none was put); `take(upTo)` hands out
 * [base, upTo) for the file and moves `base`. Audio before `base` (it came too late) or more than
 * `maxAheadSamples` past it is dropped and counted, so memory stays bounded whatever main sends.
 */
export class StereoWindow {
  private buf: Int16Array;
  base = 0;
  /** Samples dropped: too late (before base) or too far ahead. */
  dropped = 0;

  constructor(
    private readonly maxAheadSamples: number,
    initialSamples = 4096,
  ) {
    this.buf = new Int16Array(initialSamples * 2);
  }

  /** Put `pcm` on `channel` (0 or 1) starting at sample `at`. */
  put(channel: number, at: number, pcm: Int16Array): void {
    let from = 0;
    if (at < this.base) {
      from = this.base - at;
      this.dropped += Math.min(from, pcm.length);
      if (from >= pcm.length) return;
    }
    const start = at + from - this.base;
    let end = at + pcm.length - this.base;
    if (end > this.maxAheadSamples) {
      this.dropped += end - Math.max(start, this.maxAheadSamples);
      end = this.maxAheadSamples;
      if (end <= start) return;
    }
    this.ensure(end);
    const buf = this.buf;
    for (let i = start, j = from; i < end; i++, j++) buf[i * 2 + channel] = pcm[j]!;
  }

  /** Interleaved s16le bytes of [base, upTo), silence where nothing was put; base becomes upTo. */
  take(upTo: number): Uint8Array {
    const n = Math.max(0, upTo - this.base);
    if (n === 0) return new Uint8Array(0);
    const words = n * 2;
    const out = new Int16Array(words);
    const buf = this.buf;
    if (words >= buf.length) {
      out.set(buf);
      buf.fill(0);
    } else {
      out.set(buf.subarray(0, words));
      buf.copyWithin(0, words);
      buf.fill(0, buf.length - words);
    }
    this.base = upTo;
    // WAV is little-endian, as every platform Node runs on is.
    return new Uint8Array(out.buffer);
  }

  private ensure(samples: number): void {
    if (samples * 2 <= this.buf.length) return;
    let size = this.buf.length;
    while (size < samples * 2) size *= 2;
    const next = new Int16Array(size);
    next.set(this.buf);
    this.buf = next;
  }
}
