/**
 * The two conversions a call needs: TTS PCM16 at its native rate → 8 kHz mu-law for Twilio, and
 * Twilio's 8 kHz mu-law → PCM16 at an STT rate. Each takes an optional Resampler as the stream's
 * state; without one the call is a one-shot over a whole utterance (tail flushed).
 */
import { ErrorCodes, PtimeError } from '../errors.js';
import { toPcm16 } from './audio-input.js';
import { mulawDecode, mulawEncode } from './g711.js';
import { Resampler, resample } from './resampler.js';
import { checkRate, TELEPHONY_RATE } from './sample-rates.js';

/**
 * PCM16 (samples, s16le bytes, or floats in [-1, 1]) at `rate` → 8 kHz mu-law.
 *
 * Streaming: pass the same `state` (a `new Resampler(rate, 8000)`) for every chunk of a stream,
 * then `mulawEncode(state.flush())` at its end for the last ~2.5 ms. Without `state` the input
 * is treated as complete (output length exactly ceil(n · 8000 / rate)).
 */
export function pcm16ToMulaw8k(
  pcm: Int16Array | Uint8Array | Float32Array,
  rate: number,
  state?: Resampler,
): Uint8Array {
  checkRate(rate, 'input sample rate');
  const samples = toPcm16(pcm);
  if (state !== undefined) {
    checkState(state, rate, TELEPHONY_RATE);
    return mulawEncode(state.process(samples));
  }
  return mulawEncode(rate === TELEPHONY_RATE ? samples : resample(samples, rate, TELEPHONY_RATE));
}

/**
 * 8 kHz mu-law → PCM16 at `rate` (e.g. 16000 for STT). Streaming as above, with a
 * `new Resampler(8000, rate)` as `state` and `state.flush()` at the end.
 */
export function mulaw8kToPcm16(mu: Uint8Array, rate: number, state?: Resampler): Int16Array {
  checkRate(rate, 'output sample rate');
  const pcm = mulawDecode(mu);
  if (state !== undefined) {
    checkState(state, TELEPHONY_RATE, rate);
    return state.process(pcm);
  }
  return rate === TELEPHONY_RATE ? pcm : resample(pcm, TELEPHONY_RATE, rate);
}

function checkState(state: unknown, from: number, to: number): void {
  if (!(state instanceof Resampler)) {
    throw new PtimeError(ErrorCodes.INVALID_OPTION, 'state must be a Resampler');
  }
  if (state.fromRate !== from || state.toRate !== to) {
    throw new PtimeError(
      ErrorCodes.SAMPLE_RATE,
      `state resamples ${state.fromRate}→${state.toRate} Hz but this conversion is ${from}→${to} Hz`,
    );
  }
}
