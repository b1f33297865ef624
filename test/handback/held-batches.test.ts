import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HeldBatches } from '../../src/handback/held-batches.js';

// The book of batches a socket still reads from: nothing goes back while a holder holds, everything
// goes back (to the port it came from) once every holder let go.

class Socket {
  constructor(public writing: boolean) {}
  holding(): boolean {
    return this.writing;
  }
}

function book(): { held: HeldBatches<string>; back: [ArrayBuffer, string][] } {
  const back: [ArrayBuffer, string][] = [];
  return { held: new HeldBatches<string>((b, port) => back.push([b, port])), back };
}

test('a batch no socket holds goes straight back', () => {
  const { held, back } = book();
  const b = new ArrayBuffer(8);
  held.settle(b, 'p1', false);
  assert.deepEqual(back, [[b, 'p1']]);
  assert.equal(held.waiting, 0);
});

test('a held batch goes back only once every socket holding it has written it out, to its own port', () => {
  const { held, back } = book();
  const a = new Socket(true);
  const c = new Socket(true);
  const b1 = new ArrayBuffer(8);
  held.held(a);
  held.held(c);
  held.held(a); // the same socket twice in one batch counts once
  held.settle(b1, 'p1', true);
  const b2 = new ArrayBuffer(8);
  held.settle(b2, 'p2', false); // the next batch, nobody holds it
  assert.deepEqual(back, [[b2, 'p2']]);
  held.poll();
  assert.equal(back.length, 1, 'both still writing');
  a.writing = false;
  held.poll();
  assert.equal(back.length, 1, 'one socket still writing');
  c.writing = false;
  held.poll();
  assert.deepEqual(back[1], [b1, 'p1']);
  assert.equal(held.returned, 1);
  assert.equal(held.waiting, 0);
  // The probes of one batch do not leak into the next.
  const b3 = new ArrayBuffer(8);
  held.settle(b3, 'p1', false);
  assert.equal(back.at(-1)![0], b3);
});

test('a holder that cannot say when it lets go: the batch is never reused', () => {
  const { held, back } = book();
  held.held(new Socket(false));
  held.held(undefined);
  held.settle(new ArrayBuffer(8), 'p1', true);
  held.held({}); // a sink without holding()
  held.settle(new ArrayBuffer(8), 'p1', true);
  held.poll();
  assert.equal(back.length, 0);
  assert.equal(held.abandoned, 2);
  assert.equal(held.waiting, 0);
});

test('parked batches are bounded: past 64 the oldest is left to the GC, the others still come back', () => {
  const { held, back } = book();
  const s = new Socket(true);
  const batches = Array.from({ length: 70 }, () => new ArrayBuffer(8));
  for (const b of batches) {
    held.held(s);
    held.settle(b, 'p', true);
  }
  assert.equal(held.waiting, 64);
  assert.equal(held.abandoned, 6);
  s.writing = false;
  held.poll();
  assert.deepEqual(
    back.map(([b]) => batches.indexOf(b)),
    Array.from({ length: 64 }, (_, i) => i + 6),
    'the newest 64, oldest first',
  );
});

test('a parked batch goes back once its socket lets go even when no other batch arrives', async () => {
  const { held, back } = book();
  const s = new Socket(true);
  const b = new ArrayBuffer(8);
  held.held(s);
  held.settle(b, 'p', true);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(back.length, 0, 'still writing');
  s.writing = false;
  const t0 = performance.now();
  while (back.length === 0 && performance.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(back, [[b, 'p']]);
  assert.equal(held.waiting, 0);
});

test('a parked batch does not keep its holder alive; once the holder is collected the batch is left to the GC', async () => {
  const { held, back } = book();
  let s: Socket | null = new Socket(true);
  const ref = new WeakRef(s);
  held.held(s);
  held.settle(new ArrayBuffer(8), 'p', true);
  // eslint-disable-next-line no-useless-assignment -- the only reference goes, so the GC may take the holder
  s = null;
  // node --test gives no --expose-gc: turn it on and take `gc` from a fresh context (as churn.test.ts).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 20 && ref.deref() !== undefined; i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc();
  }
  assert.equal(ref.deref(), undefined, 'the holder was collected while its batch was parked');
  held.poll();
  assert.equal(back.length, 0, 'a collected holder cannot say the view is free: not reused');
  assert.equal(held.abandoned, 1);
  assert.equal(held.waiting, 0);
});
