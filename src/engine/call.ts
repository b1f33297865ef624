import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { AudioFormat } from '../codec/audio-format.js';
import type { SampleRate } from '../codec/sample-rates.js';
import type { InboundMedia, StartInfo } from '../protocol/carrier-adapter.js';
import type { PtimeError } from '../errors.js';
import type { MarkResult } from './mark-book.js';
import type { InboundPcmRate } from './pcm-receiver.js';
import type { SpeakOptions, SpeakResult, SpeechSource } from './speaker.js';
import type { HeardReport, Interruption, Playback } from './utterance-book.js';

export type { InboundMedia } from '../protocol/carrier-adapter.js';

/** Inbound audio as PCM16, for STT (after enableInboundPcm16). */
export interface InboundPcm16 {
  samples: Int16Array;
  sampleRate: InboundPcmRate;
  track: string;
  chunk: number;
  timestamp: number;
}

export interface CallStats {
  framesSent: number;
  queueDepth: number;
  drops: number;
  underruns: number;
  lateTicks: number;
  /** Frames dropped on main because a clear() made them stale after the pacer handed them back. */
  staleDiscarded: number;
  marksPending: number;
  /** Frames of sendPcm16 audio still being converted in the codec pool. */
  codecPendingFrames: number;
  /** The engine's own marks sent to the carrier (for call.heard(); never surfaced as 'mark'). */
  internalMarks: number;
  /**
   * The engine's own marks not sent because MAX_INTERNAL_MARKS_UNSETTLED (64) were already
   * awaiting the carrier's echo: a carrier that does not echo marks. heard() then stays bounded
   * by the last echo (confirmedMs) and the send-time model.
   */
  internalMarksSkipped: number;
  /** clear() calls, and the frames they dropped from the queue. */
  clears: number;
  clearedFrames: number;
  /** Media frames not sent because the peer's socket stopped draining (over maxBufferedBytes). */
  slowPeerDrops: number;
  /** Frames dropped oldest-first because more than maxQueuedMs of audio was queued (a relay's backlog). */
  latencyDrops: number;
  rejected: number;
}

export interface CallEvents {
  media: [InboundMedia];
  pcm16: [InboundPcm16];
  dtmf: [{ digit: string; track: string }];
  mark: [MarkResult];
  stop: [];
  close: [{ code: number; reason: string }];
  drain: [];
  /** The engine is shutting down: queued audio still plays, but no more is accepted. */
  ending: [];
  /** clear() was called (barge-in): the utterances it cut, as it returned them. */
  clear: [Interruption[]];
  /** A clear() cut this utterance: what the caller heard of it (one event per utterance cut). */
  interrupted: [Interruption];
  /** The carrier confirmed the utterance's last audio played. */
  utterancePlayed: [{ utterance: string }];
  /**
   * The caller started hearing bot audio (speaking: true, also when the next utterance follows
   * without a gap) or stopped (false: the utterance ended, ran dry, or a clear() cut it), by the
   * estimate heard() gives (error within markEveryMs; at an utterance's start, the first look after its first frame went out).
   */
  playback: [Playback];
  /** The call's recording is complete on disk (written after the call ended). */
  recorded: [RecordedInfo];
  /** The recording could not be written (PTIME_ERR_RECORDING, naming the path and the reason): it stops, the call goes on. */
  recordError: [PtimeError];
}

/** A finished recording: a stereo 16-bit WAV at the call's rate, left the caller, right the bot as heard. */
export interface RecordedInfo {
  /** The file, or null for a recording to the application's stream. */
  path: string | null;
  durationMs: number;
  /** The file's size, header included. */
  bytes: number;
}

export type { HeardReport, Interruption, Playback, UtteranceState } from './utterance-book.js';
export type { SpeakOptions, SpeakResult, SpeechChunk, SpeechSource } from './speaker.js';

export type { MarkResult } from './mark-book.js';

/**
 * A call's lifecycle, like `ws`'s readyState: 'open' takes audio; 'ending' (the engine drains for
 * shutdown) plays out what is queued and a speak() already in progress, but takes no new audio;
 * 'closed' for good (hang-up, stop, close(), engine closed).
 */
export type CallState = 'open' | 'ending' | 'closed';

/**
 * What a Call does, done by its line (call-line.ts): the handle holds no state of its own, so the
 * engine's side of a call never shows on the application's type. Not exported from the package.
 */
