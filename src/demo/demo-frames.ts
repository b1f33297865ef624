import { encodeWire, formatName, MULAW_8K, type AudioFormat } from '../codec/audio-format.js';

/** One 20 ms frame of silence in `format`. */
export function silenceFrame(format: AudioFormat): Uint8Array {
  return new Uint8Array(format.frameBytes).fill(format.silence);
}

const tones = new Map<string, Uint8Array>();

/**
 * One 20 ms frame of a 1 kHz tone at -6 dBFS in `format`. 20 ms holds exactly 20 cycles of 1 kHz
 * at every supported rate, so the same frame repeats without a click.
 */
export function toneFrame(format: AudioFormat): Uint8Array {
  const key = formatName(format);
  let frame = tones.get(key);
  if (frame === undefined) {
    const n = format.sampleRate / 50;
    const pcm = Int16Array.from({ length: n }, (_, i) =>
      Math.round(16384 * Math.sin((2 * Math.PI * 1000 * i) / format.sampleRate)),
    );
    frame = encodeWire(pcm, format);
    tones.set(key, frame);
  }
  return frame;
}

/** Twilio's (mu-law 8 kHz) tone and silence frames. */
export const TONE_FRAME = toneFrame(MULAW_8K);
export const SILENCE_FRAME = silenceFrame(MULAW_8K);
