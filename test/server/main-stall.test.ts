import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IO_MODE, startCall, startEngine } from '../helpers/engine-fixture.js';
import { payloadBytes } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';
import { blockMain } from '../helpers/app-thread.js';

test(`a main-thread stall does not stop the pacer (io: '${IO_MODE}'): frames due during it go out ${IO_MODE === 'main' ? 'right after' : 'during it'}`, async () => {
  const fx = await startEngine({ lead: 0 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    for (let seq = 0; seq < 60; seq++) call.send(stampedFrame(seq)); // 1.2 s of audio
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 5, 5000, 'playback started');
    const ticksBefore = fx.engine.pacerTicks;
    const sentBefore = call.stats().framesSent;
    blockMain(300);
    const ticksDuring = fx.engine.pacerTicks - ticksBefore;
    const sentDuring = call.stats().framesSent - sentBefore;
    if (IO_MODE === 'main') {
      // Main sent nothing while blocked, but the pacer kept its schedule and took ~15 frames.
      assert.equal(sentDuring, 0);
    } else {
      // The I/O thread sends them while main is blocked: the stall is not on the wire.
      assert.ok(sentDuring >= 5, `the I/O thread sent ${sentDuring} frames while main was blocked`);
    }
    assert.ok(ticksDuring >= 5, `the pacer kept ticking while main was blocked (${ticksDuring} ticks)`);
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 60, 5000, 'all audio');
    assert.deepEqual(
      c.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 60 }, (_, k) => k),
      'nothing lost or reordered',
    );
    assert.equal(call.stats().drops, 0);
  } finally {
    await fx.close();
  }
});
