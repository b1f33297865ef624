import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audioFormat, decodeWire, encodeWire, MULAW_8K } from '../../src/codec/audio-format.js';
import { ErrorCodes } from '../../src/errors.js';

test('wire formats: frame sizes and silence per encoding; G.711 only at 8 kHz, named in the error', () => {
  assert.deepEqual({ ...MULAW_8K }, { encoding: 'mulaw', sampleRate: 8000, frameBytes: 160, silence: 0xff });
  assert.deepEqual(
    { ...audioFormat('alaw', 8000) },
    { encoding: 'alaw', sampleRate: 8000, frameBytes: 160, silence: 0xd5 },
  );
  assert.equal(audioFormat('l16', 8000).frameBytes, 320);
  assert.equal(audioFormat('l16', 16000).frameBytes, 640);
  assert.equal(audioFormat('l16', 24000).frameBytes, 960);
  assert.throws(
    () => audioFormat('alaw', 16000),
    (e: Error & { code?: string }) => e.code === ErrorCodes.MEDIA_FORMAT && /alaw at 16000/.test(e.message),
  );
  assert.throws(
    () => audioFormat('l16', 44100),
    (e: Error & { code?: string }) => e.code === ErrorCodes.MEDIA_FORMAT,
  );
});

test('L16 is little-endian on the wire whatever the host; decode(encode(x)) is x', () => {
  const pcm = Int16Array.from([0, 1, -1, 32767, -32768, 0x1234]);
  const l16 = audioFormat('l16', 16000);
  const wire = encodeWire(pcm, l16);
  assert.deepEqual([...wire.subarray(0, 12)], [0, 0, 1, 0, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x80, 0x34, 0x12]);
  assert.deepEqual([...decodeWire(wire, l16)], [...pcm]);
  assert.throws(
    () => decodeWire(new Uint8Array(3), l16),
    (e: Error & { code?: string }) => e.code === ErrorCodes.INVALID_AUDIO,
  );
  const a = audioFormat('alaw', 8000);
  const back = decodeWire(encodeWire(Int16Array.from([1000, -1000]), a), a);
  assert.ok(Math.abs(back[0]! - 1000) < 40 && Math.abs(back[1]! + 1000) < 40, 'A-law round trip within its step');
});
