import { ErrorCodes, PtimeError } from '../errors.js';
import type { SampleRate } from '../codec/sample-rates.js';
import type { HeardReport } from './utterance-book.js';

/** What speak() uses of a call (the Call itself; an interface so the two files do not import each other). */
export interface SpeakingCall {
  readonly accepting: boolean;
  readonly isClosed: boolean;
  beginUtterance(id?: string): string;
  endUtterance(): void;
  heard(id?: string): HeardReport | null;
  send(audio: Uint8Array): boolean;
  sendPcm16(audio: Int16Array | Uint8Array | Float32Array, sampleRate: SampleRate): boolean;
  writable(): Promise<boolean>;
  clear(): unknown;
  on(event: 'clear' | 'close' | 'ending', listener: () => void): unknown;
  on(event: 'utterancePlayed', listener: (e: { utterance: string }) => void): unknown;
  off(event: 'clear' | 'close' | 'ending', listener: () => void): unknown;
  off(event: 'utterancePlayed', listener: (e: { utterance: string }) => void): unknown;
}

/** One chunk of a speak() source: wire-format bytes (`call.format`), or PCM16 at its rate. */
export type SpeechChunk = Uint8Array | { pcm: Int16Array | Uint8Array | Float32Array; sampleRate: SampleRate };

export type SpeechSource = AsyncIterable<SpeechChunk> | Iterable<SpeechChunk>;

export interface SpeakOptions {
  /** The utterance id (made up if omitted). */
  utterance?: string;
  /** Aborting it stops the pull and clears what is queued, as a barge-in. */
  signal?: AbortSignal;
}

export interface SpeakResult {
  utterance: string;
  /** played: all of it confirmed played; interrupted: a clear() or the signal cut it; closed: the call ended first. */
  status: 'played' | 'interrupted' | 'closed';
  heardMs: number;
}

const STOP = Symbol('stop');

/**
 * call.speak(): pull `source` with back-pressure into one utterance, then wait for it to be played.
 * A clear() (from anywhere), the signal or the call's end stops the pull at once: the source is
 * returned (a stream destroyed) and nothing more of it is queued, so an interrupted producer can
 * never play the rest of its utterance after the reply.
 */
export async function speak(call: SpeakingCall, source: SpeechSource, opts: SpeakOptions = {}): Promise<SpeakResult> {
  const utterance = call.beginUtterance(opts.utterance);
  const it = iteratorOf(source);
  let stop: 'interrupted' | 'closed' | null = null;
  let wake: () => void = () => undefined;
  const stopped = new Promise<typeof STOP>((resolve) => (wake = () => resolve(STOP)));
  const halt = (why: 'interrupted' | 'closed'): void => {
    stop ??= why;
    wake();
  };
  const onClear = (): void => halt('interrupted');
  const onClose = (): void => halt('closed');
  const onAbort = (): void => {
    if (stop === null && call.accepting) call.clear(); // emits 'clear': halts as interrupted
    halt('interrupted');
  };
  call.on('clear', onClear);
  call.on('close', onClose);
  call.on('ending', onClose);
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) onAbort();
  let finished = false;
  try {
    while (stop === null) {
      const next = await Promise.race([it.next(), stopped]);
      if (next === STOP || stop !== null) break;
      if (next.done) {
        finished = true;
        break;
      }
      const below = write(call, next.value);
      if (!below && stop === null) await Promise.race([call.writable(), stopped]);
    }
  } finally {
    // The source is let go at once: a stream is destroyed, a generator runs its finally.
    if (!finished) void Promise.resolve(it.return?.()).catch(() => undefined);
    call.off('clear', onClear);
    call.off('close', onClose);
    call.off('ending', onClose);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const status = stop ?? (await playedOut(call, utterance));
  return { utterance, status, heardMs: heardOf(call, utterance) };
}

function write(call: SpeakingCall, chunk: SpeechChunk): boolean {
  if (chunk instanceof Uint8Array) return call.send(chunk);
  if (chunk !== null && typeof chunk === 'object' && 'pcm' in chunk) return call.sendPcm16(chunk.pcm, chunk.sampleRate);
  throw new PtimeError(ErrorCodes.INVALID_AUDIO, 'speak() source chunks must be wire-format bytes (Uint8Array) or { pcm, sampleRate }');
}

/** The source ran dry: end the utterance and wait until it is played, cut or the call ends. */
function playedOut(call: SpeakingCall, utterance: string): Promise<SpeakResult['status']> {
  return new Promise((resolve) => {
    const done = (status: SpeakResult['status']): void => {
      call.off('utterancePlayed', onPlayed);
      call.off('clear', onClear);
      call.off('close', onClose);
      resolve(status);
    };
    const onPlayed = (e: { utterance: string }): void => {
      if (e.utterance === utterance) done('played');
    };
    const onClear = (): void => done('interrupted');
    const onClose = (): void => done('closed');
    call.on('utterancePlayed', onPlayed);
    call.on('clear', onClear);
    call.on('close', onClose);
    if (call.isClosed) return done('closed');
    call.endUtterance();
  });
}

function heardOf(call: SpeakingCall, utterance: string): number {
  try {
    return call.heard(utterance)?.heardMs ?? 0;
  } catch {
    return 0; // cut before it began (still behind a pool job): nothing of it was heard
  }
}

function iteratorOf(source: SpeechSource): AsyncIterator<SpeechChunk> | Iterator<SpeechChunk> {
  if (source !== null && typeof source === 'object') {
    if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
    if (Symbol.iterator in source) return source[Symbol.iterator]();
  }
  throw new PtimeError(ErrorCodes.INVALID_AUDIO, 'speak() takes an async iterable (or a stream, or an iterable) of audio chunks');
}
