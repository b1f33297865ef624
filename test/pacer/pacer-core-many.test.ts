import { test } from 'node:test';
import assert from 'node:assert/strict';
import { H_UNDERRUNS } from '../../src/ring/lane-layout.js';
import { LanePool } from '../../src/engine/lane-pool.js';
import { LaneRing } from '../../src/ring/lane-ring.js';
import { CoreHarness } from '../helpers/core-harness.js';
import { seeded, stampedFrame } from '../helpers/seeded.js';

// Many lanes on several phases, driven exactly at the times the core asks for: every lane plays
// one frame per 20 ms on its own phase, and a step emits exactly the lanes due at that instant.

test('60 lanes started at random times: each keeps its own phase, a step carries only the lanes due', () => {
  const rand = seeded(7);
  const h = new CoreHarness({ lead: 0, phases: 4 });
  const rings = Array.from({ length: 60 }, () => new LaneRing(120));
  const startAt = rings.map(() => Math.floor(rand() * 200) + rand()); // ms, off the grid
  const phaseOf = new Map<number, number>();
  const seen = rings.map(() => [] as number[]);
  rings.forEach((r, i) => h.open(i, r, `MZ${i}`));
  let now = 0;
  let started = 0;
  const order = rings.map((_, i) => i).sort((a, b) => startAt[a]! - startAt[b]!);
  let next = h.step(0).next;
  while (now < 2400) {
    const nextStart = started < order.length ? startAt[order[started]!]! : Number.POSITIVE_INFINITY;
    now = Math.min(next, nextStart);
    while (started < order.length && startAt[order[started]!]! <= now) {
      const i = order[started++]!;
      h.push(
        i,
        rings[i]!,
        Array.from({ length: 100 }, (_, k) => stampedFrame(i * 1000 + k)),
      );
    }
    const r = h.step(now);
    next = r.next;
    for (const o of r.out) {
      assert.equal(o.kind, 'frame');
      if (o.kind !== 'frame') continue;
      assert.equal(o.sid, `MZ${o.lane}`);
      seen[o.lane]!.push(now);
      const phase = ((now % 20) + 20) % 20;
      if (!phaseOf.has(o.lane)) {
        assert.ok(
          Math.abs(phase / 5 - Math.round(phase / 5)) < 1e-9,
          `lane ${o.lane} starts on the 5 ms grid (at ${now})`,
        );
        assert.ok(
          now >= startAt[o.lane]! && now - startAt[o.lane]! < 5,
          `lane ${o.lane} starts at the next grid point after its audio`,
        );
        phaseOf.set(o.lane, phase);
      } else assert.ok(Math.abs(phaseOf.get(o.lane)! - phase) < 1e-9, `lane ${o.lane} keeps its phase`);
    }
    // Everything in this batch was due now; nothing due now was left out.
    for (const [lane, phase] of phaseOf) {
      const due =
        Math.abs((((now % 20) + 20) % 20) - phase) < 1e-9 && seen[lane]!.length < 100 && seen[lane]![0]! < now;
      if (due)
        assert.ok(
          r.out.some((o) => o.lane === lane),
          `lane ${lane} due at ${now} was visited`,
        );
    }
  }
  for (let i = 0; i < rings.length; i++) {
    const times = seen[i]!;
    assert.equal(times.length, 100, `lane ${i}: all 100 frames`);
    for (let k = 1; k < times.length; k++)
      assert.ok(Math.abs(times[k]! - times[k - 1]! - 20) < 1e-9, `lane ${i}: 20 ms apart`);
    assert.equal(rings[i]!.read(H_UNDERRUNS), 1, `lane ${i}: one underrun, at the end of its audio`);
  }
  assert.deepEqual(
    [...new Set(phaseOf.values())].sort((a, b) => a - b),
    [0, 5, 10, 15],
    'the lanes spread over all four phases',
  );
});

