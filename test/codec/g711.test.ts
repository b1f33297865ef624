import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import { alawDecode, alawEncode, mulawDecode, mulawEncode } from '../../src/codec/g711.js';
import { mulawDecodeSample, mulawEncodeSample } from '../../src/codec/mulaw.js';

// References straight from the G.711 tables (ITU-T Rec. G.711, tables 1a/2a), written as the
// segment/step formulas rather than the biased shift tricks the codec tables are built with.

/** mu-law: 8 segments, 16 steps each; 14-bit magnitude ((2m + 33)·2^e − 33), ×4 for 16 bits. */
function muLawReference(code: number): number {
  const u = ~code & 0xff; // transmitted characters are the complement
  const e = (u >> 4) & 7;
  const m = u & 15;
  const magnitude = (((2 * m + 33) << e) - 33) * 4;
  return u & 0x80 ? 0 - magnitude : magnitude; // after complement, bit 7 set = negative (0 - 0 is +0)
}

/** A-law: segment 0 is linear ((2m + 1)), others (2m + 33)·2^(e−1); 13-bit, ×8 for 16 bits. */
function aLawReference(code: number): number {
  const x = code ^ 0x55; // even bits are inverted on the line
  const e = (x >> 4) & 7;
  const m = x & 15;
  const magnitude = (e === 0 ? 2 * m + 1 : (2 * m + 33) << (e - 1)) * 8;
  return x & 0x80 ? magnitude : -magnitude; // bit 7 set = positive
}

const allCodes = Uint8Array.from({ length: 256 }, (_, i) => i);

test('all 256 mu-law codes decode to the G.711 reference levels', () => {
  const pcm = mulawDecode(allCodes);
  for (let c = 0; c < 256; c++) assert.equal(pcm[c], muLawReference(c), `code 0x${c.toString(16)}`);
  assert.equal(pcm[0xff], 0);
  assert.equal(pcm[0x7f], 0);
  assert.equal(pcm[0x80], 32124);
  assert.equal(pcm[0x00], -32124);
});

test('all 256 A-law codes decode to the G.711 reference levels', () => {
  const pcm = alawDecode(allCodes);
  for (let c = 0; c < 256; c++) assert.equal(pcm[c], aLawReference(c), `code 0x${c.toString(16)}`);
  assert.equal(pcm[0xd5], 8);
  assert.equal(pcm[0x55], -8);
  assert.equal(pcm[0xaa], 32256);
  assert.equal(pcm[0x2a], -32256);
});

test('encode(decode(code)) == code for every code (mu-law −0 encodes as +0)', () => {
  const mu = mulawEncode(mulawDecode(allCodes));
  for (let c = 0; c < 256; c++) assert.equal(mu[c], c === 0x7f ? 0xff : c, `mu-law 0x${c.toString(16)}`);
  // A-law has no zero level (±8 are distinct codes), so every code round-trips exactly.
  assert.deepEqual(alawEncode(alawDecode(allCodes)), allCodes);
});

test('every PCM16 value encodes to a level within one quantisation step', () => {
  const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
  const mu = mulawDecode(mulawEncode(all));
  const a = alawDecode(alawEncode(all));
  const muCodes = mulawEncode(all);
  const aCodes = alawEncode(all);
  for (let i = 0; i < 65536; i++) {
    const s = all[i]!;
    const muStep = 8 << ((~muCodes[i]! >> 4) & 7);
    const aSeg = ((aCodes[i]! ^ 0x55) >> 4) & 7;
    const aStep = aSeg === 0 ? 16 : 16 << (aSeg - 1);
    assert.ok(Math.abs(mu[i]! - s) <= muStep, `mu-law ${s} → ${mu[i]}`);
    assert.ok(Math.abs(a[i]! - s) <= aStep, `A-law ${s} → ${a[i]}`);
    // Sign is kept (zero may go either way).
    if (s > 0) assert.ok(mu[i]! >= 0 && a[i]! > 0);
    if (s < -8) assert.ok(mu[i]! <= 0 && a[i]! < 0);
  }
  // Monotone: a larger input never gets a smaller level.
  for (let i = 1; i < 65536; i++) assert.ok(mu[i]! >= mu[i - 1]! && a[i]! >= a[i - 1]!);
});

/** The encoder ptime shipped before the tables (ITU-T reference with bias 0x84, clip 32635). */
function legacyMulawEncode(pcm: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(pcm)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > 32635) s = 32635;
  s += 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  return ~(sign | (exponent << 4) | ((s >> (exponent + 3)) & 0x0f)) & 0xff;
}

test('mulawEncodeSample/mulawDecodeSample keep their behaviour (all inputs, rounding, clamping)', () => {
  for (let s = -32768; s < 32768; s++) assert.equal(mulawEncodeSample(s), legacyMulawEncode(s));
  for (const v of [0.4, -0.6, 12.5, -12.5, 40000, -40000, 1e9, -Infinity, Number.NaN]) {
    assert.equal(mulawEncodeSample(v), legacyMulawEncode(v), String(v));
  }
  for (let c = 0; c < 256; c++) assert.equal(mulawDecodeSample(c), muLawReference(c));
  assert.equal(mulawDecodeSample(0x1ff), mulawDecodeSample(0xff), 'only the low 8 bits count');
});

test('buffers: lengths preserved, empty in → empty out, a Buffer is accepted as bytes', () => {
  assert.equal(mulawEncode(new Int16Array(0)).length, 0);
  assert.equal(alawDecode(new Uint8Array(0)).length, 0);
  const bytes = Buffer.from([0xff, 0x80, 0x00]);
  assert.deepEqual(Array.from(mulawDecode(bytes)), [0, 32124, -32124]);
  const view = new Int16Array([1, 2, 3, 1000, -1000]).subarray(3);
  assert.deepEqual(
    Array.from(mulawDecode(mulawEncode(view))),
    [1000, -1000].map((v) => mulawDecodeSample(mulawEncodeSample(v))),
  );
});

test('wrong input types are refused with PTIME_ERR_INVALID_AUDIO', () => {
  const isInvalid = (what: RegExp) => (err: unknown) =>
    err instanceof PtimeError && err.code === ErrorCodes.INVALID_AUDIO && what.test(err.message);
  const asPcm = (v: unknown): Int16Array => v as Int16Array;
  const asBytes = (v: unknown): Uint8Array => v as Uint8Array;
  assert.throws(() => mulawEncode(asPcm(new Float32Array(4))), isInvalid(/Int16Array, got Float32Array/));
  assert.throws(() => alawEncode(asPcm([1, 2, 3])), isInvalid(/Int16Array, got Array/));
  assert.throws(
    () => mulawDecode(asBytes(new Int16Array(4))),
    isInvalid(/mu-law input must be a Uint8Array, got Int16Array/),
  );
  assert.throws(() => alawDecode(asBytes('abc')), isInvalid(/A-law input must be a Uint8Array, got string/));
  assert.throws(() => mulawDecode(asBytes(null)), isInvalid(/got null/));
});
