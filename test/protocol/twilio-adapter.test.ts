import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, ProtocolRejection, type ErrorCode } from '../../src/errors.js';
import { TwilioAdapter } from '../../src/protocol/twilio-adapter.js';
import { MULAW_8K as WIRE_MULAW } from '../../src/codec/audio-format.js';

const SID = 'MZ00000000000000000000000000000001';
const CALL = 'CA00000000000000000000000000000001';
const ACCOUNT = 'AC00000000000000000000000000000001';

/** 160 bytes that are not all alike, so a decoder that drops or shifts bytes shows. */
const FRAME = Uint8Array.from({ length: 160 }, (_, i) => (i * 37 + 11) & 0xff);

const adapter = new TwilioAdapter();

function mediaMsg(payload: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event: 'media',
    sequenceNumber: '4',
    streamSid: SID,
    media: { track: 'inbound', chunk: '3', timestamp: '60', payload },
    ...extra,
  });
}

function startMsg(mediaFormat: Record<string, unknown>): string {
  return JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    streamSid: SID,
    start: {
      streamSid: SID,
      accountSid: ACCOUNT,
      callSid: CALL,
      tracks: ['inbound'],
      customParameters: { mode: 'tone', lang: 'en' },
      mediaFormat,
    },
  });
}

const MULAW_8K = { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 };

function isBufferJson(x: unknown): x is { type: 'Buffer'; data: number[] } {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((x as { data?: unknown }).data)
  );
}

/** What parse returned, with a Buffer shown as its length: the size is what these tests are about. */
function describe(v: unknown): string {
  return JSON.stringify(v, (_key, x: unknown) => (isBufferJson(x) ? `<${x.data.length} bytes>` : x));
}

/** Parse must throw a ProtocolRejection with this code, and its message must match `about`. */
function rejects(raw: string, code: ErrorCode, about: RegExp): void {
  let thrown: unknown;
  let parsed: unknown;
  try {
    parsed = adapter.parse(raw);
  } catch (err) {
    thrown = err;
  }
  const got = thrown === undefined ? `no error, parsed as ${describe(parsed)}` : String(thrown);
  assert.ok(thrown instanceof ProtocolRejection, `expected ${code} for ${raw.slice(0, 80)}..., got ${got}`);
  assert.equal(thrown.code, code, `code for ${raw.slice(0, 80)}: ${thrown.message}`);
  assert.match(thrown.message, about);
}

test('connected parses with protocol and version', () => {
  assert.deepEqual(adapter.parse('{"event":"connected","protocol":"Call","version":"1.0.0"}'), {
    event: 'connected',
    protocol: 'Call',
    version: '1.0.0',
  });
});

test('start parses ids, tracks and customParameters; string sampleRate/channels are accepted', () => {
  const raw = startMsg(MULAW_8K);
  assert.deepEqual(adapter.parse(raw), {
    event: 'start',
    streamSid: SID,
    start: {
      carrier: 'twilio',
      raw: JSON.parse(raw),
      streamSid: SID,
      accountSid: ACCOUNT,
      callSid: CALL,
      tracks: ['inbound'],
      customParameters: { mode: 'tone', lang: 'en' },
      format: WIRE_MULAW,
    },
  });
  // Twilio sends number-like fields as strings, so "8000"/"1" must be read as the numbers.
  const ev = adapter.parse(startMsg({ encoding: 'audio/x-mulaw', sampleRate: '8000', channels: '1' }));
  assert.equal(ev.event, 'start');
});

test('media parses string chunk/timestamp as numbers and decodes the payload to the 160 bytes', () => {
  const ev = adapter.parse(mediaMsg(Buffer.from(FRAME).toString('base64')));
  assert.equal(ev.event, 'media');
  if (ev.event !== 'media') return;
  assert.equal(ev.streamSid, SID);
  assert.equal(ev.track, 'inbound');
  assert.equal(ev.chunk, 3);
  assert.equal(ev.timestamp, 60);
  assert.equal(ev.payload.length, 160);
  assert.deepEqual(new Uint8Array(ev.payload), FRAME);
});

test('dtmf, mark and stop parse to their typed events', () => {
  assert.deepEqual(
    adapter.parse(
      JSON.stringify({
        event: 'dtmf',
        streamSid: SID,
        sequenceNumber: '5',
        dtmf: { track: 'inbound_track', digit: '#' },
      }),
    ),
    { event: 'dtmf', streamSid: SID, track: 'inbound_track', digit: '#' },
  );
  assert.deepEqual(
    adapter.parse(
      JSON.stringify({ event: 'mark', streamSid: SID, sequenceNumber: '6', mark: { name: 'greeting-done' } }),
    ),
    {
      event: 'mark',
      streamSid: SID,
      name: 'greeting-done',
    },
  );
  assert.deepEqual(
    adapter.parse(
      JSON.stringify({
        event: 'stop',
        streamSid: SID,
        sequenceNumber: '7',
        stop: { accountSid: ACCOUNT, callSid: CALL },
      }),
    ),
    { event: 'stop', streamSid: SID, accountSid: ACCOUNT, callSid: CALL },
  );
});

