/**
 * What a Twilio-like receiver would make of one call's outbound frames: pure functions over the
 * arrival times (ms, ascending; frame k = the k-th media message received) and the indices where
 * a talk spurt starts (0 always, plus the first frame after each `clear` the receiver saw).
 *
 * Spurts matter because silence between them is not lateness: the playout clock starts afresh at
 * the first frame of each spurt, so every schedule below is measured per spurt.
 */
import { ErrorCodes, PtimeError } from '../errors.js';
import { FRAME_MS } from '../ring/lane-layout.js';
import type { Percentiles } from './report-types.js';

export { FRAME_MS };

/**
 * The spurt starts that fall inside `n` frames, ascending, deduplicated, always beginning at 0.
 * Callers may pass them unsorted or out of range (a `clear` after the last frame); we tidy rather
 * than throw because the receiver records them as it goes.
 */
function spurtStartsWithin(n: number, spurtStarts: readonly number[]): number[] {
  const inside = spurtStarts.filter((s) => Number.isInteger(s) && s > 0 && s < n);
  inside.sort((a, b) => a - b);
  const out = [0];
  for (const s of inside) if (s !== out[out.length - 1]) out.push(s);
  return out;
}

/** Calls `visit(k, spurtStart)` for each frame in order. */
function eachFrame(
  arrivals: ArrayLike<number>,
  spurtStarts: readonly number[],
  visit: (k: number, spurtStart: number) => void,
): void {
  const starts = spurtStartsWithin(arrivals.length, spurtStarts);
  let next = 1; // index into `starts` of the next spurt to begin
  let current = 0;
  for (let k = 0; k < arrivals.length; k++) {
    if (next < starts.length && starts[next] === k) current = starts[next++]!;
    visit(k, current);
  }
}

/**
 * Frames a playout with a `bufferMs` jitter buffer would have to play late. The clock anchors at
 * each spurt's first frame (it plays at arrival + bufferMs, later frames every FRAME_MS after).
 * A frame arriving after its play time is late, and the playout re-anchors on it, as a real
 * jitter buffer does after an underrun: one stall costs one late frame, not every frame after it.
 * Arriving exactly on time is not late; arriving early just waits in the buffer.
 */
export function lateFrames(
  arrivals: ArrayLike<number>,
  spurtStarts: readonly number[],
  bufferMs: number,
): { frames: number; late: number } {
  if (!Number.isFinite(bufferMs) || bufferMs < 0) {
    throw new PtimeError(ErrorCodes.INVALID_OPTION, `bufferMs must be a finite number >= 0, got ${bufferMs}`);
  }
  let late = 0;
  let anchorIndex = 0;
  let anchorPlay = 0;
  let spurt = -1;
  eachFrame(arrivals, spurtStarts, (k, spurtStart) => {
    const arrival = arrivals[k]!;
    if (spurtStart !== spurt) {
      spurt = spurtStart;
      anchorIndex = k;
      anchorPlay = arrival + bufferMs;
      return;
    }
    if (arrival > anchorPlay + (k - anchorIndex) * FRAME_MS) {
      late++;
      anchorIndex = k;
      anchorPlay = arrival + bufferMs;
    }
  });
  return { frames: arrivals.length, late };
}

/**
 * Each spurt's ideal schedule: frame k due at phase + (k − spurtStart) * FRAME_MS, where the phase
 * is the spurt's earliest-running one (min of arrival − offset * FRAME_MS), i.e. the latest
 * schedule no frame is ahead of. Anchoring at the first frame instead would charge a sender with a
 * lead (several frames at once, then one per 20 ms) a constant error it does not have; a steadily
 * slow sender or one that falls behind for good still shows its full drift.
 */
function spurtPhases(arrivals: ArrayLike<number>, spurtStarts: readonly number[]): Map<number, number> {
  const phase = new Map<number, number>();
  eachFrame(arrivals, spurtStarts, (k, s) => {
    const p = arrivals[k]! - (k - s) * FRAME_MS;
    const seen = phase.get(s);
    if (seen === undefined || p < seen) phase.set(s, p);
  });
  return phase;
}

