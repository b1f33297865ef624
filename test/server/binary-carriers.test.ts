import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ErrorCodes, type Call, type MarkResult } from '../../src/index.js';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { startEngine, until, type Fixture } from '../helpers/engine-fixture.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';
import { BinaryPeer } from '../helpers/binary-peer.js';
import { upgradeStatus } from '../helpers/upgrade-status.js';

const ROUTES = { '/media': 'twilio', '/vonage': 'vonage', '/asterisk': 'asterisk', '/exotel': 'exotel' } as const;
const VONAGE_AUTH = { Authorization: 'Bearer vonage-secret-1' };
const ASTERISK_AUTH = { Authorization: `Basic ${Buffer.from('asterisk:pw-1').toString('base64')}` };
const EXOTEL_AUTH = { Authorization: `Basic ${Buffer.from('KEY1:TOKEN1').toString('base64')}` };
const AUTH = {
  vonageAuth: 'bearer:vonage-secret-1',
  asteriskAuth: 'basic:asterisk:pw-1',
  exotelCredentials: 'KEY1:TOKEN1',
};

function urlOf(fx: Fixture, path: string): string {
  return `ws://127.0.0.1:${fx.engine.address()!.port}${path}`;
}

const stamps = (frames: Buffer[], size: number): number[] => frames.map((f) => readStamp(f, 0, size));
const frameOf = (seq: number, size: number): Uint8Array => stampedFrame(seq, new Uint8Array(size));
const isCmd =
  (name: string) =>
  (m: Record<string, unknown>): boolean =>
    m['command'] === name;
const isAction =
  (name: string) =>
  (m: Record<string, unknown>): boolean =>
    m['action'] === name;

test('Vonage: websocket:connected is the start (L16 16 kHz, headers as parameters), binary echo of exact 640-byte frames, DTMF → clear then notify, the notify echo settles the mark', async () => {
  const fx = await startEngine({ routes: { ...ROUTES }, ...AUTH });
  attachDemoApp(fx.engine);
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const peer = await BinaryPeer.connect(urlOf(fx, '/vonage'), VONAGE_AUTH);
    peer.json({
      event: 'websocket:connected',
      'content-type': 'audio/l16;rate=16000',
      mode: 'echo',
      uuid: 'vg-call-1',
    });
    const [call] = await calling;
    assert.deepEqual({ ...call.format }, { encoding: 'l16', sampleRate: 16000, frameBytes: 640, silence: 0 });
    assert.equal(call.callSid, 'vg-call-1');
    assert.deepEqual(call.customParameters, { mode: 'echo', uuid: 'vg-call-1' });
    assert.match(call.streamSid, /^[0-9a-f-]{36}$/, 'ptime names the stream (Vonage does not)');
    const marks: MarkResult[] = [];
    call.on('mark', (r) => marks.push(r));

    for (let s = 0; s < 20; s++) peer.frame(frameOf(s, 640));
    await peer.waitFor(() => peer.audio.length >= 20, 5000, '20 echoed frames');
    assert.ok(
      peer.audio.every((f) => f.length === 640),
      'every message exactly 640 bytes (20 ms at 16 kHz)',
    );
    assert.deepEqual(
      stamps(peer.audio, 640),
      Array.from({ length: 20 }, (_, k) => k),
      'in order, bytes unchanged',
    );

    for (let s = 100; s < 200; s++) peer.frame(frameOf(s, 640));
    await until(() => call.queueDepth > 20, 5000, 'a backlog queued');
    peer.json({ event: 'websocket:dtmf', digit: '5', duration: 260 });
    await peer.waitFor(() => peer.indexOf(isAction('notify')) >= 0, 5000, 'the clear and the notify');
    const clearAt = peer.indexOf(isAction('clear'));
    const markAt = peer.indexOf(isAction('notify'));
    assert.ok(clearAt >= 0 && clearAt < markAt, 'clear, then the notify');
    assert.deepEqual(peer.control[peer.control.findIndex(isAction('clear'))], { action: 'clear' });
    assert.deepEqual(peer.control.find(isAction('notify')), { action: 'notify', payload: { name: 'dtmf-5' } });
    const afterClear = (): number[] =>
      stamps(
        peer.received.slice(clearAt + 1).flatMap((m) => (m.kind === 'audio' ? [m.bytes] : [])),
        640,
      );
    assert.deepEqual(afterClear(), [], 'no frame queued before the clear is sent after it');
    for (let s = 1000; s < 1005; s++) peer.frame(frameOf(s, 640));
    await peer.waitFor(() => afterClear().length >= 5, 5000, 'the audio sent after the barge-in');
    assert.deepEqual(afterClear(), [1000, 1001, 1002, 1003, 1004]);
    peer.json({ event: 'websocket:cleared' });
    peer.json({ event: 'websocket:notify', payload: { name: 'dtmf-5' } });
    await until(() => marks.some((r) => r.name === 'dtmf-5'), 5000, 'the mark to settle');
    assert.deepEqual(
      marks.find((r) => r.name === 'dtmf-5'),
      { name: 'dtmf-5', status: 'played' },
    );
    assert.deepEqual(peer.notJson, []);

    // sendPcm16 converts to the call's format: 100 ms of 48 kHz audio is five 640-byte frames.
    const before = peer.audio.length;
    call.sendPcm16(new Int16Array(4800).fill(1000), 48000);
    call.flush();
    await peer.waitFor(() => peer.audio.length >= before + 5, 5000, 'the converted audio');
    assert.ok(peer.audio.slice(before).every((f) => f.length === 640));

    const closed = once(call, 'close');
    peer.ws.close(1000, 'hang-up');
    await closed;
    assert.equal(fx.engine.calls.size, 0, 'the close ended the call (Vonage sends no stop)');
  } finally {
    await fx.close();
  }
});

