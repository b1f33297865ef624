import type { Logger } from 'pino';
import { toPcm16 } from '../codec/audio-input.js';
import type { CodecJob, CodecResult } from '../codec/codec-job.js';
import { encodeWire, type AudioFormat } from '../codec/audio-format.js';
import { Resampler } from '../codec/resampler.js';
import { checkRate, type SampleRate } from '../codec/sample-rates.js';
import { ErrorCodes, PtimeError } from '../errors.js';
import type { OutboundOrder } from './outbound-order.js';

/** What a call's PCM path needs from the engine. */
export interface CodecRunner {
  /** Chunks of at least this many ms of audio go to the pool; shorter ones run inline. */
  readonly poolMinMs: number;
  run(job: CodecJob): Promise<CodecResult>;
}

/** Where converted audio (in the call's wire format) goes: the call's framer, in order. */
export type WireSink = (wire: Uint8Array) => void;

/** sendPcm16's argument checks: the rate, and samples that are PCM16, floats in [-1, 1] or s16le bytes. */
export function checkPcmInput(
  input: Int16Array | Uint8Array | Float32Array,
  rate: number,
): { fromRate: SampleRate; samples: Int16Array } {
  const fromRate = checkRate(rate, 'sendPcm16 sample rate');
  const samples = toPcm16(input, 'sendPcm16 audio');
  if (samples.length === 0) {
    throw new PtimeError(ErrorCodes.INVALID_AUDIO, 'sendPcm16 audio is empty (0 samples); send at least one sample');
  }
  return { fromRate, samples };
}

/**
 * A call's TTS path: PCM16 at the producer's rate → the call's wire format (mu-law/A-law 8 kHz,
 * or L16 at the carrier's rate) → the framer, one resampler stream per call so consecutive chunks
 * join without a click.
 *
 * `stream` is always the state after every chunk accepted so far, even those still in the pool:
 * a pool chunk advances it with Resampler.advance (exact, and far cheaper than filtering), so the
 * next chunk can be dispatched at once and several of one call's chunks may run on different
 * threads. Their results rejoin the call's order through OutboundOrder.
 */
export class PcmSender {
  private stream: Resampler | null = null;
  /** Samples went into `stream` since its last flush: a flush with nothing in it is skipped. */
  private unflushed = false;
  private pendingBytes = 0;
  private epoch = 0;

  constructor(
    private readonly order: OutboundOrder,
    private readonly sink: WireSink,
    private readonly codec: CodecRunner,
    private readonly logger: Logger,
    /** A pool job settled without audio (failed): the call re-checks 'drain', as no frame will. */
    private readonly onJobSettled: () => void,
    private readonly format: AudioFormat,
  ) {}

  /** Frames still being converted in the pool (counted against the high-water mark). */
  get pendingFrames(): number {
    return Math.ceil(this.pendingBytes / this.format.frameBytes);
  }

  /** Validate everything first, so a refused chunk leaves nothing enqueued. */
  send(input: Int16Array | Uint8Array | Float32Array, rate: number): void {
    const { fromRate, samples } = checkPcmInput(input, rate);
    if (this.stream !== null && this.stream.fromRate !== fromRate) {
      this.flushTail();
      this.stream = null;
    }
    const stream = (this.stream ??= new Resampler(fromRate, this.format.sampleRate));
    this.unflushed = true;
    if ((samples.length * 1000) / fromRate < this.codec.poolMinMs) {
      const wire = encodeWire(stream.process(samples), this.format);
      this.order.run(() => this.sink(wire), wire.length);
      return;
    }
    // toPcm16 may return the caller's own memory (an Int16Array, or a view of aligned s16le
    // bytes) and the caller may reuse it before the job runs: the job must own its samples.
    this.dispatch(stream, samples.buffer === input.buffer ? samples.slice() : samples);
  }

  /**
   * End of an utterance (flush, mark, or a change of rate): the resampler's last ~2.5 ms go out
   * now rather than waiting for audio that may never come.
   */
  flushTail(): void {
    const stream = this.stream;
    if (stream === null || !this.unflushed) return;
    this.unflushed = false;
    const tail = stream.flush(); // and the stream starts afresh, as a new utterance should
    if (tail.length === 0) return;
    const wire = encodeWire(tail, this.format);
    this.order.run(() => this.sink(wire), wire.length);
  }

  /** Barge-in or close: forget the stream; results of jobs still in the pool are discarded. */
  reset(): void {
    this.stream = null;
    this.unflushed = false;
    this.pendingBytes = 0;
    this.epoch++;
  }

  private dispatch(stream: Resampler, samples: Int16Array): void {
    const state = stream.snapshot();
    stream.advance(samples);
    const f = this.format;
    const bytes = Math.ceil((samples.length * f.sampleRate) / stream.fromRate) * (f.frameBytes / (f.sampleRate / 50));
    this.pendingBytes += bytes;
    const epoch = this.epoch;
    const place = this.order.reserve();
    const settle = (): void => {
      if (epoch === this.epoch) this.pendingBytes -= bytes;
    };
    const skipped = (err: unknown): void => {
      settle();
      // Input was validated before dispatch, so this is a closing engine or a bug: the chunk
      // is lost, and later audio must not wait behind it forever. A job cleared or closed since
      // was not going to play anyway.
      if (epoch === this.epoch) this.logger.error({ err }, 'sendPcm16 chunk could not be converted; skipped');
      place(noop, 0);
      this.onJobSettled();
    };
    this.codec
      .run({ op: 'pcm16ToWire', samples, rate: stream.fromRate, encoding: f.encoding, toRate: f.sampleRate, state })
      .then((result) => {
        if (result.op !== 'pcm16ToWire') return skipped(new Error(`codec pool answered ${result.op} to pcm16ToWire`));
        settle();
        place(() => this.sink(result.wire), result.wire.length);
      }, skipped);
  }
}

function noop(): void {}
