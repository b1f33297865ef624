import { test } from 'node:test';
import { audioFormat, MULAW_8K } from '../../src/codec/audio-format.js';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import { PlivoAdapter } from '../../src/protocol/plivo-adapter.js';
import { plivoSignatureV3, plivoSignedUrl } from '../../src/server/carrier-auth.js';

const a = new PlivoAdapter();
const frame = Buffer.alloc(160, 0x7f).toString('base64');

function rejects(raw: string, code: string): void {
  assert.throws(
    () => a.parse(raw, MULAW_8K),
    (err: unknown) => err instanceof PtimeError && err.code === code,
    raw.slice(0, 80),
  );
}

test('Plivo start: streamId, callId, accountId, and extra_headers k=v;k=v as parameters', () => {
  const ev = a.parse(
    JSON.stringify({
      event: 'start',
      sequenceNumber: 1,
      start: {
        callId: 'c-1',
        streamId: 's-1',
        accountId: 'MA1',
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 },
      },
      extra_headers: 'mode=tone; lang=de;broken',
    }),
  );
  assert.equal(ev.event, 'start');
  if (ev.event !== 'start') return;
  assert.deepEqual(
    [ev.start.carrier, ev.start.streamSid, ev.start.callSid, ev.start.accountSid],
    ['plivo', 's-1', 'c-1', 'MA1'],
  );
  assert.deepEqual(ev.start.customParameters, { mode: 'tone', lang: 'de' });
});

test('Plivo media, dtmf (stream named or not), playedStream as a mark echo, clearedAudio as an acknowledgement', () => {
  const m = a.parse(
    JSON.stringify({
      event: 'media',
      sequenceNumber: 3,
      streamId: 's-1',
      media: { track: 'inbound', timestamp: '40', chunk: 2, payload: frame },
    }),
  );
  assert.deepEqual(
    { ...m, payload: undefined },
    { event: 'media', streamSid: 's-1', track: 'inbound', chunk: 2, timestamp: 40, payload: undefined },
  );
  assert.deepEqual(a.parse(JSON.stringify({ event: 'dtmf', dtmf: { track: 'inbound', digit: '9', timestamp: '1' } })), {
    event: 'dtmf',
    streamSid: '',
    track: 'inbound',
    digit: '9',
  });
  assert.deepEqual(a.parse(JSON.stringify({ event: 'playedStream', streamId: 's-1', name: 'm1' })), {
    event: 'mark',
    streamSid: 's-1',
    name: 'm1',
  });
  assert.deepEqual(a.parse(JSON.stringify({ event: 'clearedAudio', streamId: 's-1' })), {
    event: 'ack',
    what: 'clearedAudio',
  });
});

test('Plivo bad input: coded rejections', () => {
  rejects('nope', ErrorCodes.BAD_JSON);
  rejects(JSON.stringify({ event: 'stop', streamId: 's' }), ErrorCodes.UNKNOWN_EVENT);
  rejects(
    JSON.stringify({ event: 'media', streamId: 7, media: { chunk: 1, timestamp: 1, payload: frame } }),
    ErrorCodes.STREAM_SID,
  );
  rejects(
    JSON.stringify({
      event: 'media',
      streamId: 's',
      media: { chunk: 1, timestamp: 1, payload: Buffer.alloc(320).toString('base64') },
    }),
    ErrorCodes.PAYLOAD_SIZE,
  );
  rejects(
    JSON.stringify({
      event: 'start',
      start: { callId: 'c', streamId: 's', mediaFormat: { encoding: 'audio/x-l16', sampleRate: 24000 } },
    }),
    ErrorCodes.MEDIA_FORMAT,
  );
  rejects(
    JSON.stringify({
      event: 'start',
      start: { callId: 'c', streamId: 's', mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } },
      extra_headers: 'x'.repeat(513),
    }),
    ErrorCodes.BAD_MESSAGE,
  );
});

test('Plivo outbound: playAudio with its content type, checkpoint and clearAudio naming the stream', () => {
  const w = a.mediaWire('s-1', MULAW_8K);
  assert.deepEqual(JSON.parse(`${w.prefix}${frame}${w.suffix}`), {
    event: 'playAudio',
    media: { contentType: 'audio/x-mulaw', sampleRate: 8000, payload: frame },
  });
  const l16 = a.mediaWire('s-1', audioFormat('l16', 16000));
  assert.deepEqual(JSON.parse(`${l16.prefix}${frame}${l16.suffix}`), {
    event: 'playAudio',
    media: { contentType: 'audio/x-l16', sampleRate: 16000, payload: frame },
  });
  assert.deepEqual(JSON.parse(a.markMessage('s-1', 'm')), { event: 'checkpoint', streamId: 's-1', name: 'm' });
  assert.deepEqual(JSON.parse(a.clearMessage('s-1')), { event: 'clearAudio', streamId: 's-1' });
});

test('Plivo V3 signature: the URL with its query sorted by key then value, a dot, the nonce; HMAC-SHA256, base64', () => {
  assert.equal(
    plivoSignedUrl('wss://voice.example.com:8443/plivo?b=2&a=3&a=1'),
    'wss://voice.example.com:8443/plivo?a=1&a=3&b=2',
  );
  assert.equal(plivoSignedUrl('wss://voice.example.com/plivo'), 'wss://voice.example.com/plivo');
  const expected = createHmac('sha256', 'tok')
    .update('wss://voice.example.com:8443/plivo?a=1&a=3&b=2.12345')
    .digest('base64');
  assert.equal(plivoSignatureV3('tok', 'wss://voice.example.com:8443/plivo?b=2&a=3&a=1', '12345'), expected);
});