test('Asterisk chan_websocket: MEDIA_START (ulaw, channel variables), binary echo, DTMF_END → FLUSH_MEDIA then MARK_MEDIA, MEDIA_MARK_PROCESSED settles; MEDIA_XOFF holds the audio, bounded, until MEDIA_XON', async () => {
  const fx = await startEngine({ routes: { ...ROUTES }, ...AUTH, queue: 40 });
  attachDemoApp(fx.engine);
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const peer = await BinaryPeer.connect(urlOf(fx, '/asterisk'), ASTERISK_AUTH, ['media']);
    peer.json({
      event: 'MEDIA_START',
      connection_id: 'conn-1',
      channel: 'WebSocket/conn-1',
      channel_id: 'chan-1',
      format: 'ulaw',
      optimal_frame_size: 160,
      ptime: 20,
      channel_variables: { mode: 'echo' },
    });
    const [call] = await calling;
    assert.equal(call.streamSid, 'conn-1');
    assert.equal(call.callSid, 'chan-1');
    assert.equal(call.format.encoding, 'mulaw');
    const marks: MarkResult[] = [];
    call.on('mark', (r) => marks.push(r));

    for (let s = 0; s < 20; s++) peer.frame(stampedFrame(s));
    await peer.waitFor(() => peer.audio.length >= 20, 5000, '20 echoed frames');
    assert.ok(peer.audio.every((f) => f.length === 160));
    assert.deepEqual(
      stamps(peer.audio, 160),
      Array.from({ length: 20 }, (_, k) => k),
    );

    for (let s = 100; s < 130; s++) peer.frame(stampedFrame(s));
    await until(() => call.queueDepth > 10, 5000, 'a backlog queued');
    peer.json({ event: 'DTMF_END', channel_id: 'chan-1', digit: '7' });
    await peer.waitFor(() => peer.indexOf(isCmd('MARK_MEDIA')) >= 0, 5000, 'FLUSH_MEDIA and MARK_MEDIA');
    const clearAt = peer.indexOf(isCmd('FLUSH_MEDIA'));
    assert.ok(clearAt >= 0 && clearAt < peer.indexOf(isCmd('MARK_MEDIA')));
    assert.deepEqual(peer.control.find(isCmd('MARK_MEDIA')), { command: 'MARK_MEDIA', correlation_id: 'dtmf-7' });
    assert.equal(
      peer.received.slice(clearAt + 1).filter((m) => m.kind === 'audio').length,
      0,
      'nothing of the backlog after FLUSH_MEDIA',
    );
    peer.json({ event: 'MEDIA_MARK_PROCESSED', channel_id: 'chan-1', correlation_id: 'dtmf-7' });
    await until(() => marks.some((r) => r.name === 'dtmf-7'), 5000, 'the mark to settle');
    assert.deepEqual(
      marks.find((r) => r.name === 'dtmf-7'),
      { name: 'dtmf-7', status: 'played' },
    );

    // Flow control: with the lane empty, XOFF; what the app sends now waits, bounded by the queue.
    await until(() => call.queueDepth === 0, 5000, 'the queue to empty');
    await fx.engine.settled();
    const sent = peer.audio.length;
    peer.json({ event: 'MEDIA_XOFF', channel_id: 'chan-1' });
    for (let s = 200; s < 260; s++) peer.frame(stampedFrame(s));
    await until(() => call.stats().drops === 20, 5000, 'the 60 frames against a 40-frame queue: 20 dropped oldest');
    await fx.engine.settled();
    assert.equal(peer.audio.length, sent, 'nothing is sent while paused');
    assert.equal(call.queueDepth, 40, 'the queue holds its bound');
    peer.json({ event: 'MEDIA_XON', channel_id: 'chan-1' });
    await peer.waitFor(() => peer.audio.length >= sent + 40, 5000, 'the held audio after MEDIA_XON');
    assert.deepEqual(
      stamps(peer.audio.slice(sent), 160),
      Array.from({ length: 40 }, (_, k) => 220 + k),
      'the newest 40, in order',
    );

    // A mark name that would make a MARK_MEDIA command over Asterisk's 128 bytes is refused by name.
    assert.throws(
      () => void call.mark('m'.repeat(100)),
      (e: Error & { code?: string }) =>
        e.code === ErrorCodes.MARK_NAME && /asterisk's command size\) is 84/.test(e.message),
    );
    const closed = once(call, 'close');
    peer.ws.close(1000, 'hang-up');
    await closed;
  } finally {
    await fx.close();
  }
});

