/**
 * Streaming PCM16 resampler between the supported rates (polyphase windowed-sinc FIR, exact
 * rational positions). Chunk-exact: every split of the input into process() calls, followed by
 * flush(), yields exactly the samples of one process(whole) + flush(), because each output
 * sample is a fixed function of its index and the input, computed in the same order.
 *
 * Timing: output n is the band-limited value of the input at instant n·from/to (zero delay,
 * linear phase). Producing it needs `half` input samples past that instant, so process() holds
 * back about 2.5 ms (half the filter span) until later input or flush() supplies them.
 *
 * Length: process() calls plus flush() together emit exactly ceil(inputLength · to / from)
 * samples (every output instant inside the input), i.e. round(inputLength · to / from) or one
 * more. Example: 441 samples at 44.1 kHz → 80 at 8 kHz; 1 sample at 24 kHz → 1 at 8 kHz.
 */
import { ErrorCodes, PtimeError } from '../errors.js';
import { checkPcm16 } from './audio-input.js';
import { type PolyphaseFilter, polyphaseFilter } from './polyphase-filter.js';
import { checkRate, type SampleRate } from './sample-rates.js';

/**
 * Everything a stream's resampler carries between chunks: plain data, so it can ride in a pool
 * job and come back (see codec-job.ts). `history` is at most one filter span plus one step.
 */
export interface ResamplerState {
  fromRate: number;
  toRate: number;
  /** Buffered input; index `centre` is the last input sample at or before the next output. */
  history: Int16Array;
  centre: number;
  /** The next output instant lies phase/up of an input sample after `centre` (0 ≤ phase < up). */
  phase: number;
}

const SHRINK_ABOVE = 8192; // samples of buffer a stream may keep between calls without shrinking

export class Resampler {
  readonly fromRate: SampleRate;
  readonly toRate: SampleRate;
  private readonly f: PolyphaseFilter | null; // null: equal rates, a plain copy
  private readonly stepInt: number;
  private readonly stepFrac: number;
  private buf = new Float64Array(0);
  private len = 0;
  private centre = 0;
  private phase = 0;

  constructor(fromRate: number, toRate: number) {
    this.fromRate = checkRate(fromRate, 'input sample rate');
    this.toRate = checkRate(toRate, 'output sample rate');
    this.f = fromRate === toRate ? null : polyphaseFilter(fromRate, toRate);
    this.stepInt = this.f === null ? 1 : Math.floor(this.f.down / this.f.up);
    this.stepFrac = this.f === null ? 0 : this.f.down % this.f.up;
    this.reset();
  }

  /** Feeds samples; returns every output sample that is now fully determined. */
  process(input: Int16Array): Int16Array {
    checkPcm16(input);
    if (input.length === 0) return new Int16Array(0);
    if (this.f === null) return input.slice();
    this.append(input);
    return this.emit(this.len - 1 - this.f.half - this.centre);
  }

