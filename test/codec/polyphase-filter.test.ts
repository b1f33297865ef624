import { test } from 'node:test';
import assert from 'node:assert/strict';
import { polyphaseFilter, STOPBAND_DB } from '../../src/codec/polyphase-filter.js';
import { SUPPORTED_RATES } from '../../src/codec/sample-rates.js';

// The tone tests run through int16 output, which hides anything under one LSB (~77 dB below
// −10 dBFS). These read the designed coefficients directly: output samples of phase p are the
// input filtered by H_p(f) = Σ_k c[p][k]·e^(−j2πf·t_k), t_k = k − half + p/up (input samples), and
// the ideal is H_p(f) = 1 in the pass band and 0 in the stop band, for every phase.

interface Response {
  /** Worst |H_p(f) − 1| over the pass band (0 … 0.4375 × lower rate), all phases. */
  passError: number;
  /** Worst |H_p(f)| over the stop band (0.5625 × lower rate … input Nyquist), all phases. */
  stopGain: number;
  /**
   * Worst spur from the phases disagreeing, for pass-band input: |DFT_k≠0 over p of H_p(f)| / up.
   * When upsampling this is the image (e.g. a 3 kHz tone's copy at 5 kHz when 8 → 16 kHz).
   */
  imageGain: number;
}

function response(from: number, to: number, points: number): Response {
  const { up, taps, half, coeffs } = polyphaseFilter(from, to);
  const low = Math.min(from, to);
  const pass = (0.4375 * low) / from;
  const stop = (0.5625 * low) / from;
  let passError = 0;
  let stopGain = 0;
  let imageGain = 0;
  const re = new Float64Array(up);
  const im = new Float64Array(up);
  for (let i = 0; i <= points; i++) {
    const inPass = i * (pass / points);
    const inStop = stop + i * ((0.5 - stop) / points);
    for (let p = 0; p < up; p++) {
      [re[p], im[p]] = phaseResponse(coeffs, p, taps, half, up, inPass);
      passError = Math.max(passError, Math.hypot(re[p]! - 1, im[p]!));
      if (stop < 0.5) stopGain = Math.max(stopGain, Math.hypot(...phaseResponse(coeffs, p, taps, half, up, inStop)));
    }
    for (let k = 1; k < up; k++) {
      let sr = 0;
      let si = 0;
      for (let p = 0; p < up; p++) {
        const w = (2 * Math.PI * k * p) / up;
        sr += re[p]! * Math.cos(w) + im[p]! * Math.sin(w);
        si += im[p]! * Math.cos(w) - re[p]! * Math.sin(w);
      }
      imageGain = Math.max(imageGain, Math.hypot(sr, si) / up);
    }
  }
  return { passError, stopGain, imageGain };
}

/** H_p(f) as [re, im]. */
function phaseResponse(
  c: Float64Array,
  p: number,
  taps: number,
  half: number,
  up: number,
  f: number,
): [number, number] {
  let re = 0;
  let im = 0;
  for (let k = 0; k < taps; k++) {
    const w = 2 * Math.PI * f * (k - half + p / up);
    re += c[p * taps + k]! * Math.cos(w);
    im -= c[p * taps + k]! * Math.sin(w);
  }
  return [re, im];
}

const dB = (x: number): number => 20 * Math.log10(x);

test(`designed response, every rate pair: stop band and images ≥ ${STOPBAND_DB - 6} dB down, pass band within 0.01 dB`, (t) => {
  for (const from of SUPPORTED_RATES) {
    for (const to of SUPPORTED_RATES) {
      if (from === to) continue;
      const { up } = polyphaseFilter(from, to);
      const r = response(from, to, Math.max(24, Math.floor(4000 / up)));
      const stop = r.stopGain === 0 ? 'n/a' : `${(-dB(r.stopGain)).toFixed(1)} dB down`;
      const image = r.imageGain === 0 ? 'n/a' : `${(-dB(r.imageGain)).toFixed(1)} dB down`;
      t.diagnostic(
        `${from}→${to}: stop band ${stop}, images/spurs ${image}, pass band error ${dB(1 + r.passError).toFixed(4)} dB`,
      );
      if (from > to) assert.ok(-dB(r.stopGain) >= STOPBAND_DB - 6, `${from}→${to} stop band ${-dB(r.stopGain)} dB`);
      if (up > 1) assert.ok(-dB(r.imageGain) >= STOPBAND_DB - 6, `${from}→${to} images ${-dB(r.imageGain)} dB`);
      assert.ok(dB(1 + r.passError) <= 0.01, `${from}→${to} pass band error ${r.passError}`);
    }
  }
});

test('each phase has unit DC gain, so silence and constants pass without a phase-rate tone', () => {
  for (const [from, to] of [
    [44100, 8000],
    [8000, 44100],
    [22050, 16000],
  ] as const) {
    const { up, taps, coeffs } = polyphaseFilter(from, to);
    for (let p = 0; p < up; p++) {
      let sum = 0;
      for (let k = 0; k < taps; k++) sum += coeffs[p * taps + k]!;
      assert.ok(Math.abs(sum - 1) < 1e-12, `${from}→${to} phase ${p}: ${sum}`);
    }
  }
});

test('filters are designed once per rate pair and shared', () => {
  assert.equal(polyphaseFilter(24000, 8000), polyphaseFilter(24000, 8000));
  assert.notEqual(polyphaseFilter(24000, 8000), polyphaseFilter(8000, 24000));
});
