import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import { MULAW_8K } from '../../src/codec/audio-format.js';
import { TelnyxAdapter } from '../../src/protocol/telnyx-adapter.js';

const a = new TelnyxAdapter();
const frame = Buffer.alloc(160, 0x7f).toString('base64');

function rejects(raw: string, code: string): void {
  assert.throws(
    () => a.parse(raw, MULAW_8K),
    (err: unknown) => err instanceof PtimeError && err.code === code,
    raw.slice(0, 80),
  );
}

test('Telnyx start: stream_id, call_control_id, custom_parameters and the raw message in the common shape', () => {
  const raw = {
    event: 'start',
    sequence_number: '1',
    stream_id: '32DE0DEA-53CB',
    start: {
      user_id: 'u-9',
      call_control_id: 'v3:abc',
      call_session_id: 's',
      from: '+1555',
      to: '+1666',
      custom_parameters: { mode: 'tone' },
      media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 },
    },
  };
  const ev = a.parse(JSON.stringify(raw));
  assert.equal(ev.event, 'start');
  if (ev.event !== 'start') return;
  assert.deepEqual(
    { ...ev.start, raw: undefined },
    {
      carrier: 'telnyx',
      raw: undefined,
      streamSid: '32DE0DEA-53CB',
      accountSid: 'u-9',
      callSid: 'v3:abc',
      tracks: ['inbound'],
      customParameters: { mode: 'tone' },
      format: MULAW_8K,
    },
  );
  assert.deepEqual(ev.start.raw, raw);
});

test('Telnyx media, dtmf, mark and stop parse; counters may be strings', () => {
  const media = a.parse(
    JSON.stringify({
      event: 'media',
      sequence_number: '4',
      stream_id: 's1',
      media: { track: 'inbound', chunk: '2', timestamp: '40', payload: frame },
    }),
  );
  assert.deepEqual(
    { ...media, payload: undefined },
    { event: 'media', streamSid: 's1', track: 'inbound', chunk: 2, timestamp: 40, payload: undefined, seq: 2 },
  );
  assert.deepEqual(a.parse(JSON.stringify({ event: 'dtmf', stream_id: 's1', dtmf: { digit: '#' } })), {
    event: 'dtmf',
    streamSid: 's1',
    track: 'inbound',
    digit: '#',
  });
  assert.deepEqual(a.parse(JSON.stringify({ event: 'mark', stream_id: 's1', mark: { name: 'm1' } })), {
    event: 'mark',
    streamSid: 's1',
    name: 'm1',
  });
  assert.deepEqual(
    a.parse(JSON.stringify({ event: 'stop', stream_id: 's1', stop: { user_id: 'u', call_control_id: 'v3:x' } })),
    { event: 'stop', streamSid: 's1', accountSid: 'u', callSid: 'v3:x' },
  );
});

test('Telnyx bad input: each a coded rejection naming what is wrong', () => {
  rejects('{', ErrorCodes.BAD_JSON);
  rejects('[]', ErrorCodes.BAD_MESSAGE);
  rejects(JSON.stringify({ event: 'error', stream_id: 's1' }), ErrorCodes.UNKNOWN_EVENT);
  rejects(
    JSON.stringify({ event: 'media', media: { chunk: '1', timestamp: '1', payload: frame } }),
    ErrorCodes.STREAM_SID,
  );
  rejects(
    JSON.stringify({
      event: 'media',
      stream_id: 's',
      media: { chunk: '1', timestamp: '1', payload: Buffer.alloc(161).toString('base64') },
    }),
    ErrorCodes.PAYLOAD_SIZE,
  );
  rejects(
    JSON.stringify({ event: 'media', stream_id: 's', media: { chunk: '1', timestamp: '1', payload: '!!!!' } }),
    ErrorCodes.BAD_PAYLOAD,
  );
  rejects(JSON.stringify({ event: 'dtmf', stream_id: 's', dtmf: { digit: 'X' } }), ErrorCodes.BAD_MESSAGE);
  rejects(
    JSON.stringify({
      event: 'start',
      stream_id: 's',
      start: { call_control_id: 'v3:a', media_format: { encoding: 'OPUS', sample_rate: 8000, channels: 1 } },
    }),
    ErrorCodes.MEDIA_FORMAT,
  );
  rejects(
    JSON.stringify({
      event: 'start',
      stream_id: 's',
      start: { media_format: { encoding: 'PCMU', sample_rate: 8000 } },
    }),
    ErrorCodes.BAD_MESSAGE,
  );
});

test('Telnyx outbound: media, mark and clear carry no stream id (one stream per socket)', () => {
  const w = a.mediaWire();
  const msg = JSON.parse(`${w.prefix}${frame}${w.suffix}`) as unknown;
  assert.deepEqual(msg, { event: 'media', media: { payload: frame } });
  assert.deepEqual(JSON.parse(a.markMessage('s1', 'dtmf-5')), { event: 'mark', mark: { name: 'dtmf-5' } });
  assert.deepEqual(JSON.parse(a.clearMessage('s1')), { event: 'clear' });
});
