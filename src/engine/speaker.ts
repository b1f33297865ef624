import { ErrorCodes, PtimeError } from '../errors.js';
import type { SampleRate } from '../codec/sample-rates.js';
import type { HeardReport } from './utterance-book.js';

/**
 * What speak() uses of a call: the Call's own paths past the public methods' state checks, so a
 * speak() in progress plays on while the engine drains (an interface, so the two files do not
 * import each other).
 */
export interface Voice {
  /** False once the call has closed. */
  live(): boolean;
  beginUtterance(id?: string): string;
  endUtterance(): void;
  heard(id: string): HeardReport | null;
  send(audio: Uint8Array): boolean;
  sendPcm16(audio: Int16Array | Uint8Array | Float32Array, sampleRate: SampleRate): boolean;
  /** True below the high-water mark, false once the call closed (not on 'ending'). */
  writable(): Promise<boolean>;
  clear(): unknown;
  /** Listen for a clear(), the close, and an utterance confirmed played; returns the unsubscribe. */
  watch(on: { clear: () => void; close: () => void; played: (utterance: string) => void }): () => void;
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
 * never play the rest of its utterance after the reply. The engine's drain does not stop it: it
 * plays on until it ends or the drain deadline closes the call.
 *
 * The utterance id is checked before anything starts, so a bad one throws as the call is made.
 */
export function speak(call: Voice, it: SpeechIterator, opts: SpeakOptions = {}): Promise<SpeakResult> {
  let utterance: string;
  try {
    utterance = call.beginUtterance(opts.utterance);
  } catch (err) {
    releaseSource(it);
    throw err;
  }
  return pull(call, it, utterance, opts.signal);
}

async function pull(
  call: Voice,
  it: SpeechIterator,
  utterance: string,
  signal: AbortSignal | undefined,
): Promise<SpeakResult> {
  let stop: 'interrupted' | 'closed' | null = null;
  let wake: () => void = () => undefined;
  const stopped = new Promise<typeof STOP>((resolve) => (wake = () => resolve(STOP)));
  const halt = (why: 'interrupted' | 'closed'): void => {
    stop ??= why;
    wake();
  };
  const onAbort = (): void => {
    if (stop === null && call.live()) call.clear(); // emits 'clear': halts as interrupted
    halt('interrupted');
  };
  const unwatch = call.watch({
    clear: () => halt('interrupted'),
    close: () => halt('closed'),
    played: () => undefined,
  });
  signal?.addEventListener('abort', onAbort);
  if (signal?.aborted) onAbort();
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
    if (!finished) releaseSource(it);
    unwatch();
    signal?.removeEventListener('abort', onAbort);
  }
  const status = stop ?? (await playedOut(call, utterance));
  return { utterance, status, heardMs: heardOf(call, utterance) };
}

/** Let the source go (a stream is destroyed, a generator runs its finally); its errors are not ours. */
export function releaseSource(it: SpeechIterator): void {
  void Promise.resolve()
    .then(() => it.return?.())
    .catch(() => undefined);
}

function write(call: Voice, chunk: SpeechChunk): boolean {
  if (chunk instanceof Uint8Array) return call.send(chunk);
  if (chunk !== null && typeof chunk === 'object' && 'pcm' in chunk) return call.sendPcm16(chunk.pcm, chunk.sampleRate);
  throw new PtimeError(
    ErrorCodes.INVALID_AUDIO,
    'speak() source chunks must be wire-format bytes (Uint8Array) or { pcm, sampleRate }',
  );
}

/** The source ran dry: end the utterance and wait until it is played, cut or the call ends. */
function playedOut(call: Voice, utterance: string): Promise<SpeakResult['status']> {
  return new Promise((resolve) => {
    const done = (status: SpeakResult['status']): void => {
      unwatch();
      resolve(status);
    };
    const unwatch = call.watch({
      clear: () => done('interrupted'),
      close: () => done('closed'),
      played: (u) => {
        if (u === utterance) done('played');
      },
    });
    if (!call.live()) return done('closed');
    call.endUtterance();
  });
}

function heardOf(call: Voice, utterance: string): number {
  try {
    return call.heard(utterance)?.heardMs ?? 0;
  } catch {
    return 0; // cut before it began (still behind a pool job): nothing of it was heard
  }
}

type SpeechIterator = AsyncIterator<SpeechChunk> | Iterator<SpeechChunk>;

/** The source's iterator, taken as speak() is called: a source that is not iterable throws then. */
export function speechIterator(source: SpeechSource): SpeechIterator {
  if (source !== null && typeof source === 'object') {
    if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
    if (Symbol.iterator in source) return source[Symbol.iterator]();
  }
  throw new PtimeError(
    ErrorCodes.INVALID_AUDIO,
    'speak() takes an async iterable (or a stream, or an iterable) of audio chunks',
  );
}
