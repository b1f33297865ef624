import { mulawEncodeSample } from '../codec/mulaw.js';
import { FRAME_BYTES, MULAW_SILENCE } from '../ring/lane-layout.js';

export const SILENCE_FRAME = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);

/**
 * One 20 ms frame of a 1 kHz tone at -6 dBFS. 1 kHz at 8 kHz is exactly 8 samples a cycle, so 160
 * samples hold 20 whole cycles and the same frame repeats without a click.
 */
export const TONE_FRAME = Uint8Array.from({ length: FRAME_BYTES }, (_, n) =>
  mulawEncodeSample(16384 * Math.sin((2 * Math.PI * 1000 * n) / 8000)),
);
