import { FRAME_MS } from '../ring/lane-layout.js';

/**
 * A carrier's play-out, as the caller hears it: frames play back to back at real time in the
 * order they arrive, a frame that arrives while nothing plays starts at once (after an underrun),
 * a mark is reached once every frame before it has played, and a clear drops what is buffered.
 * It measures the truth `heard()` estimates: how much of the current utterance (the audio since
 * the last clear) had played when the clear arrived. Times are the caller's clock, in ms.
 */
export class RealtimeListener {
  /** Start times of the frames received since the last clear, in order. */
  private starts: number[] = [];
  /** When the audio buffered so far finishes playing. */
  private busyUntil = 0;

  /** A frame arrived at `t`: when it will start playing. */
  frame(t: number): number {
    const start = Math.max(t, this.busyUntil);
    this.busyUntil = start + FRAME_MS;
    this.starts.push(start);
    return start;
  }

  /** A mark arrived at `t`: when the carrier reaches it (every frame before it has played). */
  markReachedAt(t: number): number {
    return Math.max(t, this.busyUntil);
  }

  /** Ms played at `t` of the audio received since the last clear. */
  playedMs(t: number): number {
    let ms = 0;
    for (const s of this.starts) ms += Math.min(Math.max(t - s, 0), FRAME_MS);
    return ms;
  }

  /** A clear arrived at `t`: returns what had played of the audio since the previous clear, and drops the rest. */
  clear(t: number): number {
    const played = this.playedMs(t);
    this.starts = [];
    this.busyUntil = t;
    return played;
  }
}