  /**
   * Advances the state exactly as process(input) would, without computing any output. The engine
   * uses this to hand chunk k+1 to a pool worker before chunk k's job has come back: the state a
   * chunk leaves depends only on the input (the last filter span and a phase that follows from
   * the lengths), never on the filtered output, so jobs of one stream can run in parallel.
   */
  advance(input: Int16Array): void {
    checkPcm16(input);
    if (input.length === 0 || this.f === null) return;
    const { up, down, half } = this.f;
    const len = this.len + input.length;
    const last = len - 1 - half - this.centre;
    // The same count and stepping arithmetic as emit(), in closed form.
    const count = last < 0 ? 0 : Math.ceil(((last + 1) * up - this.phase) / down);
    const total = this.phase + count * this.stepFrac;
    let centre = this.centre + count * this.stepInt + Math.floor(total / up);
    const drop = Math.max(0, Math.min(centre - half + 1, len));
    const keep = len - drop;
    if (keep > this.buf.length) {
      const grown = new Float64Array(Math.max(keep, 2 * this.buf.length));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    if (drop >= this.len) {
      this.buf.set(input.subarray(drop - this.len), 0);
    } else {
      this.buf.copyWithin(0, drop, this.len);
      this.buf.set(input, this.len - drop);
    }
    centre -= drop;
    this.len = keep;
    this.centre = centre;
    this.phase = total % up;
  }

  /** Emits the tail (the input is taken to be silent after its end) and resets for a new stream. */
  flush(): Int16Array {
    if (this.f === null) return new Int16Array(0);
    const end = this.len;
    this.append(new Int16Array(this.f.half));
    const out = this.emit(end - 1 - this.centre);
    this.reset();
    return out;
  }

  /** Back to the state of a fresh instance (silence before the first sample). */
  reset(): void {
    // Pre-roll of half-1 zeros so output 0, centred on input 0, has its full left wing.
    const pre = this.f === null ? 0 : this.f.half - 1;
    this.buf = new Float64Array(Math.max(1024, 2 * (this.f?.taps ?? 0)));
    this.len = pre;
    this.centre = pre;
    this.phase = 0;
  }

  /** A copy of the state, for handing this stream's next chunk to a pool worker. */
  snapshot(): ResamplerState {
    const history = new Int16Array(this.len);
    for (let i = 0; i < this.len; i++) history[i] = this.buf[i]!;
    return { fromRate: this.fromRate, toRate: this.toRate, history, centre: this.centre, phase: this.phase };
  }

  /** Adopts a state from snapshot() (e.g. returned by a pool job); the rates must match. */
  restore(state: ResamplerState): void {
    const bad = (why: string): PtimeError => new PtimeError(ErrorCodes.CODEC_JOB, `resampler state rejected: ${why}`);
    if (state === null || typeof state !== 'object') throw bad('not an object');
    if (state.fromRate !== this.fromRate || state.toRate !== this.toRate) {
      throw bad(`it is ${state.fromRate}→${state.toRate} Hz, this resampler is ${this.fromRate}→${this.toRate} Hz`);
    }
    const { history, centre, phase } = state;
    if (!(history instanceof Int16Array)) throw bad('history is not an Int16Array');
    const f = this.f;
    const minCentre = f === null ? 0 : f.half - 1;
    const maxLen = f === null ? 0 : f.taps + this.stepInt + 1;
    if (history.length > maxLen || !Number.isInteger(centre) || centre < minCentre || centre > minCentre + maxLen) {
      throw bad(`history of ${history.length} with centre ${centre} does not fit this filter`);
    }
    if (!Number.isInteger(phase) || phase < 0 || phase >= (f?.up ?? 1)) throw bad(`phase ${phase} out of range`);
    this.buf = new Float64Array(Math.max(1024, 2 * maxLen));
    this.buf.set(history);
    this.len = history.length;
    this.centre = centre;
    this.phase = phase;
  }

  private append(input: Int16Array): void {
    const need = this.len + input.length;
    if (need > this.buf.length) {
      const grown = new Float64Array(Math.max(need, 2 * this.buf.length));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(input, this.len);
    this.len = need;
  }

  /** Emits every output whose centre index is ≤ centre + last, then drops input no longer needed. */
  private emit(last: number): Int16Array {
    const f = this.f!;
    const { up, down, taps, half, coeffs } = f;
    // Outputs j = 0,1,… have centre offset floor((phase + j·down) / up); count those ≤ last.
    const count = last < 0 ? 0 : Math.ceil(((last + 1) * up - this.phase) / down);
    const out = new Int16Array(count);
    const buf = this.buf;
    const stepInt = this.stepInt;
    const stepFrac = this.stepFrac;
    let centre = this.centre;
    let phase = this.phase;
    for (let o = 0; o < count; o++) {
      const base = phase * taps;
      const top = centre + half;
      // Four independent sums measured ~20 % faster than one chain (bench/codec-throughput.ts);
      // taps is a multiple of 4. The summation order is fixed, so results stay chunk-exact.
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0;
      for (let k = 0; k < taps; k += 4) {
        const j = top - k;
        const c = base + k;
        a0 += buf[j]! * coeffs[c]!;
        a1 += buf[j - 1]! * coeffs[c + 1]!;
        a2 += buf[j - 2]! * coeffs[c + 2]!;
        a3 += buf[j - 3]! * coeffs[c + 3]!;
      }
      const acc = a0 + a1 + (a2 + a3);
      out[o] = acc >= 32767 ? 32767 : acc <= -32768 ? -32768 : Math.round(acc);
      centre += stepInt;
      phase += stepFrac;
      if (phase >= up) {
        phase -= up;
        centre++;
      }
    }
    // Keep from the lowest sample the next output reads. (The clamp is a guard: with these
    // filters half a span always exceeds one output step, so that sample has already arrived.)
    const drop = Math.min(centre - half + 1, this.len);
    if (drop > 0) {
      buf.copyWithin(0, drop, this.len);
      this.len -= drop;
      centre -= drop;
    }
    // A big one-shot chunk grew the buffer; give it back so an idle stream holds kilobytes, not
    // megabytes (a thousand calls each keeping one 10 s chunk's buffer would be gigabytes).
    if (buf.length > SHRINK_ABOVE && this.len * 4 < buf.length) {
      this.buf = new Float64Array(Math.max(1024, 2 * this.len));
      this.buf.set(buf.subarray(0, this.len));
    }
    this.centre = centre;
    this.phase = phase;
    return out;
  }
}

/** One-shot conversion of a whole buffer (process + flush on a fresh resampler). */
export function resample(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  const r = new Resampler(fromRate, toRate);
  const body = r.process(input);
  const tail = r.flush();
  if (tail.length === 0) return body;
  const out = new Int16Array(body.length + tail.length);
  out.set(body);
  out.set(tail, body.length);
  return out;
}