test('text that is not JSON is PTIME_ERR_BAD_JSON', () => {
  rejects('{"event":"media",', ErrorCodes.BAD_JSON, /not JSON/);
  rejects('hello', ErrorCodes.BAD_JSON, /not JSON/);
  rejects('', ErrorCodes.BAD_JSON, /not JSON/);
});

test('JSON that is not an object is PTIME_ERR_BAD_MESSAGE', () => {
  for (const raw of ['[]', '42', 'null', '"media"', 'true']) rejects(raw, ErrorCodes.BAD_MESSAGE, /must be an object/);
});

test('an unknown event is PTIME_ERR_UNKNOWN_EVENT and names the event', () => {
  rejects('{"event":"playAudio","streamSid":"MZ1"}', ErrorCodes.UNKNOWN_EVENT, /unknown event.*playAudio/);
  rejects('{"streamSid":"MZ1"}', ErrorCodes.UNKNOWN_EVENT, /unknown event/);
});

test('media, dtmf, mark and stop without a streamSid are PTIME_ERR_STREAM_SID', () => {
  const payload = Buffer.from(FRAME).toString('base64');
  rejects(
    JSON.stringify({ event: 'media', media: { chunk: '1', timestamp: '0', payload } }),
    ErrorCodes.STREAM_SID,
    /streamSid/,
  );
  rejects(mediaMsg(payload, { streamSid: '' }), ErrorCodes.STREAM_SID, /streamSid/);
  rejects(JSON.stringify({ event: 'dtmf', dtmf: { digit: '1' } }), ErrorCodes.STREAM_SID, /streamSid/);
  rejects(JSON.stringify({ event: 'mark', mark: { name: 'a' } }), ErrorCodes.STREAM_SID, /streamSid/);
  rejects(JSON.stringify({ event: 'stop' }), ErrorCodes.STREAM_SID, /streamSid/);
});

test('a start whose outer streamSid differs from start.streamSid is PTIME_ERR_STREAM_SID', () => {
  const msg = JSON.parse(startMsg(MULAW_8K)) as Record<string, unknown>;
  msg['streamSid'] = 'MZ-someone-else';
  rejects(JSON.stringify(msg), ErrorCodes.STREAM_SID, /does not match/);
});

test('a payload that is not base64 is PTIME_ERR_BAD_PAYLOAD', () => {
  // Both branches: the frame-sized string and a string of another length.
  const good = Buffer.from(FRAME).toString('base64');
  rejects(mediaMsg(`!${good.slice(1)}`), ErrorCodes.BAD_PAYLOAD, /not base64/);
  rejects(mediaMsg('not base64 at all!!'), ErrorCodes.BAD_PAYLOAD, /not base64/);
  rejects(mediaMsg(`${good.slice(0, 100)}=${good.slice(101)}`), ErrorCodes.BAD_PAYLOAD, /not base64/);
  rejects(mediaMsg(12345), ErrorCodes.BAD_PAYLOAD, /base64/);
  rejects(mediaMsg(undefined), ErrorCodes.BAD_PAYLOAD, /base64/);
});

test('a payload of the wrong size is PTIME_ERR_PAYLOAD_SIZE and says how many bytes came', () => {
  for (const n of [0, 1, 80, 159, 320, 480]) {
    rejects(
      mediaMsg(Buffer.alloc(n, 0x55).toString('base64')),
      ErrorCodes.PAYLOAD_SIZE,
      new RegExp(`160 bytes.*got ${n}\\b`),
    );
  }
});

test('a payload of 161 or 162 bytes is PTIME_ERR_PAYLOAD_SIZE, though its base64 is as long as a frame', () => {
  // base64 of 160, 161 and 162 bytes is 216 characters each; only the padding tells them apart.
  for (const n of [161, 162]) {
    const b64 = Buffer.alloc(n, 0x55).toString('base64');
    assert.equal(b64.length, 216);
    rejects(mediaMsg(b64), ErrorCodes.PAYLOAD_SIZE, new RegExp(`got ${n}\\b`));
  }
});

test('media with a non-numeric chunk is PTIME_ERR_BAD_MESSAGE', () => {
  const payload = Buffer.from(FRAME).toString('base64');
  const msg = JSON.stringify({ event: 'media', streamSid: SID, media: { chunk: 'three', timestamp: '60', payload } });
  rejects(msg, ErrorCodes.BAD_MESSAGE, /media\.chunk/);
});

