/**
 * G.711 lookup tables, built once at module load from the ITU-T reference algorithms (the
 * Sun/CCITT `g711.c` formulation). Decoding is one 256-entry lookup; encoding is one lookup in a
 * 65,536-entry table indexed by the sample's 16 bits (`s & 0xffff`), so the hot loop has no
 * branches and no segment search. 2 × 64 KiB + 2 × 512 B, paid once per thread.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** ITU-T reference mu-law encode of one integer PCM16 sample (used only to fill the table). */
export function mulawEncodeReference(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > MULAW_CLIP) s = MULAW_CLIP;
  s += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function mulawDecodeReference(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + MULAW_BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? MULAW_BIAS - t : t - MULAW_BIAS;
}

// A-law segment ends on the 13-bit magnitude (the 16-bit sample >> 3).
const ALAW_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

/** ITU-T reference A-law encode of one integer PCM16 sample (even bits inverted: ^ 0x55). */
export function alawEncodeReference(sample: number): number {
  let v = sample >> 3;
  let mask: number;
  if (v >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    v = -v - 1;
  }
  let seg = 0;
  while (seg < 8 && v > ALAW_SEG_END[seg]!) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  const mantissa = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return ((seg << 4) | mantissa) ^ mask;
}

function alawDecodeReference(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

function buildDecode(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let c = 0; c < 256; c++) table[c] = decode(c);
  return table;
}

function buildEncode(encode: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  // Index by the two's-complement bit pattern so `pcm[i] & 0xffff` needs no sign handling.
  for (let s = -32768; s < 32768; s++) table[s & 0xffff] = encode(s);
  return table;
}

export const MULAW_DECODE: Int16Array = buildDecode(mulawDecodeReference);
export const ALAW_DECODE: Int16Array = buildDecode(alawDecodeReference);
export const MULAW_ENCODE: Uint8Array = buildEncode(mulawEncodeReference);
export const ALAW_ENCODE: Uint8Array = buildEncode(alawEncodeReference);
