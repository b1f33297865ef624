/**
 * Anti-aliasing / anti-imaging low-pass for rational resampling, as a polyphase table.
 *
 * One Kaiser-windowed sinc is designed per rate pair, centred on the Nyquist frequency of the
 * LOWER rate (4 kHz for anything ↔ 8 kHz), with a transition band of 1/8 of that rate either
 * side of it: flat to 0.4375·low (3.5 kHz), at least STOPBAND_DB down from 0.5625·low (4.5 kHz).
 * So everything above 4.5 kHz that would fold into 0–3.5 kHz is removed, and a 5 kHz tone from
 * 24 kHz TTS (which would alias to 3 kHz) comes out ~80 dB down. The thin band that can still
 * fold (4–4.5 kHz → 3.5–4 kHz) lands above the telephone band (300–3400 Hz).
 *
 * Layout: `coeffs[phase * taps + k]` multiplies input sample `centre + half - k`, where the output
 * instant lies `phase / up` of an input sample after `centre`. Storing each phase contiguously
 * keeps the inner loop a straight walk over two arrays.
 */
import { rateRatio } from './sample-rates.js';

/** Stop-band attenuation; 80 dB sits well under 16-bit noise at telephone levels. */
export const STOPBAND_DB = 80;
const TRANSITION = 0.125; // half-width of the transition band, as a fraction of the lower rate

export interface PolyphaseFilter {
  readonly up: number;
  readonly down: number;
  /** Taps per phase; a multiple of 4 (so even: the output instant sits between taps half-1 and half). */
  readonly taps: number;
  readonly half: number;
  readonly coeffs: Float64Array;
}

const cache = new Map<string, PolyphaseFilter>();

/** The filter for one rate pair, designed on first use and shared by every stream after that. */
export function polyphaseFilter(fromRate: number, toRate: number): PolyphaseFilter {
  const key = `${fromRate}>${toRate}`;
  let f = cache.get(key);
  if (f === undefined) {
    f = design(fromRate, toRate);
    cache.set(key, f);
  }
  return f;
}

function design(fromRate: number, toRate: number): PolyphaseFilter {
  const { up, down } = rateRatio(fromRate, toRate);
  const low = Math.min(fromRate, toRate);
  // Everything below is in cycles per INPUT sample, the unit the taps are spaced in.
  const fc = (0.5 * low) / fromRate;
  const dw = 2 * Math.PI * ((TRANSITION * low) / fromRate);
  const beta = 0.1102 * (STOPBAND_DB - 8.7); // Kaiser's formula for attenuation > 50 dB
  const span = (STOPBAND_DB - 7.95) / (2.285 * dw) + 1; // Kaiser's length estimate
  const taps = 4 * Math.ceil(span / 4); // a multiple of 4 for the unrolled inner loop
  const half = taps / 2;
  const i0Beta = besselI0(beta);
  const coeffs = new Float64Array(up * taps);
  for (let p = 0; p < up; p++) {
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const t = k - half + p / up; // distance of this tap from the output instant
      const r = t / half;
      const w = r * r >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
      const x = 2 * fc * t;
      const v = 2 * fc * (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)) * w;
      coeffs[p * taps + k] = v;
      sum += v;
    }
    // Unit DC gain in every phase: otherwise phases differ by ~1e-4 and a constant input comes
    // out with a faint tone at the phase-cycle rate.
    for (let k = 0; k < taps; k++) coeffs[p * taps + k]! /= sum;
  }
  return { up, down, taps, half, coeffs };
}

/** Zeroth-order modified Bessel function of the first kind (power series; converges fast here). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}