test('start with a format other than mu-law/8000/mono is PTIME_ERR_MEDIA_FORMAT and names what came', () => {
  rejects(startMsg({ ...MULAW_8K, encoding: 'audio/x-l16' }), ErrorCodes.MEDIA_FORMAT, /audio\/x-l16/);
  rejects(startMsg({ ...MULAW_8K, sampleRate: 16000 }), ErrorCodes.MEDIA_FORMAT, /16000/);
  rejects(startMsg({ ...MULAW_8K, sampleRate: '16000' }), ErrorCodes.MEDIA_FORMAT, /16000/);
  rejects(startMsg({ ...MULAW_8K, channels: 2 }), ErrorCodes.MEDIA_FORMAT, /\/2;/);
  rejects(startMsg({ encoding: 'audio/x-mulaw' }), ErrorCodes.MEDIA_FORMAT, /unsupported media format/);
});

test('start with a non-string custom parameter is PTIME_ERR_BAD_MESSAGE', () => {
  const msg = JSON.parse(startMsg(MULAW_8K)) as { start: { customParameters: Record<string, unknown> } };
  msg.start.customParameters = { mode: 7 };
  rejects(JSON.stringify(msg), ErrorCodes.BAD_MESSAGE, /customParameters\.mode/);
});

test('mark with an empty or over-long name is PTIME_ERR_BAD_MESSAGE and states the limit', () => {
  const mark = (name: unknown): string => JSON.stringify({ event: 'mark', streamSid: SID, mark: { name } });
  rejects(mark(''), ErrorCodes.BAD_MESSAGE, /mark\.name must be a non-empty string/);
  rejects(mark('x'.repeat(4097)), ErrorCodes.BAD_MESSAGE, /mark\.name is longer than 4096 characters/);
  rejects(mark(5), ErrorCodes.BAD_MESSAGE, /mark\.name/);
  rejects(JSON.stringify({ event: 'mark', streamSid: SID }), ErrorCodes.BAD_MESSAGE, /mark must be an object/);
  // The limit is inclusive: a name as long as the largest maxMarkNameBytes still comes back.
  const ok = adapter.parse(mark('y'.repeat(4096)));
  assert.equal(ok.event === 'mark' && ok.name.length, 4096);
});

test('dtmf with a digit outside 0-9 * # A-D is PTIME_ERR_BAD_MESSAGE', () => {
  const dtmf = (digit: unknown): string =>
    JSON.stringify({ event: 'dtmf', streamSid: SID, dtmf: { track: 'inbound_track', digit } });
  for (const digit of ['x', '', '12', 'a', 'E', 5])
    rejects(dtmf(digit), ErrorCodes.BAD_MESSAGE, /dtmf\.digit must be one of 0-9 \* # A-D/);
  for (const digit of ['0', '9', '*', '#', 'A', 'D']) {
    const ev = adapter.parse(dtmf(digit));
    assert.equal(ev.event === 'dtmf' && ev.digit, digit);
  }
});

test('markMessage and clearMessage are exactly the Twilio shapes', () => {
  const mark = adapter.markMessage(SID, 'dtmf-5');
  assert.deepEqual(JSON.parse(mark), { event: 'mark', streamSid: SID, mark: { name: 'dtmf-5' } });
  assert.equal(mark, `{"event":"mark","streamSid":"${SID}","mark":{"name":"dtmf-5"}}`);
  const clear = adapter.clearMessage(SID);
  assert.deepEqual(JSON.parse(clear), { event: 'clear', streamSid: SID });
  assert.equal(clear, `{"event":"clear","streamSid":"${SID}"}`);
});

test('mediaWire prefix + base64(frame) + suffix is the Twilio media message', () => {
  const { prefix, suffix } = adapter.mediaWire(SID);
  const b64 = Buffer.from(FRAME).toString('base64');
  const wire = prefix + b64 + suffix;
  assert.deepEqual(JSON.parse(wire), { event: 'media', streamSid: SID, media: { payload: b64 } });
  assert.equal(wire, `{"event":"media","streamSid":"${SID}","media":{"payload":"${b64}"}}`);
});

test('outbound messages stay valid JSON when the streamSid or mark name holds quotes, backslashes or controls', () => {
  const b64 = Buffer.from(FRAME).toString('base64');
  for (const sid of ['MZ"quoted"', 'MZ\\back\\slash', 'MZ"\\"\\', 'MZ\n\t\u2028\u0000']) {
    const { prefix, suffix } = adapter.mediaWire(sid);
    assert.deepEqual(JSON.parse(prefix + b64 + suffix), { event: 'media', streamSid: sid, media: { payload: b64 } });
    assert.deepEqual(JSON.parse(adapter.clearMessage(sid)), { event: 'clear', streamSid: sid });
    assert.deepEqual(JSON.parse(adapter.markMessage(sid, 'a"b\\c')), {
      event: 'mark',
      streamSid: sid,
      mark: { name: 'a"b\\c' },
    });
  }
});

test('what ptime sends for a stream parses back, through the same adapter, as that stream', () => {
  // The outbound mark is also the shape Twilio echoes, so the two halves must agree.
  const echoed = adapter.parse(adapter.markMessage(SID, 'utterance-1'));
  assert.deepEqual(echoed, { event: 'mark', streamSid: SID, name: 'utterance-1' });
});
