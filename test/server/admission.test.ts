import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import { ErrorCodes } from '../../src/index.js';
import { startCall, startEngine, until } from '../helpers/engine-fixture.js';
import { payloadBytes, TwilioClient } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

const TOKEN = 'test-auth-token-0123456789abcdef';
const sign = (url: string, token = TOKEN): string => createHmac('sha1', token).update(url).digest('base64');

/** Status of an upgrade attempt: 101 when it opened, else the HTTP status of the refusal. */
function upgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

test('X-Twilio-Signature: valid for the public URL opens, missing/wrong/other-token gets 403, each counted', async () => {
  const publicUrl = 'wss://voice.example.com/media';
  const fx = await startEngine({ twilioAuthToken: TOKEN, publicUrl });
  try {
    assert.equal(await upgrade(fx.url, { 'X-Twilio-Signature': sign(publicUrl) }), 101);
    assert.equal(
      await upgrade(`${fx.url}?x=1`, { 'X-Twilio-Signature': sign(`${publicUrl}?x=1`) }),
      101,
      'the query string is signed too',
    );
    assert.equal(await upgrade(fx.url, {}), 403);
    assert.equal(await upgrade(fx.url, { 'X-Twilio-Signature': sign(publicUrl, 'another-account-token') }), 403);
    assert.equal(await upgrade(fx.url, { 'X-Twilio-Signature': sign(fx.url) }), 403, 'signed for the wrong URL');
    assert.equal(await upgrade(fx.url, { 'X-Twilio-Signature': 'not base64 at all' }), 403);
    await fx.engine.settled();
    assert.equal(fx.engine.stats().rejected[ErrorCodes.BAD_SIGNATURE], 4);
    await until(
      () => fx.logs.some((l) => l.msg === 'rejected' && l['code'] === ErrorCodes.BAD_SIGNATURE),
      5000,
      'the log line',
    );
    assert.ok(!JSON.stringify(fx.logs).includes(TOKEN), 'the token is never logged');
  } finally {
    await fx.close();
  }
});

test('X-Twilio-Signature without publicUrl: the URL is built from the Host header the request came with', async () => {
  const fx = await startEngine({ twilioAuthToken: TOKEN });
  try {
    assert.equal(await upgrade(fx.url, { 'X-Twilio-Signature': sign(fx.url) }), 101);
    assert.equal(await upgrade(fx.url, { 'X-Twilio-Signature': sign(fx.url.replace('ws:', 'wss:')) }), 403);
  } finally {
    await fx.close();
  }
});

test('customParameters over maxCustomParametersBytes: the stream is closed with 1008 and counted', async () => {
  const fx = await startEngine({ maxCustomParametersBytes: 256 });
  try {
    const ok = await fx.connect();
    await startCall(fx.engine, ok, { mode: 'echo', note: 'x'.repeat(200) });
    const big = await fx.connect();
    big.start({ note: 'x'.repeat(300) });
    assert.equal(await big.closed(), 1008);
    await fx.engine.settled(); // io: 'worker': counted one I/O turn after the close
    assert.equal(fx.engine.stats().rejected[ErrorCodes.CUSTOM_PARAMETERS], 1);
    assert.equal(fx.engine.calls.size, 1);
  } finally {
    await fx.close();
  }
});

