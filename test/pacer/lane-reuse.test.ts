import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LanePool } from '../../src/engine/lane-pool.js';
import { PacerCore } from '../../src/pacer/pacer-core.js';
import { LaneReader } from '../../src/ring/lane-reader.js';
import { CORE_OPTIONS, CoreHarness, wireFor } from '../helpers/core-harness.js';
import { stampedFrame } from '../helpers/seeded.js';

// The pacer reads open/close commands only between steps, so main can release a lane, hand it to
// the next call and queue that call's audio while the pacer still holds the previous call's wire
// prefix. Nothing built from the new call's audio may carry the old call's streamSid.

const range = (from: number, n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => stampedFrame(from + i));

test('a lane reused before the pacer reads its close never sends the new call with the old streamSid', () => {
  const h = new CoreHarness({ lead: 3 });
  const pool = new LanePool(120, 4);
  const a = pool.acquire()!;
  h.open(a.index, a.ring, 'MZ-A');
  h.push(a.index, a.ring, range(0, 10));
  assert.deepEqual(
    h.step(0).out.map((f) => f.kind === 'frame' && f.sid),
    ['MZ-A', 'MZ-A', 'MZ-A', 'MZ-A'],
  );

  // Main: call A ends and call B starts on the same lane, before the pacer drains its commands.
  pool.release(a);
  const b = pool.acquire()!;
  assert.equal(b.index, a.index, "LIFO reuse: B gets A's lane");
  h.wake(b.index, b.ring); // release + acquire cleared the lane, which wakes the pacer
  h.push(b.index, b.ring, range(100, 10));
  const early = [...h.step(20).out, ...h.step(25).out];
  assert.deepEqual(
    early.filter((f) => f.kind === 'frame' && f.seq >= 100 && f.sid !== 'MZ-B'),
    [],
    "no frame of call B with another call's streamSid",
  );

  // The pacer now reads close(A) and open(B): B plays from its first frame.
  h.core.close(b.index);
  h.open(b.index, b.ring, 'MZ-B');
  const later = [...early, ...h.step(40).out, ...h.step(60).out];
  const frames = later.flatMap((f) => (f.kind === 'frame' ? [f] : []));
  assert.deepEqual(frames.map((f) => f.seq).slice(0, 3), [100, 101, 102], "none of B's audio was lost to the race");
  assert.ok(frames.every((f) => f.sid === 'MZ-B' && f.owner === b.ring.owner));
});

test('owner changes between two wakes: nothing is taken, the lane waits for its open', () => {
  const h = new CoreHarness({ lead: 0 });
  const pool = new LanePool(120, 4);
  const a = pool.acquire()!;
  h.open(a.index, a.ring, 'MZ-A');
  h.push(a.index, a.ring, range(0, 3));
  assert.equal(h.step(5).out.length, 1);
  // Reuse without the clear: the owner check alone must stop the pacer (the commit would succeed).
  a.ring.newOwner();
  assert.deepEqual(h.step(25).out, [], 'nothing built for the lane once its owner changed');
  assert.equal(a.ring.depth(), 2, 'the queued frames were not consumed');
  h.core.close(a.index);
  h.open(a.index, a.ring, 'MZ-B');
  const r = h.step(30);
  assert.deepEqual(
    r.out.map((f) => f.kind === 'frame' && `${f.sid}:${f.seq}`),
    ['MZ-B:1'],
  );
});

/** What main does between the pacer's read of a slot and its commit: hands the lane to another call. */
class RacingCore extends PacerCore {
  race: (() => void) | null = null;
  protected override newReader(sab: SharedArrayBuffer): LaneReader {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the reader subclass below calls back into this core
    const core = this;
    return new (class extends LaneReader {
      override dataOffset(): number {
        const race = core.race;
        core.race = null;
        race?.();
        return super.dataOffset();
      }
    })(sab);
  }
}

test('owner changes after the pacer read a slot and before it commits: the commit is not made', () => {
  const core = new RacingCore(CORE_OPTIONS);
  const pool = new LanePool(120, 4);
  const a = pool.acquire()!;
  core.open(a.index, a.ring.sab, wireFor('MZ-A'), a.ring.owner);
  for (const f of range(0, 3)) a.ring.pushFrame(f, 0);
  // Only OWNER moves (no clear), so the ring's own commit would succeed: the owner check must stop it.
  core.race = () => a.ring.newOwner();
  core.step(5);
  assert.equal(core.batch.take(), null, 'nothing built for a lane whose owner changed mid-read');
  assert.equal(a.ring.depth(), 3, 'the slot was not taken');
});
