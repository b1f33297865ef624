import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import {
  FRAME_MS,
  finalDrift,
  histogram,
  intervals,
  lateFrames,
  percentiles,
  scheduleErrors,
} from '../../src/loadtest/playout-model.js';

/** n frames every `step` ms starting at `from`. */
const paced = (n: number, step = FRAME_MS, from = 0): number[] => Array.from({ length: n }, (_, k) => from + k * step);
const lateAt = (arrivals: number[], buffers: number[], starts: number[] = [0]): number[] =>
  buffers.map((b) => lateFrames(arrivals, starts, b).late);

test('perfectly paced frames: nothing late at any buffer, no error, every gap 20 ms', () => {
  const a = paced(50);
  // Frame k arrives at 20k and is due at 20k + buffer: never after its play time (equal is on time).
  assert.deepEqual(lateAt(a, [0, 20, 60]), [0, 0, 0]);
  assert.deepEqual(lateFrames(a, [0], 0), { frames: 50, late: 0 });
  assert.deepEqual([...scheduleErrors(a, [0])], new Array(50).fill(0));
  assert.deepEqual([...intervals(a, [0])], new Array(49).fill(20));
  assert.equal(finalDrift(a, [0]), 0);
});

test('one frame 30 ms late counts once, then playout re-anchors on it', () => {
  // Frames 0..2 on time, frame 3 due at 60 arrives at 90, the rest keep the new pace (110, 130, ...).
  const a = [0, 20, 40, 90, ...paced(6, 20, 110)];
  // buffer 0:  frame 3 plays at 60 < 90 -> late; re-anchor: frame 3 plays 90, frame 4 due 110 = arrival -> on time.
  // buffer 20: frame 3 plays at 80 < 90 -> late; re-anchor: frame 4 due 130, arrives 110 -> early.
  // buffer 60: frame 3 plays at 120 >= 90 -> on time, and so is everything after.
  assert.deepEqual(lateAt(a, [0, 20, 60]), [1, 1, 0]);
  // Without re-anchoring every frame after 3 would miss by 30 ms at buffer 0; the schedule error shows that.
  assert.deepEqual([...scheduleErrors(a, [0])], [0, 0, 0, 30, 30, 30, 30, 30, 30, 30]);
  assert.equal(finalDrift(a, [0]), 30);
});

test('a burst after a 200 ms gap: one late frame per stall, none once the buffer covers it', () => {
  // Frames 0..4 at 0..80, then nothing for 200 ms: frames 5..14 (due 100..280) all arrive at 280,
  // then frames 15..19 resume at 300..380.
  const a = [...paced(5), ...new Array(10).fill(280), ...paced(5, 20, 300)];
  // buffer 0:   frame 5 plays at 100 < 280 -> late; re-anchor at 280, frames 6..19 due 300..560, all early.
  // buffer 20:  frame 5 plays at 120 -> late; re-anchored at 300, the rest are early.
  // buffer 60:  frame 5 plays at 160 -> late.
  // buffer 179: frame 5 plays at 279 -> late (1 ms).
  // buffer 180: frame 5 plays at 280 = arrival -> on time; frame 14 is due 460, everything else earlier still.
  // buffer 200: frame 5 plays at 300 -> on time.
  assert.deepEqual(lateAt(a, [0, 20, 60, 179, 180, 200]), [1, 1, 1, 1, 0, 0]);
  // Gaps: 4 of 20, the 200 ms hole, 9 zeros in the burst, 20 back to pace, then 4 of 20.
  assert.deepEqual([...intervals(a, [0])], [20, 20, 20, 20, 200, ...new Array(9).fill(0), 20, 20, 20, 20, 20]);
});

test('early arrivals only wait in the buffer, they are never late', () => {
  // Arrival 20k − 5·(k mod 3): 0, 15, 30, 60, 75, 90, ... always at or before the ideal 20k.
  const jittery = Array.from({ length: 60 }, (_, k) => k * 20 - 5 * (k % 3));
  assert.deepEqual(lateAt(jittery, [0, 20, 60]), [0, 0, 0]);
  // A whole utterance handed over in one instant is also never late.
  assert.deepEqual(lateAt(new Array(100).fill(7), [0, 20, 60]), [0, 0, 0]);
});