export interface CallOps {
  readonly state: CallState;
  readonly queueDepth: number;
  send(audio: Uint8Array): boolean;
  sendPcm16(audio: Int16Array | Uint8Array | Float32Array, sampleRate: SampleRate): boolean;
  flush(): boolean;
  beginUtterance(id?: string): string;
  endUtterance(): void;
  heard(id?: string): HeardReport | null;
  enableInboundPcm16(sampleRate: InboundPcmRate): void;
  disableInboundPcm16(): void;
  mark(name: string): Promise<MarkResult>;
  clear(): Interruption[];
  writable(): Promise<boolean>;
  speak(source: SpeechSource, opts: SpeakOptions): Promise<SpeakResult>;
  close(code: number, reason: string): void;
  /** The call's 'media' listeners changed: now `count`. */
  mediaListeners(count: number): void;
  stats(): CallStats;
  setMaxQueuedMs(ms: number): void;
  record(target?: string | Writable): boolean;
}

/**
 * One call, as the application sees it: the carrier's ids, the stream's format, the audio API
 * and its events (CallEvents). Made by the engine for every stream that starts ('call' event).
 */
export class Call extends EventEmitter<CallEvents> {
  readonly streamSid: string;
  readonly callSid: string;
  readonly accountSid: string;
  readonly customParameters: Readonly<Record<string, string>>;
  readonly tracks: readonly string[];
  /** The stream's wire audio: what send() takes, what 'media' events carry (see README's carrier table). */
  readonly format: AudioFormat;
  readonly logger: Logger;
  readonly #ops: CallOps;

  /** @internal */
  constructor(start: StartInfo, logger: Logger, ops: CallOps) {
    super();
    this.streamSid = start.streamSid;
    this.callSid = start.callSid;
    this.accountSid = start.accountSid;
    this.customParameters = Object.freeze({ ...start.customParameters });
    this.tracks = Object.freeze([...start.tracks]);
    this.format = start.format;
    this.logger = logger;
    this.#ops = ops;
    // EventEmitter<CallEvents> types only the call's own events; its listener events are untyped.
    const emitter = this as unknown as EventEmitter;
    emitter.on('newListener', (event: string | symbol) => {
      if (event === 'media') ops.mediaListeners(this.listenerCount('media') + 1);
    });
    emitter.on('removeListener', (event: string | symbol) => {
      if (event === 'media') ops.mediaListeners(this.listenerCount('media'));
    });
  }

  /** 'open', 'ending' (the engine drains for shutdown) or 'closed': see CallState. */
  get state(): CallState {
    return this.#ops.state;
  }

  get isClosed(): boolean {
    return this.#ops.state === 'closed';
  }

  /** Whether send(), sendPcm16(), flush(), beginUtterance() and speak() take audio: the call is 'open'. */
  get accepting(): boolean {
    return this.#ops.state === 'open';
  }

  /** Slots (frames and marks) queued for the pacer. */
  get queueDepth(): number {
    return this.#ops.queueDepth;
  }

  /**
   * Queue audio in the call's wire format (`call.format`: mu-law for Twilio) of any length; it is
   * cut into 20 ms frames (160 bytes of G.711, 320/640/960 of L16), the remainder carried over.
   * Returns false once the queue reaches highWaterMark: wait for 'drain' (or `await writable()`)
   * before sending more, as with a stream. Beyond the queue bound the oldest audio is dropped (and
   * counted), never the call. Once the call is not 'open' it queues nothing and returns false.
   */
  send(audio: Uint8Array): boolean {
    return this.#ops.send(audio);
  }

  /**
   * Queue PCM16 audio at its own rate (8, 16, 22.05, 24, 44.1 or 48 kHz): an Int16Array, s16le
   * bytes (a Buffer from a TTS API), or a Float32Array in [-1, 1]. It is resampled with an
   * anti-aliasing filter to the call's rate, encoded to its wire format and framed; consecutive
   * chunks form one stream with no click at the joins. Chunks shorter than `codecPoolMinMs`
   * convert inline; longer ones on the codec pool, and their audio still plays in the order of
   * the send/sendPcm16/mark calls. A chunk that is refused (unsupported rate, odd byte count,
   * empty, NaN or a float outside [-1, 1]) throws a PtimeError and queues nothing, whatever the
   * call's state. Returns false at the high-water mark, and once the call is not 'open'.
   */
  sendPcm16(audio: Int16Array | Uint8Array | Float32Array, sampleRate: SampleRate): boolean {
    return this.#ops.sendPcm16(audio, sampleRate);
  }

  /**
   * End of a talk: the resampler's tail, then the carried remainder padded with the format's
   * silence. False (and nothing done) once the call is not 'open'.
   */
  flush(): boolean {
    return this.#ops.flush();
  }

  /**
   * Audio sent from now on (send, sendPcm16, file) belongs to utterance `id` (made up if omitted;
   * returned) until the next beginUtterance() or endUtterance(). The one open before ends here:
   * its carried remainder is padded out, so utterances never share a frame. In the call's order,
   * like send(): audio of earlier sendPcm16 chunks still converting stays in the earlier one.
   * Once the call is not 'open' it still checks and returns the id, and begins nothing.
   */
  beginUtterance(id?: string): string {
    return this.#ops.beginUtterance(id);
  }

