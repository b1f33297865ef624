/**
 * G.711 mu-law and A-law on whole buffers: one table lookup per sample, no allocation beyond the
 * result. The tables reproduce the ITU-T reference algorithms bit for bit (see g711-tables.ts).
 */
import { checkBytes, checkPcm16 } from './audio-input.js';
import { ALAW_DECODE, ALAW_ENCODE, MULAW_DECODE, MULAW_ENCODE } from './g711-tables.js';

/** PCM16 → mu-law, one byte per sample. */
export function mulawEncode(pcm: Int16Array): Uint8Array {
  return encodeWith(MULAW_ENCODE, checkPcm16(pcm));
}

/** mu-law → PCM16. Codes 0xFF and 0x7F both decode to 0. */
export function mulawDecode(mu: Uint8Array): Int16Array {
  return decodeWith(MULAW_DECODE, checkBytes(mu, 'mu-law input'));
}

/** PCM16 → A-law, one byte per sample. */
export function alawEncode(pcm: Int16Array): Uint8Array {
  return encodeWith(ALAW_ENCODE, checkPcm16(pcm));
}

/** A-law → PCM16. A-law has no zero level: 0xD5/0x55 are +8/−8, the two smallest. */
export function alawDecode(a: Uint8Array): Int16Array {
  return decodeWith(ALAW_DECODE, checkBytes(a, 'A-law input'));
}

function encodeWith(table: Uint8Array, pcm: Int16Array): Uint8Array {
  const n = pcm.length;
  const dst = new Uint8Array(n);
  for (let i = 0; i < n; i++) dst[i] = table[pcm[i]! & 0xffff]!;
  return dst;
}

function decodeWith(table: Int16Array, codes: Uint8Array): Int16Array {
  const n = codes.length;
  const dst = new Int16Array(n);
  for (let i = 0; i < n; i++) dst[i] = table[codes[i]!]!;
  return dst;
}
