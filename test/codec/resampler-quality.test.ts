import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulawDecode } from '../../src/codec/g711.js';
import { resample } from '../../src/codec/resampler.js';
import { pcm16ToMulaw8k } from '../../src/codec/telephony.js';
import { dB, fitTone, rms, tone } from './tone-fit.js';

// Signals are 1 s long at −10 dBFS; measurements skip 25 ms at each end, which covers the
// filter's warm-up and the flushed tail (half a filter span is ~2.5 ms).
const AMP = 10000;
const EDGE = 200; // output samples at 8 kHz

test('1 kHz at 24 kHz → 8 kHz mu-law → PCM16: SNR ≥ 33 dB, with no delay or phase shift', (t) => {
  const mu = pcm16ToMulaw8k(tone(1000, 24000, 24000, AMP), 24000);
  assert.equal(mu.length, 8000);
  const y = mulawDecode(mu);
  const fit = fitTone(y, 1000, 8000, EDGE, y.length - EDGE);
  const snr = 10 * Math.log10(fit.tonePower / fit.residualPower);
  t.diagnostic(
    `SNR ${snr.toFixed(2)} dB, gain ${dB(fit.amplitude / AMP).toFixed(3)} dB, phase ${fit.phase.toExponential(2)} rad`,
  );
  assert.ok(snr >= 33, `SNR ${snr.toFixed(2)} dB`);
  // Output n is the input at instant n·3: the fitted sine lines up with the ideal one.
  assert.ok(Math.abs(fit.phase) < 1e-3, `phase ${fit.phase}`);
  assert.ok(Math.abs(dB(fit.amplitude / AMP)) < 0.1);
});

test('the same path at other TTS rates also clears 33 dB', (t) => {
  for (const rate of [16000, 22050, 44100, 48000]) {
    const y = mulawDecode(pcm16ToMulaw8k(tone(1000, rate, rate, AMP), rate));
    const fit = fitTone(y, 1000, 8000, EDGE, y.length - EDGE);
    const snr = 10 * Math.log10(fit.tonePower / fit.residualPower);
    t.diagnostic(`${rate} Hz: SNR ${snr.toFixed(2)} dB`);
    assert.ok(snr >= 33, `${rate}: ${snr.toFixed(2)} dB`);
  }
});

/**
 * Level of what a tone at `alias` Hz leaves in the 8 kHz output, relative to a 1 kHz tone of the
 * same amplitude through the same path. Two figures: the output's total RMS (every alias and
 * artefact at once) and the fitted tone at the frequency it would fold to.
 */
function aliasSuppression(from: number, to: number, freq: number): { total: number; folded: number; text: string } {
  const ref = resample(tone(1000, from, from, AMP), from, to);
  const refRms = rms(ref, EDGE, ref.length - EDGE);
  const y = resample(tone(freq, from, from, AMP), from, to);
  const folded = Math.abs(to - (freq % to));
  const fitAmp = fitTone(y, folded, to, EDGE, y.length - EDGE).amplitude;
  const outRms = rms(y, EDGE, y.length - EDGE);
  // The output is int16: below one LSB it reads as silence, so the figure is then a floor
  // (the designed stop band itself is checked in polyphase-filter.test.ts).
  const total = dB(refRms / Math.max(outRms, 1));
  const fold = dB(refRms / (Math.max(fitAmp, 0.5) / Math.SQRT2));
  const text =
    (outRms < 1
      ? `output RMS ${outRms.toFixed(3)} LSB (≥ ${total.toFixed(1)} dB down)`
      : `output RMS ${total.toFixed(1)} dB down`) +
    (fitAmp < 0.5 ? `, at ${folded} Hz < 0.5 LSB` : `, at ${folded} Hz ${fold.toFixed(1)} dB down`);
  return { total, folded: fold, text };
}

