import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LanePool } from '../../src/engine/lane-pool.js';
import { laneBytes } from '../../src/ring/lane-layout.js';

test('lanes are kept per frame size: a call gets a lane of its format, and a free lane of another size is reused only when every index is taken', () => {
  const pool = new LanePool(120, 2);
  const mu = pool.acquire(160)!;
  const l16 = pool.acquire(640)!;
  assert.equal(mu.ring.frameBytes, 160);
  assert.equal(l16.ring.frameBytes, 640);
  assert.equal(pool.acquire(160), null, 'maxLanes counts calls of every size');
  pool.release(mu);
  const again = pool.acquire(160)!;
  assert.equal(again, mu, 'a free lane of the same size is taken as it is');
  pool.release(again);
  const gen = again.ring.generation;
  const owner = again.ring.owner;
  const rebuilt = pool.acquire(960)!;
  assert.equal(rebuilt.index, mu.index, 'at the cap, the free 160-byte lane is rebuilt for 960 bytes');
  assert.equal(rebuilt.ring.frameBytes, 960);
  assert.equal(rebuilt.ring.sab.byteLength, laneBytes(rebuilt.ring.slots, 960));
  assert.ok(
    rebuilt.ring.generation !== gen && rebuilt.ring.owner === ((owner + 1) | 0),
    'its generation and owner continue past the old ring’s',
  );
});

test('memory per lane follows the format: 22.8 kB for G.711, 125 kB for L16 at 24 kHz (128 slots)', () => {
  assert.equal(laneBytes(128, 160), 256 + 128 * 176);
  assert.equal(laneBytes(128, 320), 256 + 128 * 336);
  assert.equal(laneBytes(128, 640), 256 + 128 * 656);
  assert.equal(laneBytes(128, 960), 256 + 128 * 976);
});