test('Exotel: start at 8 kHz L16, 100 ms inbound chunks reach the app as 20 ms frames, outbound batched to 3.2 kB messages of whole frames in order, DTMF → clear then mark, stop ends the call', async () => {
  const fx = await startEngine({ routes: { ...ROUTES }, ...AUTH });
  attachDemoApp(fx.engine);
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const peer = await BinaryPeer.connect(urlOf(fx, '/exotel'), EXOTEL_AUTH);
    const sid = 'ex-stream-1';
    peer.json({ event: 'connected' });
    peer.json({
      event: 'start',
      sequence_number: '1',
      stream_sid: sid,
      start: {
        stream_sid: sid,
        call_sid: 'ex-call-1',
        account_sid: 'ex-acct',
        from: '+911',
        to: '+912',
        custom_parameters: { mode: 'echo' },
        media_format: { encoding: 'audio/x-raw', sample_rate: '8000', bit_rate: '16' },
      },
    });
    const [call] = await calling;
    assert.equal(call.callSid, 'ex-call-1');
    assert.equal(call.accountSid, 'ex-acct');
    assert.equal(call.format.frameBytes, 320);
    const inbound: number[] = [];
    call.on('media', (m) => inbound.push(readStamp(m.payload, 0, 320)));
    const marks: MarkResult[] = [];
    call.on('mark', (r) => marks.push(r));

    let seq = 1;
    const chunk = (first: number): void => {
      const bytes = Buffer.concat(Array.from({ length: 5 }, (_, i) => frameOf(first + i, 320)));
      peer.json({
        event: 'media',
        sequence_number: String(++seq),
        stream_sid: sid,
        media: { chunk: String(seq), timestamp: String(seq * 100), payload: bytes.toString('base64') },
      });
    };
    for (let c = 0; c < 6; c++) chunk(c * 5);
    const media = (): Record<string, unknown>[] => peer.control.filter((m) => m['event'] === 'media');
    const frames = (): Buffer[] =>
      media().flatMap((m) => {
        const bytes = Buffer.from((m['media'] as { payload: string }).payload, 'base64');
        return Array.from({ length: bytes.length / 320 }, (_, i) => bytes.subarray(i * 320, (i + 1) * 320));
      });
    await peer.waitFor(() => frames().length >= 30, 5000, '30 echoed frames');
    assert.deepEqual(
      inbound,
      Array.from({ length: 30 }, (_, k) => k),
      'each 100 ms chunk became five 20 ms media events, in order',
    );
    for (const m of media()) {
      assert.deepEqual(Object.keys(m).sort(), ['event', 'media', 'stream_sid']);
      assert.equal(m['stream_sid'], sid);
      const bytes = Buffer.from((m['media'] as { payload: string }).payload, 'base64').length;
      assert.ok(
        bytes % 320 === 0 && bytes <= 3200,
        `a message of ${bytes} bytes: whole 320-byte frames, at most 3.2 kB`,
      );
    }
    assert.ok(
      media().some((m) => Buffer.from((m['media'] as { payload: string }).payload, 'base64').length === 3200),
      'a queued backlog goes in 3.2 kB messages',
    );
    assert.deepEqual(
      stamps(frames(), 320),
      Array.from({ length: 30 }, (_, k) => k),
      'frames in order, bytes unchanged',
    );
    await fx.engine.settled();
    assert.equal(call.stats().framesSent, 30, 'framesSent counts 20 ms frames, not messages');

    peer.json({
      event: 'dtmf',
      sequence_number: String(++seq),
      stream_sid: sid,
      dtmf: { digit: '3', duration: '100' },
    });
    await peer.waitFor(() => peer.control.some((m) => m['event'] === 'mark'), 5000, 'the clear and the mark');
    const clearAt = peer.indexOf((m) => m['event'] === 'clear');
    assert.ok(clearAt >= 0 && clearAt < peer.indexOf((m) => m['event'] === 'mark'));
    assert.deepEqual(
      peer.control.find((m) => m['event'] === 'clear'),
      { event: 'clear', stream_sid: sid },
    );
    assert.deepEqual(
      peer.control.find((m) => m['event'] === 'mark'),
      { event: 'mark', stream_sid: sid, mark: { name: 'dtmf-3' } },
    );
    peer.json({ event: 'mark', sequence_number: String(++seq), stream_sid: sid, mark: { name: 'dtmf-3' } });
    await until(() => marks.some((r) => r.name === 'dtmf-3'), 5000, 'the mark to settle');
    assert.equal(marks.find((r) => r.name === 'dtmf-3')!.status, 'played');

    const closed = once(call, 'close');
    peer.json({
      event: 'stop',
      sequence_number: String(++seq),
      stream_sid: sid,
      stop: { call_sid: 'ex-call-1', account_sid: 'ex-acct', reason: 'callended' },
    });
    await closed;
  } finally {
    await fx.close();
  }
});