test('an inbound flood is dropped above the rate and closed with 1008 when it persists; a control call is untouched', async () => {
  const fx = await startEngine({ inboundPerSec: 100, inboundBurst: 50, inboundFloodCloseSec: 1 });
  try {
    const control = await fx.connect();
    const controlCall = await startCall(fx.engine, control);
    const flood = await fx.connect();
    const floodCall = await startCall(fx.engine, flood);
    let received = 0;
    floodCall.on('media', () => received++);
    const frame = stampedFrame(1);
    const timer = setInterval(() => {
      for (let i = 0; i < 20; i++) if (flood.ws.readyState === WebSocket.OPEN) flood.media160(frame); // 1000/s
    }, 20);
    for (let seq = 0; seq < 50; seq++) controlCall.send(stampedFrame(seq));
    const code = await flood.closed();
    clearInterval(timer);
    assert.equal(code, 1008);
    const dropped = fx.engine.stats().rejected[ErrorCodes.INBOUND_RATE] ?? 0;
    assert.ok(dropped > 0, 'excess messages counted');
    assert.ok(received <= 50 + 100 * 3, `no more than burst + rate got through (${received})`);
    await control.waitFor((m) => m.filter((x) => x.event === 'media').length >= 50, 5000, 'control audio');
    assert.deepEqual(
      control.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 50 }, (_, i) => i),
    );
  } finally {
    await fx.close();
  }
});

test('a peer that stops reading: its frames are dropped and counted, then it is closed with 1008; the other call keeps every frame', async () => {
  const fx = await startEngine({
    maxBufferedBytes: 64 * 1024,
    slowPeerCloseMs: 500,
    queue: 1024,
    highWaterMark: 1024,
    maxMarkNameBytes: 4096,
  });
  try {
    const control = await fx.connect();
    const controlCall = await startCall(fx.engine, control);
    const stuck = await fx.connect();
    const stuckCall = await startCall(fx.engine, stuck);
    // Stop reading on the client: the kernel buffers fill, then ws's bufferedAmount on the server grows.
    (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    // Big marks (4 KB each) fill the buffers in well under a second; frames go between them.
    const name = 'm'.repeat(4000);
    let k = 0;
    const feed = setInterval(() => {
      if (!stuckCall.accepting) return;
      for (let i = 0; i < 50; i++) void stuckCall.mark(`${name}${k++}`);
      stuckCall.send(stampedFrame(k));
    }, 20);
    try {
      for (let seq = 0; seq < 100; seq++) controlCall.send(stampedFrame(seq));
      await until(() => stuckCall.isClosed, 20_000, 'the stuck call closed');
    } finally {
      clearInterval(feed);
    }
    assert.ok(stuckCall.stats().slowPeerDrops > 0, 'frames were dropped, not buffered');
    assert.equal(fx.engine.stats().rejected[ErrorCodes.SLOW_PEER], 1);
    await control.waitFor((m) => m.filter((x) => x.event === 'media').length >= 100, 10_000, 'control audio');
    assert.deepEqual(
      control.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal(controlCall.stats().slowPeerDrops, 0);
  } finally {
    await fx.close();
  }
});

test('graceful close: queued audio plays out, new streams get 503, sockets close with 1001', async () => {
  const fx = await startEngine({ lead: 3, drainMs: 5000 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    let ending = 0;
    call.on('ending', () => ending++);
    for (let seq = 0; seq < 50; seq++) call.send(stampedFrame(seq)); // 1 s
    const closing = fx.engine.close();
    assert.equal(ending, 1);
    assert.equal(call.state, 'ending');
    assert.equal(call.send(stampedFrame(99)), false, 'new audio is refused while the engine drains, without a throw');
    await assert.rejects(TwilioClient.connect(fx.url), /503/);
    assert.equal(await c.closed(), 1001);
    await closing;
    assert.deepEqual(
      c.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 50 }, (_, i) => i),
      'every queued frame was sent first',
    );
  } finally {
    await fx.close();
  }
});

test('graceful close with a short deadline closes calls with audio still queued, and says so', async () => {
  const fx = await startEngine({ lead: 0 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    for (let seq = 0; seq < 100; seq++) call.send(stampedFrame(seq)); // 2 s
    await fx.engine.close({ drainMs: 200 });
    assert.equal(await c.closed(), 1001);
    assert.ok(c.media.length < 100, `cut short (${c.media.length} frames)`);
    assert.ok(
      fx.logs.some(
        (l) => l.msg === 'drain deadline reached; closing calls with audio still queued' && l['calls'] === 1,
      ),
    );
  } finally {
    await fx.close();
  }
});