/** |arrival − ideal| per frame on the spurt's absolute schedule (no re-anchoring: drift shows). */
export function scheduleErrors(arrivals: ArrayLike<number>, spurtStarts: readonly number[]): Float64Array {
  const out = new Float64Array(arrivals.length);
  const phase = spurtPhases(arrivals, spurtStarts);
  eachFrame(arrivals, spurtStarts, (k, s) => {
    out[k] = Math.abs(arrivals[k]! - (phase.get(s)! + (k - s) * FRAME_MS));
  });
  return out;
}

/** Inter-arrival gaps inside spurts; the silence before a spurt is not a gap in its pacing. */
export function intervals(arrivals: ArrayLike<number>, spurtStarts: readonly number[]): Float64Array {
  const gaps: number[] = [];
  eachFrame(arrivals, spurtStarts, (k, s) => {
    if (k > s) gaps.push(arrivals[k]! - arrivals[k - 1]!);
  });
  return Float64Array.from(gaps);
}

/** Last arrival minus its ideal time on the last spurt's absolute schedule; 0 with no frames. */
export function finalDrift(arrivals: ArrayLike<number>, spurtStarts: readonly number[]): number {
  const n = arrivals.length;
  if (n === 0) return 0;
  const starts = spurtStartsWithin(n, spurtStarts);
  const s = starts[starts.length - 1]!;
  return arrivals[n - 1]! - (spurtPhases(arrivals, spurtStarts).get(s)! + (n - 1 - s) * FRAME_MS);
}

/**
 * Exact percentiles by the nearest-rank definition: the p-th percentile of n sorted values is the
 * value at 1-based rank ceil(p/100 · n), so it is always an observed value (no interpolation).
 * Ranks are computed in per-mille integers so 99.9 % of 1000 is rank 999, not 999.0000000000001.
 * NaN values are ignored; an empty input gives all zeros.
 */
export function percentiles(values: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(values)
    .filter((v) => !Number.isNaN(v))
    .sort();
  const n = sorted.length;
  if (n === 0) return { p50: 0, p99: 0, p999: 0, max: 0, count: 0 };
  const at = (perMille: number): number => sorted[Math.max(1, Math.ceil((perMille * n) / 1000)) - 1]!;
  return { p50: at(500), p99: at(990), p999: at(999), max: sorted[n - 1]!, count: n };
}

/**
 * Counts per bucket, keyed by the bucket's upper bound: bucket b holds values in
 * ((b−1)·bucketMs, b·bucketMs], the first also holds 0 and below. Bounds run up to the first
 * multiple of bucketMs ≥ maxMs, and that last bucket also catches everything above maxMs, so a
 * stall lands in a visible "maxMs and over" bar instead of being dropped. Every bucket is listed,
 * empty ones too, so plots need no gap filling.
 */
export function histogram(values: ArrayLike<number>, bucketMs: number, maxMs: number): [number, number][] {
  if (!(bucketMs > 0) || !Number.isFinite(bucketMs) || !(maxMs > 0) || !Number.isFinite(maxMs)) {
    throw new PtimeError(
      ErrorCodes.INVALID_OPTION,
      `histogram needs finite bucketMs and maxMs > 0, got ${bucketMs}, ${maxMs}`,
    );
  }
  const buckets = Math.ceil(maxMs / bucketMs);
  if (buckets > 1_000_000) {
    throw new PtimeError(ErrorCodes.INVALID_OPTION, `histogram of ${buckets} buckets is over the 1000000 cap`);
  }
  const counts = new Float64Array(buckets);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    const b = Math.min(buckets, Math.max(1, Math.ceil(v / bucketMs)));
    counts[b - 1]!++;
  }
  return Array.from(counts, (c, i): [number, number] => [(i + 1) * bucketMs, c]);
}