test('binary carriers: bad input gets coded rejections (binary before start, wrong frame size, unknown event, unsupported format → 1003) and a control call streams on', async () => {
  const fx = await startEngine({ routes: { ...ROUTES }, ...AUTH });
  attachDemoApp(fx.engine);
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const control = await BinaryPeer.connect(urlOf(fx, '/asterisk'), ASTERISK_AUTH);
    control.json({
      event: 'MEDIA_START',
      connection_id: 'ctl',
      channel: 'c',
      channel_id: 'ctl-chan',
      format: 'slin16',
      optimal_frame_size: 640,
      ptime: 20,
      channel_variables: { mode: 'echo' },
    });
    const [controlCall] = await calling;
    assert.equal(controlCall.format.frameBytes, 640);

    const bad = await BinaryPeer.connect(urlOf(fx, '/vonage'), VONAGE_AUTH);
    bad.frame(new Uint8Array(640)); // before the start
    bad.ws.send('{"event":'); // not JSON
    const badCall = once(fx.engine, 'call') as Promise<[Call]>;
    bad.json({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=8000' });
    await badCall;
    bad.frame(new Uint8Array(160)); // a mu-law-sized frame on an L16 8 kHz stream (320)
    bad.json({ event: 'websocket:hello' });
    bad.json({ event: 'websocket:dtmf', digit: 'Z' });

    const wrongFormat = await BinaryPeer.connect(urlOf(fx, '/asterisk'), ASTERISK_AUTH);
    wrongFormat.json({
      event: 'MEDIA_START',
      connection_id: 'x',
      channel: 'c',
      channel_id: 'x',
      format: 'g722',
      ptime: 20,
    });
    assert.equal(await new Promise<number>((r) => wrongFormat.ws.once('close', (code) => r(code))), 1003);

    for (let s = 0; s < 30; s++) control.frame(frameOf(s, 640));
    await control.waitFor(() => control.audio.length >= 30, 5000, 'the control call echoed');
    assert.deepEqual(
      stamps(control.audio, 640),
      Array.from({ length: 30 }, (_, k) => k),
    );
    await fx.engine.settled();
    const r = fx.engine.stats().rejected;
    assert.equal(r[ErrorCodes.NOT_STARTED], 1);
    assert.equal(r[ErrorCodes.BAD_JSON], 1);
    assert.equal(r[ErrorCodes.PAYLOAD_SIZE], 1);
    assert.equal(r[ErrorCodes.UNKNOWN_EVENT], 1);
    assert.equal(r[ErrorCodes.BAD_MESSAGE], 1);
    assert.equal(r[ErrorCodes.MEDIA_FORMAT], 1);
  } finally {
    await fx.close();
  }
});

test('who may connect: Exotel Basic, Vonage bearer and Asterisk Basic credentials, each on its own route (403 counted, wrong scheme too)', async () => {
  const fx = await startEngine({ routes: { ...ROUTES }, ...AUTH });
  try {
    const status = (path: string, headers: Record<string, string>): Promise<number> =>
      upgradeStatus(urlOf(fx, path), headers);
    assert.equal(await status('/exotel', EXOTEL_AUTH), 101);
    assert.equal(
      await status('/exotel', { Authorization: `Basic ${Buffer.from('KEY1:wrong').toString('base64')}` }),
      403,
    );
    assert.equal(await status('/exotel', {}), 403);
    assert.equal(await status('/vonage', VONAGE_AUTH), 101);
    assert.equal(await status('/vonage', { Authorization: 'Bearer nope' }), 403);
    assert.equal(
      await status('/vonage', { Authorization: `Basic ${Buffer.from('vonage-secret-1').toString('base64')}` }),
      403,
    );
    assert.equal(await status('/asterisk', ASTERISK_AUTH), 101);
    assert.equal(await status('/asterisk', { Authorization: 'Bearer pw-1' }), 403);
    assert.equal(await status('/media', {}), 101, 'the Twilio route has no check configured');
    await fx.engine.settled();
    assert.equal(fx.engine.stats().rejected[ErrorCodes.BAD_SIGNATURE], 5);
  } finally {
    await fx.close();
  }
});
