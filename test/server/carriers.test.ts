import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { ErrorCodes, type Call, type MarkResult } from '../../src/index.js';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { connectedMessage, startMessage } from '../../src/loadtest/twilio-side.js';
import { startEngine, until, type Fixture } from '../helpers/engine-fixture.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';
import { TelnyxClient, type TelnyxOutbound } from '../helpers/telnyx-client.js';
import { PlivoClient } from '../helpers/plivo-client.js';
import { plivoSignatureV3 } from '../../src/server/carrier-auth.js';
import { upgradeStatus } from '../helpers/upgrade-status.js';

const ROUTES = {
  '/media': 'twilio',
  '/telnyx': 'telnyx',
  '/signalwire': 'signalwire',
  '/plivo': 'plivo',
  '/exotel': 'exotel',
  '/vonage': 'vonage',
  '/asterisk': 'asterisk',
} as const;
const PLIVO_TOKEN = 'plivo-auth-token-1';
const TELNYX_TOKEN = 'telnyx-secret-1';
const SIGNALWIRE_TOKEN = 'sw-secret-1';

function urlOf(fx: Fixture, path: string): string {
  return `ws://127.0.0.1:${fx.engine.address()!.port}${path}`;
}

const stampOf = (m: TelnyxOutbound): number => readStamp(Buffer.from(m.media!.payload, 'base64'));

test('Telnyx: start, echo with well-formed Telnyx media, DTMF → clear then mark, nothing queued before the clear after it, the mark settles', async () => {
  const fx = await startEngine({ routes: { ...ROUTES }, telnyxStreamToken: TELNYX_TOKEN });
  attachDemoApp(fx.engine);
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const peer = await TelnyxClient.connect(urlOf(fx, '/telnyx'), 'tx-stream-1', {
      'x-telnyx-streaming-auth-token': TELNYX_TOKEN,
    });
    peer.start({ mode: 'echo', lang: 'en' });
    const [call] = await calling;
    assert.equal(call.streamSid, 'tx-stream-1');
    assert.equal(call.callSid, 'v3:tx-stream-1');
    assert.deepEqual(call.customParameters, { mode: 'echo', lang: 'en' });
    const marks: MarkResult[] = [];
    call.on('mark', (r) => marks.push(r));

    for (let s = 0; s < 20; s++) peer.media160(stampedFrame(s));
    await peer.waitFor(() => peer.media.length >= 20, 5000, '20 echoed frames');
    for (const m of peer.media) {
      assert.deepEqual(
        Object.keys(m)
          .filter((k) => k !== 'at')
          .sort(),
        ['event', 'media'],
        'Telnyx media: event and media only',
      );
      assert.deepEqual(Object.keys(m.media!), ['payload']);
      assert.equal(Buffer.from(m.media!.payload, 'base64').length, 160);
    }
    assert.deepEqual(
      peer.media.map(stampOf),
      Array.from({ length: 20 }, (_, k) => k),
      'in order, bytes unchanged',
    );

    // A backlog queued on the server, then barge-in.
    for (let s = 100; s < 200; s++) peer.media160(stampedFrame(s));
    await until(() => call.queueDepth > 20, 5000, 'a backlog queued');
    peer.dtmf('5');
    await peer.waitFor(() => peer.received.some((m) => m.event === 'mark'), 5000, 'the clear and the mark');
    const clearAt = peer.received.findIndex((m) => m.event === 'clear');
    const markAt = peer.received.findIndex((m) => m.event === 'mark');
    assert.ok(clearAt >= 0 && clearAt < markAt, 'clear, then the mark');
    assert.deepEqual(peer.received[clearAt]!['event'], 'clear');
    assert.deepEqual(
      Object.keys(peer.received[clearAt]!).filter((k) => k !== 'at'),
      ['event'],
      'Telnyx clear is {"event":"clear"}',
    );
    assert.deepEqual(peer.received[markAt]!.mark, { name: 'dtmf-5' });
    // One socket is read in order: the whole backlog was queued before the DTMF, so after the
    // clear nothing of it may follow, and the fresh audio comes after the mark.
    const afterClear = (): number[] =>
      peer.received
        .slice(clearAt + 1)
        .filter((m) => m.event === 'media')
        .map(stampOf);
    assert.deepEqual(afterClear(), [], 'no frame queued before the clear is sent after it');
    for (let s = 1000; s < 1005; s++) peer.media160(stampedFrame(s));
    await peer.waitFor(() => afterClear().length >= 5, 5000, 'the audio sent after the barge-in');
    assert.deepEqual(afterClear(), [1000, 1001, 1002, 1003, 1004]);
    peer.echoMark('dtmf-5');
    await until(() => marks.some((r) => r.name === 'dtmf-5'), 5000, 'the mark to settle');
    assert.deepEqual(
      marks.find((r) => r.name === 'dtmf-5'),
      { name: 'dtmf-5', status: 'played' },
    );

    const closed = once(call, 'close') as Promise<[{ code: number }]>;
    peer.stop();
    await closed;
    await until(() => fx.engine.calls.size === 0, 5000, 'the lane released');
    assert.deepEqual(peer.badInbound, [], 'Telnyx gets text JSON only');
  } finally {
    await fx.close();
  }
});