test('lanesPerWake: calls fill one wake up to the cap before the next phase is used', () => {
  const h = new CoreHarness({ lead: 0, phases: 4, lanesPerWake: 10 });
  const rings = Array.from({ length: 30 }, () => new LaneRing(120));
  rings.forEach((r, i) => h.open(i, r, `MZ${i}`));
  const firstAt = new Map<number, number>();
  let next = h.step(0).next;
  let now = 0;
  // One new call every 7 ms (off every grid), each with 2 s of audio.
  for (let i = 0; i < rings.length || now < 300;) {
    const startAt = i < rings.length ? 1 + i * 7 : Number.POSITIVE_INFINITY;
    now = Math.min(next, startAt);
    if (now === startAt) {
      h.push(
        i,
        rings[i]!,
        Array.from({ length: 100 }, (_, k) => stampedFrame(k)),
      );
      i++;
    }
    const r = h.step(now);
    next = r.next;
    for (const o of r.out) if (!firstAt.has(o.lane)) firstAt.set(o.lane, now);
  }
  const phase = (lane: number): number => Math.round((firstAt.get(lane)! % 20) * 1000) / 1000;
  const phasesOf = (from: number, to: number): number[] =>
    [...new Set(Array.from({ length: to - from }, (_, k) => phase(from + k)))].sort((a, b) => a - b);
  const groups = [phasesOf(0, 10), phasesOf(10, 20), phasesOf(20, 30)];
  assert.ok(
    groups.every((g) => g.length === 1),
    `each 10 calls share one phase: ${JSON.stringify(groups)}`,
  );
  assert.equal(new Set(groups.map((g) => g[0])).size, 3, 'a full phase sends the next calls to another');
  assert.ok(
    groups.every((g) => Number.isInteger(g[0]! / 5)),
    'on the 5 ms grid',
  );
});

test('a wake visits the lanes due and the lanes flagged, not every open lane', () => {
  const h = new CoreHarness({ lead: 0, phases: 4 });
  const rings = Array.from({ length: 200 }, () => new LaneRing(120));
  rings.forEach((r, i) => h.open(i, r, `MZ${i}`));
  h.step(0); // visits each newly opened lane once, finds it empty, parks it
  assert.equal(h.core.lanesVisited, 200);
  h.push(
    7,
    rings[7]!,
    Array.from({ length: 60 }, (_, k) => stampedFrame(k)),
  );
  const before = h.core.lanesVisited;
  let now = 1;
  let frames = 0;
  let steps = 0;
  while (frames < 50) {
    const r = h.step(now);
    steps++;
    frames += r.out.length;
    now = r.next;
  }
  assert.equal(steps, 51, 'the flagged wake (which starts the lane on the grid), then one per frame');
  assert.equal(h.core.lanesVisited - before, steps, '199 parked lanes cost nothing: one visit per wake');
});

test('attention: a lane reopened while its entry is unread stays in the ring once, and nothing is lost', () => {
  // 16 lanes, a 16-slot ring. While the pacer takes commands but does not step (main is not
  // acknowledging batches), lane 3 changes call 40 times and every call writes audio.
  const h = new CoreHarness({ lead: 0 }, 16);
  const pool = new LanePool(120, 16);
  const lanes = Array.from({ length: 16 }, () => pool.acquire()!);
  lanes.forEach((l) => h.open(l.index, l.ring, `MZ${l.index}`));
  h.step(0); // every lane looked at once, found empty, parked
  let lane = lanes[3]!;
  for (let call = 0; call < 40; call++) {
    pool.release(lane);
    lane = pool.acquire()!;
    h.core.close(lane.index);
    h.open(lane.index, lane.ring, `MZ3-${call}`);
    h.push(lane.index, lane.ring, [stampedFrame(call)]);
    for (const other of lanes.filter((l) => l.index !== 3))
      h.push(other.index, other.ring, [stampedFrame(1000 + call)]);
  }
  const r = h.step(1);
  assert.deepEqual(r.out, [], 'nothing due before the next grid point');
  const out = h.step(5).out;
  const sids = new Set(out.flatMap((o) => (o.kind === 'frame' ? [o.sid] : [])));
  assert.equal(sids.size, 16, 'every lane plays, the reused one too');
  assert.ok(sids.has('MZ3-39'), 'under its last call');
});
