import { ErrorCodes, PtimeError } from '../errors.js';

/** Rates the codec path converts between: telephony, STT and the common TTS outputs. */
export const SUPPORTED_RATES = [8000, 16000, 22050, 24000, 44100, 48000] as const;
export type SampleRate = (typeof SUPPORTED_RATES)[number];

/** Twilio Media Streams' rate: the only rate G.711 is carried at here. */
export const TELEPHONY_RATE = 8000;

export function checkRate(rate: unknown, what = 'sample rate'): SampleRate {
  if (typeof rate !== 'number' || !(SUPPORTED_RATES as readonly number[]).includes(rate)) {
    throw new PtimeError(
      ErrorCodes.SAMPLE_RATE,
      `unsupported ${what} ${String(rate)}; supported: ${SUPPORTED_RATES.join(', ')} Hz`,
    );
  }
  return rate as SampleRate;
}

/**
 * The conversion as an exact ratio up/down in lowest terms (44100 → 8000 is up 80, down 441).
 * Positions are kept as integers in units of 1/up input samples, so no rounding ever accumulates.
 */
export function rateRatio(fromRate: number, toRate: number): { up: number; down: number } {
  const g = gcd(fromRate, toRate);
  return { up: toRate / g, down: fromRate / g };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
