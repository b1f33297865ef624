import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBatch } from '../../src/handback/batch-reader.js';
import type { PacerOptions } from '../../src/pacer/pacer-layout.js';
import { H_LATE, H_UNDERRUNS } from '../../src/ring/lane-layout.js';
import { LaneRing } from '../../src/ring/lane-ring.js';
import { CoreHarness, messageText, seqsOf, type Out } from '../helpers/core-harness.js';
import { stampedFrame } from '../helpers/seeded.js';

// PacerCore is the pacer thread's logic without the thread: these tests drive it with a fake clock
// so the schedule itself (not the machine's timing) is what they check.

function setup(opts: Partial<PacerOptions> = {}) {
  const h = new CoreHarness(opts);
  const core = h.core;
  const ring = new LaneRing(120);
  h.open(0, ring, 'MZ1');
  let seq = 0;
  const push = (n: number): void =>
    h.push(
      0,
      ring,
      Array.from({ length: n }, () => stampedFrame(seq++)),
    );
  /** Step at `now`; returns what went out and when the core wants to run next. */
  const step = (now: number): { out: Out[]; next: number } => h.step(now);
  const seqs = seqsOf;
  const wake = (): void => h.wake(0, ring);
  return { core, ring, push, step, seqs, wake };
}

test('lead 0: one frame per 20 ms on an absolute schedule that starts on the phase grid', () => {
  const { push, step, seqs } = setup();
  push(3);
  let r = step(1);
  assert.deepEqual(seqs(r), [], 'waits for the next 5 ms grid point');
  assert.equal(r.next, 5);
  r = step(5);
  assert.deepEqual(seqs(r), [0]);
  assert.equal(r.next, 25);
  assert.deepEqual(seqs(step(25)), [1]);
  assert.deepEqual(seqs(step(45)), [2]);
});

test('the wire message is the complete Twilio media JSON, built by the pacer', () => {
  const { core, push } = setup();
  push(1);
  core.step(5);
  let wire = '';
  readBatch(core.batch.take()!, {
    frame: (_l, _g, _o, w) => {
      wire = messageText(w);
      return false;
    },
    mark: () => undefined,
  });
  assert.deepEqual(JSON.parse(wire), {
    event: 'media',
    streamSid: 'MZ1',
    media: { payload: Buffer.from(stampedFrame(0)).toString('base64') },
  });
});

test('lead 3: four frames at once, then one per 20 ms', () => {
  const { push, step, seqs } = setup({ lead: 3 });
  push(10);
  const r = step(0);
  assert.deepEqual(seqs(r), [0, 1, 2, 3]);
  assert.equal(r.next, 20);
  assert.deepEqual(seqs(step(20)), [4]);
  assert.deepEqual(seqs(step(40)), [5]);
});

test('a late wake catches up a bounded number of frames, keeping the schedule', () => {
  const { push, step, seqs } = setup({ catchUpFrames: 2 });
  push(20);
  assert.deepEqual(seqs(step(5)), [0]);
  // Due at 25 and 45; woken at 50: both go now and the schedule stays on 65, 85, ...
  const r = step(50);
  assert.deepEqual(seqs(r), [1, 2]);
  assert.equal(r.next, 65);
});

test('a wake later than the catch-up bound re-bases in phase instead of bursting', () => {
  const { push, step, seqs } = setup({ catchUpFrames: 2 });
  push(20);
  step(5);
  const r = step(205); // 9 frames overdue
  assert.deepEqual(seqs(r), [1], 'one frame now, not the whole backlog');
  assert.equal(r.next, 225, 'same 5 ms phase as before');
});

test('a late wake is counted as a late tick', () => {
  const { ring, push, step } = setup();
  push(5);
  step(5);
  step(25.5);
  assert.equal(ring.read(H_LATE), 0);
  step(50);
  assert.equal(ring.read(H_LATE), 1);
});

test('running dry parks the lane and counts an underrun; new audio starts without a burst', () => {
  const { ring, push, step, seqs } = setup();
  push(2);
  step(5);
  step(25);
  const dry = step(45);
  assert.deepEqual(seqs(dry), []);
  assert.equal(dry.next, Number.POSITIVE_INFINITY, 'parked: nothing to wake for');
  assert.equal(ring.read(H_UNDERRUNS), 1);
  assert.ok(ring.pacerIdle(), 'main can see the lane is parked and must wake the pacer');
  push(5); // audio after 200 ms of silence
  let r = step(245);
  assert.deepEqual(seqs(r), [2], 'one frame, not the 10 that would have been due during the silence');
  assert.equal(r.next, 265);
  r = step(265);
  assert.deepEqual(seqs(r), [3]);
});

test('marks ride right behind the audio queued before them, without using a tick', () => {
  const { ring, push, step } = setup();
  push(1);
  ring.pushMark(7);
  push(1);
  assert.deepEqual(
    step(5).out.map((o) => o.kind),
    ['frame', 'mark'],
  );
  assert.deepEqual(
    step(25).out.map((o) => o.kind),
    ['frame'],
  );
});

test('a mark on an empty lane goes out at once and does not start a schedule', () => {
  const { ring, step, wake } = setup();
  ring.pushMark(9);
  wake();
  const r = step(1);
  assert.deepEqual(r.out, [{ kind: 'mark', lane: 0, id: 9, owner: 0 }]);
  assert.equal(r.next, Number.POSITIVE_INFINITY);
  assert.equal(ring.read(H_UNDERRUNS), 0);
});

test('after clear() nothing queued before it is sent, and new audio starts a fresh schedule', () => {
  const { ring, push, step, seqs, wake } = setup({ lead: 2 });
  push(50);
  assert.deepEqual(seqs(step(0)), [0, 1, 2]);
  ring.clear();
  wake(); // what Call.clear() does
  push(3); // seqs 50..52
  // The far end was flushed too, so a new schedule starts at the next grid point (10) with its
  // lead: frames playing at 10 and 30 go now, the one playing at 50 is within the lead at 10.
  const r = step(7);
  assert.deepEqual(seqs(r), [50, 51]);
  assert.ok(r.out.every((o) => o.kind === 'frame' && o.gen === ring.generation));
  assert.deepEqual(seqs(step(10)), [52]);
});

test('a closed lane is no longer paced', () => {
  const { core, push, step } = setup();
  push(5);
  step(5);
  core.close(0);
  assert.deepEqual(step(25).out, []);
  assert.equal(core.laneCount, 0);
});