test('out-of-band tones are ≥ 60 dB down: 5 kHz at 24 kHz and 6 kHz at 48 kHz (→ 8 kHz)', (t) => {
  for (const [from, freq] of [
    [24000, 5000],
    [48000, 6000],
    [44100, 5000],
    [22050, 5000],
    [16000, 4600],
  ] as const) {
    const s = aliasSuppression(from, 8000, freq);
    t.diagnostic(`${freq} Hz at ${from} Hz: ${s.text}`);
    assert.ok(s.total >= 60, `${freq}@${from}: ${s.total.toFixed(1)} dB`);
    assert.ok(s.folded >= 60, `${freq}@${from} folded: ${s.folded.toFixed(1)} dB`);
  }
});

test('upsampling 8 kHz → 16 kHz removes the image: a 3 kHz tone leaves ≥ 60 dB less at 5 kHz', (t) => {
  const y = resample(tone(3000, 8000, 8000, AMP), 8000, 16000);
  const wanted = fitTone(y, 3000, 16000, 2 * EDGE, y.length - 2 * EDGE);
  const image = fitTone(y, 5000, 16000, 2 * EDGE, y.length - 2 * EDGE);
  const down = dB(wanted.amplitude / Math.max(image.amplitude, 1e-3));
  t.diagnostic(`image at 5 kHz ${down.toFixed(1)} dB down; 3 kHz gain ${dB(wanted.amplitude / AMP).toFixed(3)} dB`);
  assert.ok(down >= 60);
});

const BAND = [300, 500, 800, 1000, 1500, 2000, 2500, 3000, 3200, 3400];

test('passband ripple ≤ 0.5 dB from 300 Hz to 3.4 kHz (24k, 48k, 44.1k, 22.05k, 16k → 8k; 8k → 16k)', (t) => {
  for (const [from, to] of [
    [24000, 8000],
    [48000, 8000],
    [44100, 8000],
    [22050, 8000],
    [16000, 8000],
    [8000, 16000],
  ] as const) {
    const gains = BAND.map((f) => {
      const y = resample(tone(f, from, from, AMP), from, to);
      const edge = (EDGE * to) / 8000;
      return dB(fitTone(y, f, to, edge, y.length - edge).amplitude / AMP);
    });
    const ripple = Math.max(...gains) - Math.min(...gains);
    const worst = Math.max(...gains.map(Math.abs));
    t.diagnostic(
      `${from}→${to}: ripple ${ripple.toFixed(4)} dB, worst gain ${worst.toFixed(4)} dB (at ${BAND[gains.map(Math.abs).indexOf(worst)]} Hz)`,
    );
    assert.ok(ripple <= 0.5, `${from}→${to} ripple ${ripple} dB`);
    assert.ok(worst <= 0.5, `${from}→${to} gain off by ${worst} dB`);
  }
});

test('full-scale input clamps instead of wrapping: a 48 kHz square wave keeps its sign at 8 kHz', () => {
  // A square wave's Gibbs overshoot (~9 %) goes past 32767; storing that unclamped into an
  // Int16Array would wrap to a large negative value (a loud click).
  const x = new Int16Array(48000);
  for (let i = 0; i < x.length; i++) x[i] = Math.floor(i / 48) % 2 === 0 ? 32767 : -32768; // 500 Hz
  const y = resample(x, 48000, 8000);
  let clipped = 0;
  for (let n = EDGE; n < y.length - EDGE; n++) {
    if (y[n] === 32767 || y[n] === -32768) clipped++;
    const inHalf = n % 8; // 8 output samples per half-cycle
    if (inHalf < 2 || inHalf > 5) continue; // skip the edges, where the sign legitimately flips
    const high = Math.floor(n / 8) % 2 === 0;
    assert.ok(high ? y[n]! > 16000 : y[n]! < -16000, `sample ${n} = ${y[n]}`);
  }
  assert.ok(clipped > 0, 'the overshoot did reach full scale (so clamping was exercised)');
  const dc = resample(new Int16Array(4800).fill(32767), 48000, 8000);
  for (let n = 50; n < dc.length - 50; n++) assert.equal(dc[n], 32767);
});