  /** The open utterance ends here (its remainder padded out); audio after it starts an implicit one. Nothing once not 'open'. */
  endUtterance(): void {
    this.#ops.endUtterance();
  }

  /**
   * What the caller has heard of utterance `id`, or of the one playing now (null before any
   * audio): see README, "What the caller heard". On an open call, throws PTIME_ERR_UTTERANCE for
   * an id never begun on it or older than its last 32 utterances; once the call is not 'open',
   * such an id (say, one beginUtterance() returned after the hang-up) gives null.
   */
  heard(id?: string): HeardReport | null {
    return this.#ops.heard(id);
  }

  /**
   * Also deliver inbound audio as PCM16 at `sampleRate` (8000 or 16000, what STT engines take) in
   * 'pcm16' events, alongside the wire-format 'media' events. Off by default: decoding costs CPU
   * that a call not doing STT should not pay.
   */
  enableInboundPcm16(sampleRate: InboundPcmRate): void {
    this.#ops.enableInboundPcm16(sampleRate);
  }

  disableInboundPcm16(): void {
    this.#ops.disableInboundPcm16();
  }

  /**
   * Queue a mark behind the audio sent so far (a carried remainder is flushed first, so the mark
   * follows all of it). Resolves when the carrier echoes it ('played'), or with 'cleared',
   * 'dropped' (fell off a full queue) or 'closed'; the same result is emitted as 'mark'. Taken
   * while the call is ending (it adds no audio); on a closed call it resolves 'closed' at once.
   */
  mark(name: string): Promise<MarkResult> {
    return this.#ops.mark(name);
  }

  /**
   * Barge-in: drop everything queued here and at the carrier. Nothing queued before clear() is sent
   * after it, including frames the pacer already handed back; queued marks resolve 'cleared'.
   * Returns (and emits as 'interrupted') each utterance it cut, with what the caller heard of it.
   * Works while the call is ending; on a closed call it returns [] (nothing is queued any more).
   */
  clear(): Interruption[] {
    return this.#ops.clear();
  }

  /**
   * Record this call from now on as a stereo 16-bit WAV at its rate: left the caller (placed by
   * the carrier's timestamps), right the bot as the caller heard it (frames at their play
   * positions, audio a clear() flushed left out). `target`: a file path (default
   * `<record.dir>/<streamSid>.wav`, the engine's `record` option, which records every call from
   * its start), or a writable stream that gets the file's bytes (its header's sizes say "unknown",
   * as a stream cannot be rewritten; it is ended with the call). Written on the recorder thread;
   * 'recorded' when complete, 'recordError' (PTIME_ERR_RECORDING) if it cannot be written. Returns
   * false when the call is already recorded or closed.
   */
  record(target?: string | Writable): boolean {
    return this.#ops.record(target);
  }

  /**
   * Resolves true once the call takes more audio (below highWaterMark, at once if it already is),
   * false once it never will (closed, or ending for shutdown). Never hangs: the await that replaces
   * `once('drain')` in a producer loop.
   */
  writable(): Promise<boolean> {
    return this.#ops.writable();
  }

  /**
   * Play `source` (an async iterable or stream of wire-format bytes or { pcm, sampleRate } chunks)
   * as one utterance, pulled with back-pressure, then wait until it is played. clear(), the signal
   * or the call's end stops the pull at once (the source is returned or destroyed) and nothing more
   * of it is sent. Resolves { utterance, status: 'played' | 'interrupted' | 'closed', heardMs }.
   * A speak() in progress when the engine starts draining plays on (until it ends or the drain
   * deadline); one started on a call that is not 'open' resolves 'closed' at once. A source that
   * is not iterable throws PTIME_ERR_INVALID_AUDIO.
   */
  speak(source: SpeechSource, opts: SpeakOptions = {}): Promise<SpeakResult> {
    return this.#ops.speak(source, opts);
  }

  /** Hang up our side: close the socket (1000 by default) and release the lane. Nothing once closed. */
  close(code = 1000, reason = 'closed by application'): void {
    this.#ops.close(code, reason);
  }

  stats(): CallStats {
    return this.#ops.stats();
  }

  /**
   * Bound the delay this call's queue may add, for a real-time source (a relay of another call, a
   * speech-to-speech model streaming at real time): audio queued past `ms` is dropped oldest first
   * and counted (`latencyDrops`), so after a gap that the source makes up in a burst the delay
   * returns to `ms` instead of staying. 0 turns it off (the default, from the engine's
   * `maxQueuedMs`): a TTS faster than real time needs its queue. Whole ms up to 20480.
   */
  setMaxQueuedMs(ms: number): void {
    this.#ops.setMaxQueuedMs(ms);
  }
}
