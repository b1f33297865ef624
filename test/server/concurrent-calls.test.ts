import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { startEngine, streamFrames } from '../helpers/engine-fixture.js';
import { payloadBytes, type TwilioClient } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

test('50 concurrent calls stay separate: no frame crosses calls, each in order and complete', async () => {
  const fx = await startEngine();
  attachDemoApp(fx.engine);
  const CALLS = 50;
  const FRAMES = 100;
  try {
    const clients: TwilioClient[] = [];
    for (let i = 0; i < CALLS; i++) clients.push(await fx.connect());
    clients.forEach((c) => c.start({ mode: 'echo' }));
    // Each call's frames are stamped with seq = call * 1e6 + k, so a frame on the wrong call shows.
    await Promise.all(
      clients.map((c, i) =>
        streamFrames(
          c,
          Array.from({ length: FRAMES }, (_, k) => stampedFrame(i * 1e6 + k)),
        ),
      ),
    );
    await Promise.all(
      clients.map((c) => c.waitFor((m) => m.filter((x) => x.event === 'media').length >= FRAMES, 10_000, 'all echoes')),
    );
    clients.forEach((c, i) => {
      const seqs = c.media.map((m) => readStamp(payloadBytes(m)));
      assert.deepEqual(
        seqs,
        Array.from({ length: FRAMES }, (_, k) => i * 1e6 + k),
        `call ${i}`,
      );
      assert.ok(c.media.every((m) => m.streamSid === c.streamSid));
    });
    assert.equal(fx.engine.calls.size, CALLS);
    assert.equal(fx.engine.stats().framesSent, CALLS * FRAMES);
  } finally {
    await fx.close();
  }
});
