import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import type { MarkResult } from '../../src/index.js';
import { startCall, startEngine } from '../helpers/engine-fixture.js';
import { payloadBytes } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

test('DTMF: clear, then the mark; no frame queued before the clear arrives after it', async () => {
  const fx = await startEngine({ lead: 3 });
  attachDemoApp(fx.engine);
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    for (let seq = 0; seq < 100; seq++) c.media160(stampedFrame(seq)); // 2 s queued
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 10, 5000, 'playback under way');
    c.dtmf('5');
    await c.waitFor((m) => m.some((x) => x.event === 'mark'), 5000, 'the dtmf mark');
    for (let seq = 1000; seq < 1010; seq++) c.media160(stampedFrame(seq)); // new audio after barge-in
    await c.waitFor(
      (m) => m.filter((x) => x.event === 'media' && readStamp(payloadBytes(x)) >= 1000).length >= 10,
      5000,
      'post-clear audio',
    );
    const events = c.received.map((m) => (m.event === 'media' ? readStamp(payloadBytes(m)) : m.event));
    const clearAt = events.indexOf('clear');
    const markAt = events.indexOf('mark');
    assert.ok(clearAt > 0 && markAt > clearAt, 'clear comes first, then the mark');
    assert.equal(c.received[markAt]!.mark!.name, 'dtmf-5');
    const afterClear = events.slice(clearAt + 1).filter((e): e is number => typeof e === 'number');
    assert.ok(
      afterClear.every((seq) => seq >= 1000),
      `nothing from before the clear after it: ${afterClear.slice(0, 5).join(',')}`,
    );
    assert.equal(afterClear.length, 10);
    const before = events.slice(0, clearAt).filter((e): e is number => typeof e === 'number');
    assert.ok(before.length < 100, 'the clear cut playback short');
    assert.equal(call.stats().queueDepth, 0);
  } finally {
    await fx.close();
  }
});

test('marks: played on echo, cleared when flushed, dropped never silently, closed at hang-up', async () => {
  const fx = await startEngine({ lead: 0 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    const emitted: MarkResult[] = [];
    call.on('mark', (r) => emitted.push(r));

    // played: the mark goes out right behind its audio; the far end echoes it.
    call.send(stampedFrame(1));
    const played = call.mark('after-1');
    await c.waitFor((m) => m.some((x) => x.event === 'mark' && x.mark!.name === 'after-1'), 5000, 'mark sent');
    const kinds = c.received.map((m) => m.event);
    assert.deepEqual(kinds, ['media', 'mark'], 'the mark follows the audio queued before it');
    c.echoMark('after-1');
    assert.deepEqual(await played, { name: 'after-1', status: 'played' });

    // cleared while still queued on our side.
    for (let i = 0; i < 20; i++) call.send(stampedFrame(100 + i));
    const queued = call.mark('queued');
    call.clear();
    assert.deepEqual(await queued, { name: 'queued', status: 'cleared' });

    // sent to the far end, then cleared: the far end echoes it, and it was never heard.
    call.send(stampedFrame(200));
    const inFlight = call.mark('in-flight');
    await c.waitFor((m) => m.some((x) => x.event === 'mark' && x.mark!.name === 'in-flight'), 5000, 'second mark sent');
    call.clear();
    c.echoMark('in-flight');
    assert.deepEqual(await inFlight, { name: 'in-flight', status: 'cleared' });

    // pending at hang-up.
    for (let i = 0; i < 20; i++) call.send(stampedFrame(300 + i));
    const pending = call.mark('pending');
    c.stop();
    assert.deepEqual(await pending, { name: 'pending', status: 'closed' });
    assert.deepEqual(
      emitted.map((r) => r.status),
      ['played', 'cleared', 'cleared', 'closed'],
      'each result is also emitted as a mark event',
    );
  } finally {
    await fx.close();
  }
});

test('a mark that falls off a full queue settles as dropped', async () => {
  const fx = await startEngine({ queue: 8 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    // The mark goes in behind 8 queued frames: the pacer can have sent at most lead + 1 (4) of them
    // before the next 40 frames, pushed in the same turn, push the mark out. (A mark at the very head
    // of an empty queue could be taken by the pacer before the frames arrive, and never settle
    // against a peer that does not echo.)
    const buf = new Uint8Array(160 * 40);
    call.send(buf);
    const m = call.mark('early');
    call.send(buf);
    assert.deepEqual(await m, { name: 'early', status: 'dropped' });
  } finally {
    await fx.close();
  }
});
