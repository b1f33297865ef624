import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import { mulawDecode, mulawEncode } from '../../src/codec/g711.js';
import { Resampler, resample } from '../../src/codec/resampler.js';
import { mulaw8kToPcm16, pcm16ToMulaw8k } from '../../src/codec/telephony.js';
import { seeded } from '../helpers/seeded.js';
import { tone } from './tone-fit.js';

const isCode = (code: string, msg: RegExp) => (err: unknown) =>
  err instanceof PtimeError && err.code === code && msg.test(err.message);

test('pcm16ToMulaw8k one-shot = resample then encode; 8 kHz input is only encoded', () => {
  const x = tone(440, 24000, 4800, 9000);
  assert.deepEqual(pcm16ToMulaw8k(x, 24000), mulawEncode(resample(x, 24000, 8000)));
  const y = tone(440, 8000, 1600, 9000);
  assert.deepEqual(pcm16ToMulaw8k(y, 8000), mulawEncode(y));
});

test('pcm16ToMulaw8k streams with a Resampler as state: 20 ms TTS chunks + flush = one-shot', () => {
  const x = tone(700, 22050, 22050, 12000);
  const state = new Resampler(22050, 8000);
  const parts: number[] = [];
  for (let i = 0; i < x.length; i += 441) parts.push(...pcm16ToMulaw8k(x.subarray(i, i + 441), 22050, state));
  parts.push(...mulawEncode(state.flush()));
  assert.deepEqual(Uint8Array.from(parts), pcm16ToMulaw8k(x, 22050));
});

test('s16le bytes are accepted (aligned view or unaligned copy); an odd byte length is refused', () => {
  const x = tone(1000, 16000, 320, 5000);
  const want = pcm16ToMulaw8k(x, 16000);
  const aligned = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  assert.deepEqual(pcm16ToMulaw8k(aligned, 16000), want);
  const backing = Buffer.alloc(x.byteLength + 1);
  const unaligned = backing.subarray(1);
  unaligned.set(aligned);
  assert.deepEqual(pcm16ToMulaw8k(unaligned, 16000), want);
  assert.throws(
    () => pcm16ToMulaw8k(Buffer.alloc(641), 16000),
    isCode(ErrorCodes.INVALID_AUDIO, /odd byte length \(641\)/),
  );
  assert.equal(pcm16ToMulaw8k(Buffer.alloc(0), 48000).length, 0);
  assert.throws(
    () => pcm16ToMulaw8k(new Float64Array(4) as unknown as Int16Array, 16000),
    isCode(
      ErrorCodes.INVALID_AUDIO,
      /must be an Int16Array, s16le bytes \(Uint8Array\/Buffer\) or a Float32Array, got Float64Array/,
    ),
  );
});

test('floats in [-1, 1] are accepted (v/32768 round-trips exactly); NaN or out of range is refused by index', () => {
  const x = tone(1000, 16000, 320, 5000);
  assert.deepEqual(
    pcm16ToMulaw8k(
      Float32Array.from(x, (v) => v / 32768),
      16000,
    ),
    pcm16ToMulaw8k(x, 16000),
  );
  assert.deepEqual(pcm16ToMulaw8k(Float32Array.of(1, -1), 8000), mulawEncode(Int16Array.of(32767, -32768)));
  assert.throws(
    () => pcm16ToMulaw8k(Float32Array.of(0, -1.0001), 8000),
    isCode(ErrorCodes.INVALID_AUDIO, /sample 1 is -1\.000\d+; float samples must be finite and within \[-1, 1\]/),
  );
  assert.throws(
    () => pcm16ToMulaw8k(Float32Array.of(Number.NaN), 8000),
    isCode(ErrorCodes.INVALID_AUDIO, /sample 0 is NaN/),
  );
});

test('a streaming state for the wrong rates, or not a Resampler, is refused', () => {
  const x = new Int16Array(480);
  assert.throws(
    () => pcm16ToMulaw8k(x, 24000, new Resampler(48000, 8000)),
    isCode(ErrorCodes.SAMPLE_RATE, /48000→8000 Hz but this conversion is 24000→8000 Hz/),
  );
  assert.throws(
    () => pcm16ToMulaw8k(x, 24000, {} as Resampler),
    isCode(ErrorCodes.INVALID_OPTION, /must be a Resampler/),
  );
  assert.throws(() => pcm16ToMulaw8k(x, 12000), isCode(ErrorCodes.SAMPLE_RATE, /unsupported input sample rate 12000/));
  assert.throws(
    () => mulaw8kToPcm16(new Uint8Array(160), 32000),
    isCode(ErrorCodes.SAMPLE_RATE, /unsupported output sample rate 32000/),
  );
});

test('mulaw8kToPcm16 for STT: decode then 8 → 16 kHz, streamed in 160-byte frames = one-shot', () => {
  const rnd = seeded(3);
  const mu = Uint8Array.from({ length: 1600 }, () => Math.floor(rnd() * 256));
  const whole = mulaw8kToPcm16(mu, 16000);
  assert.equal(whole.length, 3200);
  assert.deepEqual(whole, resample(mulawDecode(mu), 8000, 16000));
  const state = new Resampler(8000, 16000);
  const parts: number[] = [];
  for (let i = 0; i < mu.length; i += 160) parts.push(...mulaw8kToPcm16(mu.subarray(i, i + 160), 16000, state));
  parts.push(...state.flush());
  assert.deepEqual(Int16Array.from(parts), whole);
  assert.deepEqual(mulaw8kToPcm16(mu, 8000), mulawDecode(mu));
});