test('Telnyx: bad input gets coded rejections, an OPUS start is refused (1003), and a control call streams on', async () => {
  const fx = await startEngine({ routes: { ...ROUTES } });
  attachDemoApp(fx.engine);
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const control = await TelnyxClient.connect(urlOf(fx, '/telnyx'), 'tx-control');
    control.start({ mode: 'echo' });
    await calling;

    const bad = await TelnyxClient.connect(urlOf(fx, '/telnyx'), 'tx-bad');
    bad.media160(stampedFrame(1)); // before start
    bad.ws.send('{"event":"media"'); // not JSON
    bad.ws.send(JSON.stringify({ event: 'hello', stream_id: 'tx-bad' }));
    bad.start({}, 'OPUS');
    assert.equal(await new Promise<number>((r) => bad.ws.once('close', (code) => r(code))), 1003);

    const short = await TelnyxClient.connect(urlOf(fx, '/telnyx'), 'tx-short');
    const shortCall = once(fx.engine, 'call');
    short.start({ mode: 'echo' });
    await shortCall;
    short.ws.send(
      JSON.stringify({
        event: 'media',
        stream_id: 'tx-short',
        media: { chunk: '1', timestamp: '20', payload: Buffer.alloc(80).toString('base64') },
      }),
    );
    short.ws.send(
      JSON.stringify({
        event: 'media',
        stream_id: 'not-this-one',
        media: { chunk: '2', timestamp: '40', payload: Buffer.alloc(160).toString('base64') },
      }),
    );

    for (let s = 0; s < 30; s++) control.media160(stampedFrame(s));
    await control.waitFor(() => control.media.length >= 30, 5000, 'the control call echoed');
    assert.deepEqual(
      control.media.map(stampOf),
      Array.from({ length: 30 }, (_, k) => k),
    );
    await fx.engine.settled();
    const r = fx.engine.stats().rejected;
    assert.equal(r[ErrorCodes.NOT_STARTED], 1);
    assert.equal(r[ErrorCodes.BAD_JSON], 1);
    assert.equal(r[ErrorCodes.UNKNOWN_EVENT], 1);
    assert.equal(r[ErrorCodes.MEDIA_FORMAT], 1);
    assert.equal(r[ErrorCodes.PAYLOAD_SIZE], 1);
    assert.equal(r[ErrorCodes.STREAM_SID], 1);
  } finally {
    await fx.close();
  }
});

test('Telnyx: media out of sequence order reaches the app in order; a frame older than what was delivered is dropped and counted', async () => {
  const fx = await startEngine({ routes: { ...ROUTES } });
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const peer = await TelnyxClient.connect(urlOf(fx, '/telnyx'), 'tx-order');
    peer.start();
    const [call] = await calling;
    const got: number[] = [];
    call.on('media', (m) => got.push(readStamp(m.payload)));
    // start was sequence 1 (connected carries none): media from 2 on, with two swaps and a straggler
    for (const seq of [2, 4, 3, 5, 7, 6, 8, 3]) peer.mediaAt(stampedFrame(seq), seq);
    peer.dtmf('1'); // a non-media event: anything held goes first
    await until(() => got.length >= 7, 5000, 'the seven frames');
    assert.deepEqual(got, [2, 3, 4, 5, 6, 7, 8]);
    // Telnyx numbers every message (the DTMF took a sequence number too): media is ordered by
    // its own chunk counter, so the next frames go straight through, nothing held for a gap.
    peer.mediaAt(stampedFrame(9), 9);
    peer.mediaAt(stampedFrame(10), 10);
    await until(() => got.length >= 9, 2000, 'the frames after the DTMF, not held');
    assert.deepEqual(got.slice(7), [9, 10]);
    await fx.engine.settled();
    assert.equal(fx.engine.stats().rejected[ErrorCodes.INBOUND_ORDER], 1, 'the repeated 3 was dropped, counted');
  } finally {
    await fx.close();
  }
});

