import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { DEFAULT_QUEUE_FRAMES } from '../../src/index.js';
import { frameOf, startEngine, streamFrames } from '../helpers/engine-fixture.js';
import { payloadBytes } from '../helpers/twilio-client.js';
import { stampedFrame, readStamp } from '../helpers/seeded.js';

test('5 s of silence through echo: 250 frames back at about 50/s, no overflow', async () => {
  const fx = await startEngine();
  attachDemoApp(fx.engine);
  try {
    const c = await fx.connect();
    c.start({ mode: 'echo' });
    await streamFrames(
      c,
      Array.from({ length: 250 }, () => frameOf(0xff)),
    );
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 250, 5000, '250 echoed frames');
    const media = c.media;
    assert.equal(media.length, 250);
    for (const m of media) {
      assert.equal(m.streamSid, c.streamSid);
      assert.deepEqual(payloadBytes(m), Buffer.from(frameOf(0xff)));
    }
    const span = (media.at(-1)!.at - media[0]!.at) / 1000;
    const rate = (media.length - 1) / span;
    assert.ok(rate > 45 && rate < 55, `about 50 frames/s (got ${rate.toFixed(1)})`);
    const call = [...fx.engine.calls][0]!;
    assert.equal(call.stats().drops, 0);
    assert.equal(call.stats().framesSent, 250);
    assert.equal(fx.logs.filter((l) => l.msg === 'tx queue full, dropped oldest').length, 0);
  } finally {
    await fx.close();
  }
});

test('every outbound payload is one 160-byte frame per message, in order, bytes unchanged', async () => {
  const fx = await startEngine();
  attachDemoApp(fx.engine);
  try {
    const c = await fx.connect();
    c.start();
    for (let seq = 0; seq < 100; seq++) c.media160(stampedFrame(seq));
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 100, 10_000, '100 frames');
    assert.deepEqual(
      c.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.ok(c.media.every((m) => payloadBytes(m).length === 160 && m.streamSid === c.streamSid));
  } finally {
    await fx.close();
  }
});

test('a flood of 1000 frames at once: at most bound + lead back, drops counted, one or two log lines', async () => {
  const fx = await startEngine({ lead: 3, inboundBurst: 2000 }); // the whole flood reaches the app
  attachDemoApp(fx.engine);
  try {
    const c = await fx.connect();
    c.start();
    let callReady!: () => void;
    const started = new Promise<void>((r) => (callReady = r));
    fx.engine.once('call', () => callReady());
    await started;
    const call = [...fx.engine.calls][0]!;
    // Frames the pacer took while the flood was still arriving are the schedule doing its job,
    // not the queue: count them where the last inbound frame lands (the app echoes it at once).
    let takenBeforeLast = -1;
    let depthAtLast = -1;
    let inbound = 0;
    call.on('media', () => {
      if (++inbound < 1000) return;
      const s = call.stats();
      depthAtLast = s.queueDepth;
      takenBeforeLast = 1000 - s.queueDepth - s.drops;
    });
    for (let seq = 0; seq < 1000; seq++) c.media160(stampedFrame(seq));
    // Wait until the queue has played out, then for the next figures tick to flush the log.
    await c.waitFor(
      () => call.stats().queueDepth === 0 && call.stats().framesSent + call.stats().drops >= 1000,
      10_000,
      'queue drained',
    );
    await new Promise((r) => setTimeout(r, 2100));
    const got = c.media.map((m) => readStamp(payloadBytes(m)));
    const drops = call.stats().drops;
    assert.ok(takenBeforeLast >= 0, 'the whole flood reached the app');
    // After the last push the ring holds at most the bound, and that is all that is left to send.
    assert.ok(depthAtLast <= DEFAULT_QUEUE_FRAMES, `the queue held ${depthAtLast} after the flood`);
    assert.ok(
      got.length <= takenBeforeLast + DEFAULT_QUEUE_FRAMES,
      `at most the bound back after the flood, got ${got.length} (${takenBeforeLast} taken while it arrived)`,
    );
    assert.equal(got.length + drops, 1000, 'every frame either sent or counted as dropped');
    assert.ok(
      got.every((seq, i) => i === 0 || seq > got[i - 1]!),
      'in order',
    );
    assert.equal(got.at(-1), 999, 'the newest audio survives: drop-oldest');
    const lines = fx.logs.filter((l) => l.msg === 'tx queue full, dropped oldest');
    assert.ok(lines.length >= 1 && lines.length <= 2, `one or two overflow lines, got ${lines.length}`);
    assert.equal(
      lines.reduce((n, l) => n + (l['dropped'] as number), 0),
      drops,
      'the lines carry the dropped count',
    );
  } finally {
    await fx.close();
  }
});