test('the silence between two talk spurts is not lateness', () => {
  // Spurt A: frames 0..9 at 0..180; after a `clear`, spurt B: frames 10..19 at 5000..5180.
  const a = [...paced(10), ...paced(10, 20, 5000)];
  assert.deepEqual(lateAt(a, [0, 20, 60], [0, 10]), [0, 0, 0]);
  assert.deepEqual([...scheduleErrors(a, [0, 10])], new Array(20).fill(0));
  assert.deepEqual([...intervals(a, [0, 10])], new Array(18).fill(20));
  assert.equal(finalDrift(a, [0, 10]), 0);
  // Had the receiver missed the `clear`, frame 10 (due 200) would be late once and drift 4800 ms.
  assert.deepEqual(lateAt(a, [0, 60], [0]), [1, 1]);
  assert.equal(finalDrift(a, [0]), 4800);
  assert.equal(scheduleErrors(a, [0])[19], 4800);
  // Spurt starts are tidied: unsorted, duplicated, out of range and a missing 0 all mean the same.
  assert.deepEqual(lateAt(a, [0], [10, 10, 99, -1]), [0]);
});

test('a steadily slow sender drifts: 21 ms pacing over 100 frames ends 99 ms behind', () => {
  const a = paced(100, 21);
  // Last frame (k = 99) arrives at 2079, its ideal time is 99 · 20 = 1980.
  assert.equal(finalDrift(a, [0]), 99);
  assert.equal(scheduleErrors(a, [0])[99], 99);
  // Each frame is 1 ms later than the last one's pace at buffer 0 -> late, re-anchor, repeat: 99 late.
  // A 20 ms buffer absorbs 20 frames of 1 ms slip, missing on the 21st after each anchor: frames 21, 42, 63, 84.
  assert.deepEqual(lateAt(a, [0, 20]), [99, 4]);
});

test('nearest-rank percentiles on known arrays', () => {
  const oneToThousand = Array.from({ length: 1000 }, (_, i) => 1000 - i); // unsorted on purpose
  // rank = ceil(p · n): p50 -> 500, p99 -> 990, p99.9 -> 999.
  assert.deepEqual(percentiles(oneToThousand), { p50: 500, p99: 990, p999: 999, max: 1000, count: 1000 });
  // n = 10: p50 rank 5, p99 rank ceil(9.9) = 10, p99.9 rank ceil(9.99) = 10.
  assert.deepEqual(percentiles(paced(10, 1, 1)), { p50: 5, p99: 10, p999: 10, max: 10, count: 10 });
  assert.deepEqual(percentiles([42]), { p50: 42, p99: 42, p999: 42, max: 42, count: 1 });
  assert.deepEqual(percentiles([]), { p50: 0, p99: 0, p999: 0, max: 0, count: 0 });
  assert.deepEqual(percentiles(new Float64Array([3, Number.NaN, 1])), { p50: 1, p99: 3, p999: 3, max: 3, count: 2 });
});

test('histogram buckets by upper bound and the last bucket catches the overflow', () => {
  // Buckets of 10 up to 30: (..,10], (10,20], (20,30 and above).
  assert.deepEqual(histogram([0, 5, 10, 10.5, 20, 21, 30, 31, 500], 10, 30), [
    [10, 3],
    [20, 2],
    [30, 4],
  ]);
  assert.deepEqual(histogram([], 1, 3), [
    [1, 0],
    [2, 0],
    [3, 0],
  ]);
  for (const [b, m] of [
    [0, 10],
    [1, 0],
    [Number.NaN, 10],
    [1, Number.POSITIVE_INFINITY],
  ] as const) {
    assert.throws(
      () => histogram([1], b, m),
      (e: unknown) => e instanceof PtimeError && e.code === ErrorCodes.INVALID_OPTION && /histogram/.test(e.message),
    );
  }
});

test('a negative jitter buffer is refused with a coded error', () => {
  assert.throws(
    () => lateFrames([0, 20], [0], -1),
    (e: unknown) => e instanceof PtimeError && e.code === ErrorCodes.INVALID_OPTION && /bufferMs/.test(e.message),
  );
});

test('a sender with a lead (4 frames at once, then one per 20 ms) has no standing schedule error or drift', () => {
  // Frames 0..3 arrive together at 100, frame k >= 4 at 100 + (k - 3) * 20. Offsets arrival - 20k
  // are 100, 80, 60, 40, 40, 40, ...: the schedule runs at phase 40, so only the three frames sent
  // ahead of it show (by 60, 40 and 20 ms), and the last frame is exactly on time.
  const a = [100, 100, 100, 100, ...Array.from({ length: 46 }, (_, i) => 100 + (i + 1) * 20)];
  const err = [...scheduleErrors(a, [0])];
  assert.deepEqual(err.slice(0, 5), [60, 40, 20, 0, 0]);
  assert.ok(err.slice(3).every((e) => e === 0));
  assert.equal(finalDrift(a, [0]), 0);
  assert.equal(lateFrames(a, [0], 0).late, 0, 'early frames wait in the buffer; none is late');
});
