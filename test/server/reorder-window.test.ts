import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReorderWindow } from '../../src/server/reorder-window.js';

function run(size: number, seqs: number[]): { out: number[]; w: ReorderWindow<number> } {
  const w = new ReorderWindow<number>(size);
  const out: number[] = [];
  for (const s of seqs) w.push(s, s, (x) => out.push(x));
  return { out, w };
}

test('in-order frames pass at once, nothing held', () => {
  const { out, w } = run(4, [5, 6, 7, 8]);
  assert.deepEqual(out, [5, 6, 7, 8]);
  assert.deepEqual([w.reordered, w.late, w.skipped], [0, 0, 0]);
});

test('a swapped pair is delivered in order, counted', () => {
  const { out, w } = run(4, [1, 3, 2, 4, 6, 5]);
  assert.deepEqual(out, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([w.reordered, w.late, w.skipped], [2, 0, 0]);
});

test('a frame behind what was delivered, or a duplicate, is dropped and counted as late', () => {
  const { out, w } = run(4, [1, 2, 3, 2, 3, 4]);
  assert.deepEqual(out, [1, 2, 3, 4]);
  assert.equal(w.late, 2);
});

test('a lost frame is given up when the window fills: the stream goes on, the gap counted', () => {
  const { out, w } = run(2, [1, 3, 4, 5, 6, 2]);
  assert.deepEqual(out, [1, 3, 4, 5, 6], 'after 2 held frames and a third, 2 is skipped');
  assert.equal(w.skipped, 1);
  assert.equal(w.late, 1, 'the lost frame arriving after all is late');
});

test('flush delivers what is held, in order', () => {
  const w = new ReorderWindow<number>(4);
  const out: number[] = [];
  for (const s of [1, 4, 3]) w.push(s, s, (x) => out.push(x));
  assert.deepEqual(out, [1]);
  w.flush((x) => out.push(x));
  assert.deepEqual(out, [1, 3, 4]);
});
