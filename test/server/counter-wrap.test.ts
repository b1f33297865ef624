import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { startCall, startEngine, streamFrames } from '../helpers/engine-fixture.js';
import { payloadBytes } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

// Every counter the two threads share is int32: lane WR/RD/GEN/OWNER and stats, the pacer's
// batches, acknowledgements, ticks, tick log and attention ring. Starting them all at 2^31 - 1
// wraps each on its first move (GEN and OWNER when the call takes its lane, the ring indices on
// the first frame, UNDERRUNS on the first underrun, and so on).

test('a call streams through the int32 wrap of every shared counter: nothing lost, figures stay right', async () => {
  const fx = await startEngine({ counterStart: 2 ** 31 - 1 });
  attachDemoApp(fx.engine);
  try {
    const client = await fx.connect();
    const call = await startCall(fx.engine, client);
    await streamFrames(
      client,
      Array.from({ length: 150 }, (_, k) => stampedFrame(k)),
    );
    await client.waitFor((m) => m.filter((x) => x.event === 'media').length >= 150, 10_000, '150 echoed frames');
    assert.deepEqual(
      client.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 150 }, (_, k) => k),
      'every frame, in order',
    );
    const s = call.stats();
    assert.equal(s.framesSent, 150);
    assert.equal(s.drops, 0);
    assert.ok(s.underruns >= 0 && s.underruns < 150, `underruns ${s.underruns}`);
    assert.ok(s.lateTicks >= 0 && s.lateTicks < 150, `late ticks ${s.lateTicks}`);
    const ticks = fx.engine.stats().pacerTicks;
    assert.ok(ticks >= 100 && ticks < 1e6, `pacer ticks count from the start across the wrap: ${ticks}`);
    assert.equal(fx.engine.stats().pacerRestarts, 0, 'the watchdog saw the ticks move');
  } finally {
    await fx.close();
  }
});
