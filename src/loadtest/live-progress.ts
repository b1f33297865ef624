import * as hdr from 'hdr-histogram-js';
import { FRAME_MS } from '../ring/lane-layout.js';
import type { LoadCall } from './load-call.js';

/**
 * Running figures for the progress line, updated incrementally from each call's new arrivals
 * (the final report recomputes everything exactly from the full arrival lists).
 */
export class LiveProgress {
  private readonly intervals = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 2,
  });
  private readonly seen = new Map<LoadCall, { next: number; anchorT: number; anchorK: number; spurt: number }>();
  private frames = 0;
  private late = 0;
  private lastFrames = 0;
  private lastAt = performance.now();

  update(calls: readonly LoadCall[]): { framesPerSec: number; p99Ms: number; latePct: number; calls: number } {
    let up = 0;
    for (const call of calls) {
      if (!call.closed) up++;
      const a = call.arrivals;
      let s = this.seen.get(call);
      if (!s) {
        s = { next: 0, anchorT: 0, anchorK: 0, spurt: 0 };
        this.seen.set(call, s);
      }
      for (; s.next < a.count; s.next++) {
        const k = s.next;
        const t = a.times[k]!;
        const newSpurt = s.spurt < a.spurtStarts.length && a.spurtStarts[s.spurt] === k;
        if (newSpurt) while (s.spurt < a.spurtStarts.length && a.spurtStarts[s.spurt]! <= k) s.spurt++;
        if (k === 0 || newSpurt) {
          s.anchorT = t;
          s.anchorK = k;
        } else {
          this.intervals.recordValue(Math.max(1, Math.round((t - a.times[k - 1]!) * 1000)));
          if (t > s.anchorT + (k - s.anchorK) * FRAME_MS) {
            this.late++;
            s.anchorT = t;
            s.anchorK = k;
          }
        }
        this.frames++;
      }
    }
    const now = performance.now();
    const framesPerSec = ((this.frames - this.lastFrames) * 1000) / (now - this.lastAt);
    this.lastFrames = this.frames;
    this.lastAt = now;
    return {
      framesPerSec,
      p99Ms: this.intervals.getValueAtPercentile(99) / 1000,
      latePct: this.frames ? (100 * this.late) / this.frames : 0,
      calls: up,
    };
  }
}
