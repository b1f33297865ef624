import { MULAW_DECODE, MULAW_ENCODE } from './g711-tables.js';

/** G.711 mu-law encode of one PCM16 sample (ITU-T reference result, from the shared table). */
export function mulawEncodeSample(pcm: number): number {
  const s = Math.max(-32768, Math.min(32767, Math.round(pcm)));
  return MULAW_ENCODE[s & 0xffff]!;
}

/** G.711 mu-law decode of one byte to PCM16. */
export function mulawDecodeSample(code: number): number {
  return MULAW_DECODE[code & 0xff]!;
}
