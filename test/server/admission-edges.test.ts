import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { connectedMessage, startMessage } from '../../src/loadtest/twilio-side.js';
import { ErrorCodes } from '../../src/index.js';
import { startCall, startEngine, until } from '../helpers/engine-fixture.js';
import { payloadBytes, TwilioClient } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

const UPGRADE_REQUEST = (port: number): string =>
  `GET /media HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

test('a socket that never sends start is closed with 1008 after startTimeoutMs, counted, and its maxCalls slot is freed', async () => {
  const fx = await startEngine({ startTimeoutMs: 300, maxCalls: 1 });
  try {
    const idle = await fx.connect();
    await assert.rejects(TwilioClient.connect(fx.url), /503/, 'the idle socket holds the only slot');
    assert.equal(await idle.closed(), 1008);
    await fx.engine.settled(); // io: 'worker': counted one I/O turn after the close
    assert.equal(fx.engine.stats().rejected[ErrorCodes.START_TIMEOUT], 1);
    const next = await fx.connect();
    const call = await startCall(fx.engine, next);
    call.send(stampedFrame(5));
    await next.waitFor((m) => m.some((x) => x.event === 'media'), 5000, 'audio on the freed slot');
    await new Promise((r) => setTimeout(r, 400)); // past the timeout: a started call is not closed
    assert.equal(next.closeCode, null);
    assert.equal(fx.engine.stats().rejected[ErrorCodes.START_TIMEOUT], 1);
  } finally {
    await fx.close();
  }
});

test('a start that arrives while the engine drains is refused with 1001 and counted; the draining call plays out', async () => {
  const fx = await startEngine({ lead: 3, drainMs: 5000 });
  try {
    const a = await fx.connect();
    const callA = await startCall(fx.engine, a);
    const late = await fx.connect(); // upgraded before close(), starts after it
    for (let seq = 0; seq < 25; seq++) callA.send(stampedFrame(seq));
    const closing = fx.engine.close();
    late.start();
    assert.equal(await late.closed(), 1001);
    assert.equal(fx.engine.stats().rejected[ErrorCodes.SHUTTING_DOWN], 1);
    assert.equal(fx.engine.calls.size, 1, 'no call was started for it');
    await closing;
    assert.deepEqual(
      a.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 25 }, (_, i) => i),
    );
  } finally {
    await fx.close();
  }
});

test('graceful close plays the remainder under one frame, padded with silence, before 1001', async () => {
  const fx = await startEngine({ lead: 3, drainMs: 5000 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    const audio = new Uint8Array(3 * 160 + 80).map((_, i) => (i * 7) % 0x7f);
    call.send(audio);
    await fx.engine.close();
    assert.equal(await c.closed(), 1001);
    const expected = new Uint8Array(4 * 160).fill(0xff);
    expected.set(audio);
    assert.deepEqual(new Uint8Array(Buffer.concat(c.media.map(payloadBytes))), expected);
  } finally {
    await fx.close();
  }
});

test('over the inbound rate, media is dropped but a mark echo settles its mark and a stop ends the call', async () => {
  const fx = await startEngine({ inboundPerSec: 10, inboundBurst: 5, inboundFloodCloseSec: 60 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    const marked = call.mark('over-the-rate');
    await c.waitFor((m) => m.some((x) => x.event === 'mark'), 5000, 'the mark on the wire');
    for (let i = 0; i < 50; i++) c.media160(stampedFrame(i));
    c.echoMark('over-the-rate');
    for (let i = 0; i < 50; i++) c.media160(stampedFrame(i));
    assert.deepEqual(await marked, { name: 'over-the-rate', status: 'played' });
    c.stop();
    await until(() => call.isClosed, 5000, 'the call ended by stop');
    assert.ok(
      (fx.engine.stats().rejected[ErrorCodes.INBOUND_RATE] ?? 0) >= 80,
      'the media flood was dropped and counted',
    );
    assert.equal(fx.engine.calls.size, 0);
  } finally {
    await fx.close();
  }
});

test('refused upgrades whose peer resets while we answer do not take the process down', async () => {
  const fx = await startEngine({ maxCalls: 1 });
  try {
    const control = await fx.connect();
    const controlCall = await startCall(fx.engine, control);
    const port = Number(new URL(fx.url).port);
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const s = connect(port, '127.0.0.1');
          await once(s, 'connect');
          s.write(UPGRADE_REQUEST(port));
          s.resetAndDestroy(); // RST: the server's 503 meets a reset socket
          await once(s, 'close');
        }),
      );
    }
    assert.ok(
      (fx.engine.stats().rejected[ErrorCodes.TOO_MANY_CALLS] ?? 0) > 0,
      'the upgrades reached admission and were refused',
    );
    for (let seq = 0; seq < 10; seq++) controlCall.send(stampedFrame(seq));
    await control.waitFor((m) => m.filter((x) => x.event === 'media').length >= 10, 5000, 'control audio');
    assert.deepEqual(
      control.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 10 }, (_, i) => i),
    );
  } finally {
    await fx.close();
  }
});

test('keepalive: a peer that answers no ping and sends nothing is terminated and counted; a live one stays', async () => {
  const fx = await startEngine({ keepaliveMs: 200 });
  try {
    const live = await fx.connect(); // ws answers pings by itself
    const liveCall = await startCall(fx.engine, live);
    const gone = new WebSocket(fx.url, { autoPong: false }); // a peer whose network vanished
    await once(gone, 'open');
    const goneClosed = new Promise<number>((resolve) => gone.once('close', (code) => resolve(code)));
    const started = once(fx.engine, 'call');
    gone.send(connectedMessage());
    gone.send(startMessage('MZgone', 'CAgone', {}));
    await started;
    assert.equal(await goneClosed, 1006, 'terminated, no close handshake');
    await until(() => fx.engine.stats().rejected[ErrorCodes.PEER_GONE] !== undefined, 2000, 'the termination counted');
    assert.equal(fx.engine.stats().rejected[ErrorCodes.PEER_GONE], 1);
    await until(() => fx.engine.calls.size === 1, 5000, 'the silent call released');
    await new Promise((r) => setTimeout(r, 500)); // more rounds: the live peer keeps answering
    assert.equal(live.closeCode, null);
    assert.equal(liveCall.isClosed, false);
    assert.equal(fx.engine.stats().rejected[ErrorCodes.PEER_GONE], 1);
  } finally {
    await fx.close();
  }
});
