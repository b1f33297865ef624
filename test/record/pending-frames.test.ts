import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingFrames } from '../../src/record/pending-frames.js';

test('PendingFrames: copies in order through wrap-around and growth; removeAt moves the rest up; the app may reuse its buffer', () => {
  const p = new PendingFrames(4);
  const src = new Uint8Array(8);
  let next = 0;
  const expect: number[] = [];
  for (let round = 0; round < 300; round++) {
    const adds = (round * 7) % 5;
    for (let k = 0; k < adds; k++) {
      src.fill(next & 0xff, 4, 8);
      p.push(src, 4, next);
      src.fill(0xee); // reused by the app at once
      expect.push(next++);
    }
    const drop = Math.min(p.length, (round * 3) % 4);
    p.shift(drop);
    expect.splice(0, drop);
  }
  for (let i = 0; i < 150; i++) {
    src.fill(next & 0xff, 4, 8);
    p.push(src, 4, next);
    expect.push(next++);
  }
  p.removeAt(10);
  expect.splice(10, 1);
  assert.equal(p.length, expect.length);
  for (let i = 0; i < p.length; i++) {
    assert.equal(p.playAt(i), expect[i]);
    assert.deepEqual([...p.frame(i)], new Array(4).fill(expect[i]! & 0xff));
  }
  p.clear();
  assert.equal(p.length, 0);
});
