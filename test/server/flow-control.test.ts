import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { TONE_FRAME } from '../../src/demo/demo-frames.js';
import { startCall, startEngine } from '../helpers/engine-fixture.js';
import { payloadBytes } from '../helpers/twilio-client.js';

test('send() reports the high-water mark and drain fires at the low-water mark', async () => {
  const fx = await startEngine({ highWaterMark: 10, lowWaterMark: 4, lead: 0 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    const results: boolean[] = [];
    for (let i = 0; i < 12; i++) results.push(call.send(new Uint8Array(160).fill(0xff)));
    // With lead 0 the first frame is due the moment it is queued, so the pacer thread may take it
    // while this loop runs (it takes no second one for 20 ms): 10 frames are unsent at the 10th
    // send, or at the 11th if the pacer took the first.
    const firstFalse = results.indexOf(false);
    assert.ok(
      firstFalse === 9 || firstFalse === 10,
      `false once 10 frames are unsent (first false at send #${firstFalse + 1})`,
    );
    await once(call, 'drain');
    assert.ok(call.queueDepth <= 4, `drain at or below the low-water mark (depth ${call.queueDepth})`);
    assert.equal(call.stats().drops, 0);
  } finally {
    await fx.close();
  }
});

test('a producer faster than real time (tone mode) keeps the queue topped up with zero drops', async () => {
  const fx = await startEngine();
  attachDemoApp(fx.engine);
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c, { mode: 'tone' });
    let maxDepth = 0;
    const sampler = setInterval(() => (maxDepth = Math.max(maxDepth, call.queueDepth)), 20);
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 150, 10_000, '3 s of tone');
    clearInterval(sampler);
    const s = call.stats();
    assert.equal(s.drops, 0, 'flow control, not drop-oldest, kept the queue bounded');
    assert.ok(
      maxDepth <= fx.engine.options.highWaterMark + 1,
      `queue stayed near the high-water mark (max ${maxDepth})`,
    );
    assert.ok(c.media.every((m) => payloadBytes(m).equals(Buffer.from(TONE_FRAME))));
  } finally {
    await fx.close();
  }
});
