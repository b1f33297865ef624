/**
 * The contract between callers and the codec pool worker (workers/codec.ts). Both sides import
 * these types; the pool itself is created by the engine, never here.
 *
 * Statefulness. A stream's resampler remembers the last filter span of input and a fractional
 * phase, and chunk k+1 cannot start before chunk k has produced that state. Keeping the state in
 * a worker would pin a stream to one thread (piscina hands jobs to any idle worker) and lose it if
 * the worker dies. So jobs are pure: a streaming job carries the state in (`state`, from
 * `Resampler.snapshot()`, under 500 bytes) and the result carries the new state out; the caller
 * `restore()`s it into the stream's Resampler. No worker holds anything between jobs.
 *
 * The caller keeps one Resampler per stream and runs that stream's chunks in order (one promise
 * chain per stream). Each chunk goes inline (`Resampler.process`) when it is small — a pool round
 * trip costs more than the work — and to the pool when it is large; bench/codec-throughput.ts
 * measures where that crossover lies. Snapshot/restore are exact, so any mix of inline and pool
 * chunks yields the same samples as one inline pass (test/codec/codec-worker.test.ts).
 *
 * `state: null` (or absent) means one-shot: the input is a whole utterance and the tail is flushed.
 */
import { type ErrorCode, PtimeError } from '../errors.js';
import type { WireEncoding, WireRate } from './audio-format.js';
import type { ResamplerState } from './resampler.js';

export interface Pcm16ToMulawJob {
  op: 'pcm16ToMulaw8k';
  /** PCM16 at `rate`; transfer its buffer (see transferListOf). */
  samples: Int16Array;
  rate: number;
  state?: ResamplerState | null;
  /** Streaming only: also emit the tail; the returned state is then a fresh stream's. */
  flush?: boolean;
}

export interface MulawToPcm16Job {
  op: 'mulaw8kToPcm16';
  mulaw: Uint8Array;
  /** Output rate, e.g. 16000 for STT. */
  rate: number;
  state?: ResamplerState | null;
  flush?: boolean;
}

/** PCM16 at `rate` → a call's wire format (`encoding` at `toRate`): what sendPcm16 runs for every carrier. */
export interface Pcm16ToWireJob {
  op: 'pcm16ToWire';
  samples: Int16Array;
  rate: number;
  encoding: WireEncoding;
  toRate: WireRate;
  state?: ResamplerState | null;
  flush?: boolean;
}

export type CodecJob = Pcm16ToMulawJob | MulawToPcm16Job | Pcm16ToWireJob;

export interface MulawResult {
  op: 'pcm16ToMulaw8k';
  mulaw: Uint8Array;
  /** The stream's new state, or null for a one-shot job. */
  state: ResamplerState | null;
}

export interface Pcm16Result {
  op: 'mulaw8kToPcm16';
  samples: Int16Array;
  state: ResamplerState | null;
}

/**
 * What the worker returns instead of throwing: a structured clone of an Error keeps its message
 * but drops `code`, and callers branch on the code.
 */
export interface CodecErrorResult {
  op: 'error';
  code: ErrorCode;
  message: string;
}

export interface WireResult {
  op: 'pcm16ToWire';
  wire: Uint8Array;
  state: ResamplerState | null;
}

export type CodecResult = MulawResult | Pcm16Result | WireResult;
export type CodecReply = CodecResult | CodecErrorResult;

/** The result, or the PtimeError the worker reported (same class, code and message as inline). */
export function unwrapCodecReply(reply: CodecReply): CodecResult {
  if (reply.op === 'error') throw new PtimeError(reply.code, reply.message);
  return reply;
}

/**
 * Buffers that can be moved rather than copied: only a non-shared buffer the view covers whole.
 * A Buffer from Node's pool shares its ArrayBuffer with unrelated data; moving it would detach
 * that data, so it is copied (structured clone) instead.
 */
export function transferListOf(job: CodecJob | CodecResult): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  const add = (v: ArrayBufferView | undefined): void => {
    if (v === undefined) return;
    const b = v.buffer;
    if (b instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === b.byteLength && !list.includes(b)) {
      list.push(b);
    }
  };
  add('samples' in job ? job.samples : undefined);
  add('mulaw' in job ? job.mulaw : undefined);
  add('wire' in job ? job.wire : undefined);
  add(job.state?.history);
  return list;
}
