import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, PtimeError, type Call } from '../../src/index.js';
import { startEngine, startCall, until } from '../helpers/engine-fixture.js';
import { payloadBytes, type TwilioClient } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

/**
 * A relay's source: real time for 1 s, then a 500 ms gap it makes up in one burst (the audio it
 * produced meanwhile, delivered late), then real time again for 1 s. Returns the queue depth right
 * after the burst.
 */
async function relay(call: Call): Promise<number> {
  const t0 = performance.now();
  let seq = 0;
  const until = async (frames: number): Promise<void> => {
    for (; seq < frames; seq++) {
      const wait = t0 + seq * 20 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      call.send(stampedFrame(seq));
    }
  };
  await until(50);
  await new Promise((r) => setTimeout(r, 500));
  for (; seq < 75; seq++) call.send(stampedFrame(seq)); // the 25 frames of the gap, at once
  const depthAfterBurst = call.queueDepth;
  await until(125);
  return depthAfterBurst;
}

function stamps(c: TwilioClient): number[] {
  return c.media.map((m) => readStamp(payloadBytes(m)));
}

test('maxQueuedMs: a relay that makes up a 500 ms gap in a burst is cut back to the bound (oldest dropped, counted); without it the backlog stays', async () => {
  const fx = await startEngine({ lead: 3 });
  try {
    const bounded = await fx.connect();
    const boundedCall = await startCall(fx.engine, bounded);
    boundedCall.setMaxQueuedMs(100);
    const free = await fx.connect();
    const freeCall = await startCall(fx.engine, free);
    const [boundedDepth, freeDepth] = await Promise.all([relay(boundedCall), relay(freeCall)]);
    assert.ok(
      boundedDepth <= 5,
      `the bounded call's queue right after the burst: ${boundedDepth} frames (bound 100 ms = 5)`,
    );
    assert.ok(freeDepth >= 20, `the unbounded call keeps the backlog: ${freeDepth} frames`);
    await until(() => boundedCall.queueDepth === 0 && freeCall.queueDepth === 0, 5000, 'both queues played out');
    await bounded.waitFor(
      () => boundedCall.stats().framesSent === stamps(bounded).length,
      5000,
      'every frame sent arrived',
    );
    const got = stamps(bounded);
    const dropped = boundedCall.stats().latencyDrops;
    assert.ok(dropped >= 15 && dropped <= 25, `the burst's oldest frames dropped: ${dropped}`);
    assert.equal(got.length + dropped, 125, 'every frame either played or counted as dropped');
    assert.deepEqual(
      got,
      [...got].sort((a, b) => a - b),
      'what plays stays in order',
    );
    assert.equal(got.at(-1), 124, 'the newest audio is what plays');
    assert.equal(freeCall.stats().latencyDrops, 0);
    await free.waitFor(() => stamps(free).length === 125, 5000, 'every frame of the unbounded call');
    assert.throws(
      () => boundedCall.setMaxQueuedMs(-1),
      (e: unknown) => e instanceof PtimeError && e.code === ErrorCodes.INVALID_OPTION,
    );
  } finally {
    await fx.close();
  }
});

test('the engine option maxQueuedMs bounds every call; 0 (the default) leaves a TTS producer its whole queue', async () => {
  const fx = await startEngine({ lead: 3, maxQueuedMs: 200 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    for (let seq = 0; seq < 60; seq++) call.send(stampedFrame(seq)); // 1.2 s at once
    assert.ok(call.queueDepth <= 10, `bounded to 200 ms: ${call.queueDepth} frames`);
    assert.ok(call.stats().latencyDrops >= 50);
    call.setMaxQueuedMs(0);
    for (let seq = 60; seq < 120; seq++) call.send(stampedFrame(seq));
    assert.ok(call.queueDepth >= 55, `off: the whole burst queued (${call.queueDepth} frames)`);
  } finally {
    await fx.close();
  }
});