test('Telnyx: a mark echo between a late frame and the frames that overtook it passes the reorder window without flushing it: nothing is dropped', async () => {
  const fx = await startEngine({ routes: { ...ROUTES } });
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const peer = await TelnyxClient.connect(urlOf(fx, '/telnyx'), 'tx-mark-order');
    peer.start();
    const [call] = await calling;
    const got: number[] = [];
    call.on('media', (m) => got.push(readStamp(m.payload)));
    const played = call.mark('m');
    await peer.waitFor(() => peer.received.some((m) => m.event === 'mark'), 2000, 'the mark');
    // Frame 3 comes after 4, and Telnyx echoes the mark in between (it plays our audio meanwhile).
    peer.mediaAt(stampedFrame(2), 2);
    peer.mediaAt(stampedFrame(4), 4);
    peer.echoMark('m');
    peer.mediaAt(stampedFrame(3), 3);
    peer.mediaAt(stampedFrame(5), 5);
    await until(() => got.length >= 4, 5000, 'the four frames');
    assert.deepEqual(got, [2, 3, 4, 5]);
    assert.equal((await played).status, 'played');
    await fx.engine.settled();
    assert.equal(fx.engine.stats().rejected[ErrorCodes.INBOUND_ORDER], undefined, 'no frame dropped as out of order');
  } finally {
    await fx.close();
  }
});

test('who may connect: Telnyx stream token and SignalWire bearer token, each checked on its own route (403, counted); Twilio route unaffected', async () => {
  const fx = await startEngine({
    routes: { ...ROUTES },
    telnyxStreamToken: TELNYX_TOKEN,
    signalwireToken: SIGNALWIRE_TOKEN,
  });
  try {
    const telnyx = urlOf(fx, '/telnyx');
    const sw = urlOf(fx, '/signalwire');
    assert.equal(await upgradeStatus(telnyx, {}), 403);
    assert.equal(await upgradeStatus(telnyx, { 'x-telnyx-streaming-auth-token': 'wrong' }), 403);
    assert.equal(await upgradeStatus(telnyx, { 'x-telnyx-streaming-auth-token': TELNYX_TOKEN }), 101);
    assert.equal(await upgradeStatus(sw, {}), 403);
    assert.equal(await upgradeStatus(sw, { authorization: `Bearer ${TELNYX_TOKEN}` }), 403, "another carrier's token");
    assert.equal(await upgradeStatus(sw, { authorization: `Bearer ${SIGNALWIRE_TOKEN}` }), 101);
    assert.equal(await upgradeStatus(urlOf(fx, '/media'), {}), 101, 'no Twilio token configured: no check there');
    assert.equal(await upgradeStatus(urlOf(fx, '/genesys'), {}), 404, 'a path of no route');
    await fx.engine.settled();
    assert.equal(fx.engine.stats().rejected[ErrorCodes.BAD_SIGNATURE], 4);

    // SignalWire speaks Twilio's messages: a call starts and echoes under its own carrier name.
    const ws = new WebSocket(sw, { headers: { authorization: `Bearer ${SIGNALWIRE_TOKEN}` } });
    await once(ws, 'open');
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    ws.send(connectedMessage());
    ws.send(startMessage('MZsignalwire1', 'CAsignalwire1', { mode: 'echo' }));
    const [call] = await calling;
    assert.equal(call.streamSid, 'MZsignalwire1');
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    call.send(stampedFrame(7));
    await until(() => got.length >= 1, 5000, 'a frame on the SignalWire socket');
    const m = JSON.parse(got[0]!) as { event: string; streamSid: string; media: { payload: string } };
    assert.equal(m.event, 'media');
    assert.equal(m.streamSid, 'MZsignalwire1');
    assert.equal(readStamp(Buffer.from(m.media.payload, 'base64')), 7);
    ws.close();
  } finally {
    await fx.close();
  }
});

test('routes are checked: a path without a slash, an unknown carrier, or path and routes together are refused with a coded error', async () => {
  const { createEngine, PtimeError } = await import('../../src/index.js');
  for (const [opts, re] of [
    [{ routes: { telnyx: 'telnyx' } }, /must start with '\/'/],
    [{ routes: { '/x': 'skype' } }, /unknown carrier "skype"/],
    [{ routes: { '/x': 'telnyx' }, path: '/media' }, /either path .* or routes/],
  ] as const) {
    await assert.rejects(
      createEngine({ port: 0, ...(opts as object) }),
      (err: unknown) => err instanceof PtimeError && err.code === ErrorCodes.INVALID_OPTION && re.test(err.message),
    );
  }
});

