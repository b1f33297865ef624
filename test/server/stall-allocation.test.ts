import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Call, PacerStats } from '../../src/index.js';
import { IO_MODE, startEngine, startCall, until } from '../helpers/engine-fixture.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';
import { payloadBytes } from '../helpers/twilio-client.js';

// While main is stalled the pacer goes on building batches until maxInflightBatches are out, and
// every buffer that comes back is kept: a later stall reuses them instead of allocating (each
// buffer allocated and dropped was a step in the pacer thread's malloc arena that stayed).

const CALLS = 20;

/** Hold main's thread for `ms` (a stall the pacer thread does not share). */
function stallMain(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('two 1.6 s main stalls with audio queued: the pacer stops at maxInflightBatches, the second stall allocates no batch buffer, every frame arrives in order', async () => {
  const fx = await startEngine({ lead: 3, figuresIntervalMs: 100 });
  const allocations = async (): Promise<number> => {
    const [s] = (await once(fx.engine, 'pacerStats')) as [PacerStats];
    return s.batchAllocations;
  };
  try {
    const peers = await Promise.all(Array.from({ length: CALLS }, () => fx.connect()));
    const calls: Call[] = [];
    for (const p of peers) calls.push(await startCall(fx.engine, p));
    const counts: number[] = [];
    for (let stall = 0; stall < 2; stall++) {
      for (const c of calls) for (let k = 0; k < 100; k++) c.send(stampedFrame(stall * 100 + k)); // 2 s each
      await until(() => peers.every((p) => p.media.length >= stall * 100 + 10), 10_000, 'audio flowing');
      stallMain(1600); // longer than maxInflightBatches (64) wakes, even with every call on one phase
      await until(() => peers.every((p) => p.media.length >= stall * 100 + 100), 10_000, 'every frame of the round');
      counts.push(await allocations());
    }
    const what = `batch buffers allocated: ${counts[0]} after the first stall, ${counts[1]} after the second`;
    assert.ok(counts[1]! <= 64 + 6, `${what}: no more than maxInflightBatches (64) and the few being built`);
    // With io: 'main' the stall holds the hand-back, so the pacer fills the gate and the second
    // stall must find every buffer it needs. With io: 'worker' the I/O thread goes on taking and
    // returning batches through main's stall: the pacer never reaches the gate, and the few
    // buffers it allocates follow that thread's own scheduling, not the stall.
    if (IO_MODE === 'main') assert.ok(counts[1]! - counts[0]! <= 2, what);
    for (const [i, p] of peers.entries()) {
      const seqs = p.media.map((m) => readStamp(payloadBytes(m)));
      assert.deepEqual(
        seqs,
        Array.from({ length: 200 }, (_, k) => k),
        `call ${i}: every frame, in order`,
      );
    }
  } finally {
    await fx.close();
  }
});
