import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VisitQueue } from '../../src/pacer/visit-queue.js';
import { seeded } from '../helpers/seeded.js';

interface Item {
  nextVisit: number;
  heapIndex: number;
  id: number;
}

test('the visit queue pops in nextVisit order through 20,000 random inserts, moves and removals', () => {
  const rand = seeded(7);
  const q = new VisitQueue<Item>();
  const items: Item[] = Array.from({ length: 300 }, (_, id) => ({ nextVisit: 0, heapIndex: -1, id }));
  const queued = new Set<Item>();
  let now = 0;
  for (let op = 0; op < 20_000; op++) {
    const it = items[Math.floor(rand() * items.length)]!;
    const r = rand();
    if (r < 0.5) {
      // Set or move: keys on a 5 ms grid as the pacer's are, so there are many ties.
      it.nextVisit = now + 5 * Math.floor(rand() * 8);
      q.set(it);
      queued.add(it);
    } else if (r < 0.65) {
      q.remove(it);
      queued.delete(it);
      assert.equal(it.heapIndex, -1);
    } else {
      now += 5;
      const popped: number[] = [];
      for (let p = q.popDue(now); p; p = q.popDue(now)) {
        popped.push(p.nextVisit);
        queued.delete(p);
        assert.equal(p.heapIndex, -1);
      }
      const expected = [...queued].filter((x) => x.nextVisit <= now);
      assert.equal(expected.length, 0, `left due after popDue(${now}): ${expected.map((x) => x.nextVisit).join(',')}`);
      assert.deepEqual(
        popped,
        [...popped].sort((a, b) => a - b),
      );
    }
    assert.equal(q.size, queued.size);
    const earliest = Math.min(...[...queued].map((x) => x.nextVisit));
    assert.equal(q.peekTime(), queued.size ? earliest : Number.POSITIVE_INFINITY);
  }
});

test('an empty queue: nothing due, Infinity next; an item not due yet stays', () => {
  const q = new VisitQueue<Item>();
  assert.equal(q.popDue(1e9), undefined);
  assert.equal(q.peekTime(), Number.POSITIVE_INFINITY);
  const it = { nextVisit: 10, heapIndex: -1, id: 0 };
  q.set(it);
  assert.equal(q.popDue(9), undefined);
  assert.equal(q.popDue(10), it);
  assert.equal(q.size, 0);
});