test('Plivo: start with extra_headers, playAudio frames, DTMF → clearAudio then checkpoint, playedStream settles the mark, the close ends the call', async () => {
  const fx = await startEngine({ routes: { ...ROUTES }, plivoAuthToken: PLIVO_TOKEN });
  attachDemoApp(fx.engine);
  try {
    const url = `${urlOf(fx, '/plivo')}?b=2&a=1`;
    const nonce = '81237';
    const signature = plivoSignatureV3(PLIVO_TOKEN, url, nonce);
    assert.equal(
      await upgradeStatus(url, { 'x-plivo-signature-v3': 'AAAA', 'x-plivo-signature-v3-nonce': nonce }),
      403,
      'a wrong signature',
    );
    assert.equal(await upgradeStatus(url, { 'x-plivo-signature-v3': signature }), 403, 'no nonce');
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const peer = await PlivoClient.connect(url, 'pl-stream-1', {
      'x-plivo-signature-v3': `other,${signature}`,
      'x-plivo-signature-v3-nonce': nonce,
    });
    peer.start('mode=echo;lang=de');
    const [call] = await calling;
    assert.equal(
      await upgradeStatus(url, { 'x-plivo-signature-v3': signature, 'x-plivo-signature-v3-nonce': nonce }),
      403,
      'the same signed upgrade replayed',
    );
    assert.equal(call.streamSid, 'pl-stream-1');
    assert.equal(call.callSid, 'call-pl-stream-1');
    assert.deepEqual(call.customParameters, { mode: 'echo', lang: 'de' });
    const marks: MarkResult[] = [];
    call.on('mark', (r) => marks.push(r));
    for (let s = 0; s < 10; s++) peer.media160(stampedFrame(s));
    await peer.waitFor(() => peer.media.length >= 10, 5000, '10 echoed frames');
    for (const m of peer.media) {
      assert.deepEqual(
        { ...m.media, payload: undefined },
        { contentType: 'audio/x-mulaw', sampleRate: 8000, payload: undefined },
      );
    }
    assert.deepEqual(
      peer.media.map((m) => readStamp(Buffer.from(m.media!.payload, 'base64'))),
      Array.from({ length: 10 }, (_, k) => k),
    );
    for (let s = 100; s < 180; s++) peer.media160(stampedFrame(s));
    await until(() => call.queueDepth > 20, 5000, 'a backlog queued');
    peer.dtmf('7');
    await peer.waitFor(() => peer.received.some((m) => m.event === 'checkpoint'), 5000, 'the clear and the checkpoint');
    const clearAt = peer.received.findIndex((m) => m.event === 'clearAudio');
    const cpAt = peer.received.findIndex((m) => m.event === 'checkpoint');
    assert.ok(clearAt >= 0 && clearAt < cpAt, 'clearAudio, then the checkpoint');
    assert.deepEqual(peer.received[clearAt], { event: 'clearAudio', streamId: 'pl-stream-1' });
    assert.deepEqual(peer.received[cpAt], { event: 'checkpoint', streamId: 'pl-stream-1', name: 'dtmf-7' });
    assert.equal(
      peer.received.slice(clearAt + 1).filter((m) => m.event === 'playAudio').length,
      0,
      'nothing queued before the clear after it',
    );
    peer.clearedAudio();
    peer.playedStream('dtmf-7');
    await until(() => marks.length > 0, 5000, 'the mark to settle');
    assert.deepEqual(marks, [{ name: 'dtmf-7', status: 'played' }]);
    const closed = once(call, 'close');
    peer.ws.close();
    await closed;
    await until(() => fx.engine.calls.size === 0, 5000, 'the lane released');
    await fx.engine.settled();
    assert.equal(fx.engine.stats().rejected[ErrorCodes.BAD_SIGNATURE], 3);
    assert.equal(fx.engine.stats().rejected[ErrorCodes.UNKNOWN_EVENT], undefined, 'clearedAudio is understood');
  } finally {
    await fx.close();
  }
});

test('the load generator plays each carrier’s side: echo frames come back, DTMF gives that carrier’s clear and a mark it answers', async () => {
  const { runLoad } = await import('../../src/loadtest/load-generator.js');
  const fx = await startEngine({ routes: { ...ROUTES } });
  attachDemoApp(fx.engine);
  try {
    for (const [path, carrier] of Object.entries(ROUTES)) {
      const r = await runLoad({
        url: urlOf(fx, path),
        calls: 3,
        seconds: 2,
        rampPerSec: 50,
        mode: 'echo',
        carrier,
        dtmfEverySec: 1,
      });
      assert.equal(r.failedToConnect, 0, carrier);
      for (const c of r.calls) {
        assert.ok(c.arrivals.length >= 50, `${carrier}: ${c.arrivals.length} echoed frames`);
        assert.ok(c.clears >= 1 && c.marks >= 1, `${carrier}: ${c.clears} clears, ${c.marks} marks`);
      }
      await until(() => fx.engine.calls.size === 0, 5000, `${carrier} calls ended`);
    }
    await fx.engine.settled();
    assert.deepEqual(fx.engine.stats().rejected, {}, 'every dialect spoken without a rejection');
  } finally {
    await fx.close();
  }
});
