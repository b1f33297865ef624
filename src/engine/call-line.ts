import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { ErrorCodes, PtimeError } from '../errors.js';
import { ThrottledCount } from '../log/throttled-count.js';
import { safeEmit } from '../log/safe-emit.js';
import type { CallTransport } from '../server/call-transport.js';
import type { InboundMedia, StartInfo } from '../protocol/carrier-adapter.js';
import { adapterFor } from '../protocol/carriers.js';
import type { AudioFormat } from '../codec/audio-format.js';
import {
  HEADER_WORDS,
  H_LATE,
  H_TX_SENT,
  H_TX_SLOW,
  H_TX_STALE,
  H_UNDERRUNS,
  FRAME_MS,
  MAX_QUEUED_MS,
} from '../ring/lane-layout.js';
import { DROPPED_FRAME, DROPPED_MARK, DROPPED_NONE } from '../ring/lane-ring.js';
import { Call, type CallOps, type CallState, type CallStats } from './call.js';
import { Framer } from './framer.js';
import type { Lane } from './lane-pool.js';
import { MarkBook, MAX_INTERNAL_MARKS_UNSETTLED, type MarkResult } from './mark-book.js';
import { UtteranceBook, type HeardReport, type Interruption } from './utterance-book.js';
import {
  releaseSource,
  speak,
  speechIterator,
  type SpeakOptions,
  type SpeakResult,
  type SpeechSource,
  type Voice,
} from './speaker.js';
import type { SampleRate } from '../codec/sample-rates.js';
import { OutboundOrder } from './outbound-order.js';
import { checkInboundRate, PcmReceiver, type InboundPcmRate } from './pcm-receiver.js';
import { checkPcmInput, type CodecRunner, PcmSender } from './pcm-sender.js';
import { CallRecording } from '../record/call-recording.js';
import type { RecorderHost } from '../record/recorder-host.js';
import { recordingFileName } from '../record/recording-file-name.js';

/** What a call needs from its engine. */
export interface CallContext {
  readonly logger: Logger;
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  readonly maxMarkNameBytes: number;
  readonly codec: CodecRunner;
  /** The engine's own marks go out every this many frames of audio (0: only at utterance ends and the app's marks). */
  readonly markEveryFrames: number;
  /** Frames the pacer sends ahead of real time (the carrier holds them): the heard() model's send-time lead. */
  readonly leadFrames: number;
  /** Above this many unsent bytes on a socket, the call's media frames are dropped. */
  readonly maxBufferedBytes: number;
  /** A call's queued audio, at most this many ms, oldest dropped first (0: only the queue bound). */
  readonly maxQueuedMs: number;
  /** Writes recordings (a thread started with the first one). */
  readonly recorder: RecorderHost;
  /** Every call is recorded to `<recordDir>/<streamSid>.wav` from its start (undefined: only calls that ask). */
  readonly recordDir: string | undefined;
  /** An utterance was first heard this many ms after it began (the engine's metrics). */
  readonly firstAudio?: (ms: number) => void;
  /** A clear() cut an utterance of which the caller had heard this many ms (the engine's metrics). */
  bargeIn?(heardMs: number): void;
  /** An app mark settled (counted by the engine's metrics). */
  markSettled?(status: MarkResult['status']): void;
  /** Lane `lane` needs the pacer now (audio on a parked lane, or a clear). */
  wakePacer(lane: number): void;
  /** Count a refusal against the engine's totals (by code), as for rejected inbound messages. */
  count(code: PtimeError['code'], message: string, line: CallLine): void;
  release(line: CallLine): void;
}

const OVERFLOW_LOG_MS = 2000;
/** A recording's bytes the application's stream may hold unwritten: a minute of 8 kHz stereo. */
const MAX_STREAM_BACKLOG_BYTES = 2 * 1024 * 1024;

function isWritable(v: unknown): v is Writable {
  return typeof v === 'object' && v !== null && typeof (v as Writable).write === 'function';
}
const SLOW_PEER_LOG_MS = 2000;

/** Calls by their public handle, for the engine's internals and tests that must reach a call's lane. */
const lines = new WeakMap<Call, CallLine>();

/** The engine's side of a public Call (its lane, figures and hooks), or undefined for a foreign object. */
export function lineOf(call: Call): CallLine | undefined {
  return lines.get(call);
}

/**
 * One call's machinery behind its public handle (call.ts): its lane, framer, codec path, marks and
 * utterances, and the hooks the engine and the stream drive it by. `send()` frames audio into the
 * call's lane; the pacer worker hands each due frame back here and this is the one place that
 * sends the call's outbound messages, so media, marks and clear leave in the order the
 * application chose.
 */
export class CallLine implements CallOps {
  /** The application's handle: every event is emitted on it. */
  readonly call: Call;
  readonly streamSid: string;
  readonly format: AudioFormat;
  readonly logger: Logger;

  private readonly framer: Framer;
  private readonly clearEchoesMarks: boolean;
  private readonly order = new OutboundOrder();
  private readonly pcm: PcmSender;
  private receiver: PcmReceiver | null = null;
  private readonly marks: MarkBook;
  private readonly book: UtteranceBook;
  private framesSinceMark = 0;
  private internalMarksSkipped = 0;
  /** The close code, once closed (counted by the engine's metrics). */
  closeCode: number | null = null;
  private clearCount = 0;
  private clearedFrameCount = 0;
  private readonly overflow: ThrottledCount;
  /** The latency bound in frames (0: off) and the frames it dropped. */
  private maxQueuedFrames: number;
  private latencyDrops = 0;
  private readonly latency: ThrottledCount;
  private readonly baseline: {
    underruns: number;
    late: number;
    drops: number;
    sent: number;
    slow: number;
    stale: number;
  };
  private readonly header: Int32Array;
  private readonly clearWire: string;
  private gen: number;
  private lifecycle: CallState = 'open';
  /** speak() calls still pulling or waiting for their audio to play: the drain waits for them. */
  private speaking = 0;
  /** What speak() writes through: like the public methods, but a speak in progress plays on while ending. */
  private readonly voice: Voice;
  private readonly slowPeer: ThrottledCount;
  private needDrain = false;
  /** What the socket side was last told (a stream starts wanting inbound media). */
  private mediaWanted = true;
  private rejectedCount = 0;
  /** Figures frozen at release: the lane's counters belong to the next call after that. */
  private final: CallStats | null = null;
  /** The call's recording while one is being made (null: none, the hot path's only extra check). */
  private recording: CallRecording | null = null;

  constructor(
    start: StartInfo,
    readonly lane: Lane,
    private readonly transport: CallTransport,
    private readonly ctx: CallContext,
  ) {
    this.streamSid = start.streamSid;
    this.format = start.format;
    this.framer = new Framer(this, start.format);
    this.logger = ctx.logger.child({ streamSid: this.streamSid, callSid: start.callSid });
    this.call = new Call(start, this.logger, this);
    lines.set(this.call, this);
    this.gen = lane.ring.generation;
    const adapter = adapterFor(start.carrier);
    this.clearWire = adapter.clearMessage(this.streamSid);
    this.clearEchoesMarks = adapter.clearEchoesMarks;
    this.pcm = new PcmSender(
      this.order,
      (wire) => this.writeNow(wire),
      ctx.codec,
      this.logger,
      () => this.maybeDrain(),
      start.format,
    );
    const carrierCap = adapter.maxMarkNameBytes ?? Number.POSITIVE_INFINITY;
    this.marks =
      carrierCap < ctx.maxMarkNameBytes
        ? new MarkBook(
            carrierCap,
            (name) => adapter.markMessage(this.streamSid, name),
            `${adapter.name}'s command size`,
          )
        : new MarkBook(ctx.maxMarkNameBytes, (name) => adapter.markMessage(this.streamSid, name));
    this.maxQueuedFrames = Math.ceil(ctx.maxQueuedMs / FRAME_MS);
    this.latency = new ThrottledCount(OVERFLOW_LOG_MS, (dropped) => {
      this.logger.warn(
        { dropped, maxQueuedMs: this.maxQueuedFrames * FRAME_MS },
        'audio queued past maxQueuedMs, dropped oldest',
      );
    });
    this.overflow = new ThrottledCount(OVERFLOW_LOG_MS, (dropped) => {
      this.logger.warn({ dropped, bound: this.lane.ring.bound }, 'tx queue full, dropped oldest');
    });
    this.slowPeer = new ThrottledCount(SLOW_PEER_LOG_MS, (dropped) => {
      this.logger.warn(
        { dropped, maxBufferedBytes: ctx.maxBufferedBytes },
        'socket not draining, dropped media frames',
      );
    });
    const ring = lane.ring;
    this.header = new Int32Array(ring.sab, 0, HEADER_WORDS);
    const h = this.header;
    this.baseline = {
      underruns: ring.read(H_UNDERRUNS),
      late: ring.read(H_LATE),
      drops: ring.drops,
      sent: Atomics.load(h, H_TX_SENT),
      slow: Atomics.load(h, H_TX_SLOW),
      stale: Atomics.load(h, H_TX_STALE),
    };
    this.book = new UtteranceBook(ctx.leadFrames, adapter.playbackAck, () => this.consumed());
    this.voice = {
      live: () => this.lifecycle !== 'closed',
      beginUtterance: (id) => this.beginNow(id),
      endUtterance: () => this.endNow(),
      heard: (id) => this.heard(id),
      send: (audio) => this.queueWire(audio),
      sendPcm16: (audio, rate) => this.queuePcm(audio, rate),
      writable: () => this.room(false),
      clear: () => this.clear(),
      watch: (on) => {
        const onPlayed = (e: { utterance: string }): void => on.played(e.utterance);
        this.call.on('clear', on.clear);
        this.call.on('close', on.close);
        this.call.on('utterancePlayed', onPlayed);
        return () => {
          this.call.off('clear', on.clear);
          this.call.off('close', on.close);
          this.call.off('utterancePlayed', onPlayed);
        };
      },
    };
    if (ctx.recordDir !== undefined) this.record();
  }

  /** 'open', 'ending' (the engine drains for shutdown) or 'closed': see CallState. */
  get state(): CallState {
    return this.lifecycle;
  }

  get isClosed(): boolean {
    return this.lifecycle === 'closed';
  }

  /** Whether send(), sendPcm16(), flush(), beginUtterance() and speak() take audio: the call is 'open'. */
  get accepting(): boolean {
    return this.lifecycle === 'open';
  }

  /** Slots (frames and marks) queued for the pacer. */
  get queueDepth(): number {
    return this.lane.ring.depth();
  }

  /**
   * Queue audio in the call's wire format (`call.format`: mu-law for Twilio) of any length; it is
   * cut into 20 ms frames (160 bytes of G.711, 320/640/960 of L16), the remainder carried over.
   * Returns false once the queue reaches highWaterMark: wait for 'drain' before sending more, as
   * with a stream. Beyond the queue bound the oldest audio is dropped (and counted), never the call.
   */
  send(audio: Uint8Array): boolean {
    if (!(audio instanceof Uint8Array)) {
      throw new PtimeError(
        ErrorCodes.INVALID_AUDIO,
        `send() takes ${this.format.encoding} bytes (the call's format) as a Buffer or Uint8Array`,
      );
    }
    return this.lifecycle === 'open' && this.queueWire(audio);
  }

  /** send() past its checks (speak() comes here directly: it plays on while the call is ending). */
  private queueWire(audio: Uint8Array): boolean {
    if (this.lifecycle === 'closed') return false;
    if (!this.order.busy) this.writeNow(audio);
    else {
      // Behind a pool job the bytes wait here, and the caller may reuse its buffer meanwhile.
      const bytes = audio.slice();
      this.order.run(() => this.writeNow(bytes), bytes.length);
    }
    return this.belowHighWater();
  }

  /**
   * Queue PCM16 audio at its own rate (8, 16, 22.05, 24, 44.1 or 48 kHz): an Int16Array, s16le
   * bytes (a Buffer from a TTS API), or a Float32Array in [-1, 1]. It is resampled with an
   * anti-aliasing filter to the call's rate, encoded to its wire format and framed; consecutive chunks form one stream with
   * no click at the joins. Chunks shorter than `codecPoolMinMs` convert inline; longer ones on
   * the codec pool, and their audio still plays in the order of the send/sendPcm16/mark calls.
   * A chunk that is refused (unsupported rate, odd byte count, empty, NaN or a float outside
   * [-1, 1]) throws a PtimeError and queues nothing, whatever the call's state. Returns false at
   * the high-water mark, and once the call is not 'open' (nothing is queued then).
   */
  sendPcm16(audio: Int16Array | Uint8Array | Float32Array, sampleRate: SampleRate): boolean {
    if (this.lifecycle !== 'open') {
      checkPcmInput(audio, sampleRate);
      return false;
    }
    return this.queuePcm(audio, sampleRate);
  }

  private queuePcm(audio: Int16Array | Uint8Array | Float32Array, sampleRate: SampleRate): boolean {
    if (this.lifecycle === 'closed') {
      checkPcmInput(audio, sampleRate);
      return false;
    }
    this.pcm.send(audio, sampleRate);
    return this.belowHighWater();
  }

  /**
   * End of an utterance: the resampler's tail, then the carried remainder padded with the format's
   * silence. False (and nothing done) once the call is not 'open'.
   */
  flush(): boolean {
    if (this.lifecycle !== 'open') return false;
    this.flushAudio(true);
    return this.belowHighWater();
  }

  /**
   * Audio sent from now on (send, sendPcm16, file) belongs to utterance `id` (made up if omitted;
   * returned) until the next beginUtterance() or endUtterance(). The one open before ends here:
   * its carried remainder is padded out, so utterances never share a frame. In the call's order,
   * like send(): audio of earlier sendPcm16 chunks still converting stays in the earlier one.
   * Once the call is not 'open' it still checks and returns the id, and begins nothing.
   */
  beginUtterance(id?: string): string {
    if (this.lifecycle !== 'open') return this.book.reserve(id);
    return this.beginNow(id);
  }

  private beginNow(id?: string): string {
    const uid = this.book.reserve(id);
    if (this.lifecycle === 'closed') return uid;
    const at = performance.now();
    this.flushAudio();
    this.order.run(() => {
      this.closeUtterance();
      this.book.begin(uid, at);
    }, 0);
    return uid;
  }

  /** The open utterance ends here (its remainder padded out); audio after it starts an implicit one. Nothing once not 'open'. */
  endUtterance(): void {
    if (this.lifecycle === 'open') this.endNow();
  }

  private endNow(): void {
    if (this.lifecycle === 'closed') return;
    this.flushAudio();
    this.order.run(() => {
      this.closeUtterance();
      this.wakeIfIdle();
    }, 0);
  }

  /**
   * What the caller has heard of utterance `id`, or of the one playing now (null before any
   * audio): see README, "What the caller heard". On an open call, throws PTIME_ERR_UTTERANCE for
   * an id never begun on it or older than its last 32 utterances; once the call is not 'open',
   * such an id (say, one beginUtterance() returned after the hang-up) gives null.
   */
  heard(id?: string): HeardReport | null {
    if (this.lifecycle === 'open' || id === undefined) return this.book.heard(performance.now(), id);
    try {
      return this.book.heard(performance.now(), id);
    } catch (err) {
      if (err instanceof PtimeError && err.code === ErrorCodes.UTTERANCE) return null;
      throw err;
    }
  }

  /**
   * Also deliver inbound audio as PCM16 at `sampleRate` (8000 or 16000, what STT engines take) in
   * 'pcm16' events, alongside the wire-format 'media' events. Off by default: decoding costs CPU that
   * a call not doing STT should not pay.
   */
  enableInboundPcm16(sampleRate: InboundPcmRate): void {
    const rate = checkInboundRate(sampleRate);
    if (this.lifecycle !== 'closed') this.receiver = new PcmReceiver(rate, this.format);
    this.syncMediaWanted();
  }

  disableInboundPcm16(): void {
    this.receiver = null;
    this.syncMediaWanted();
  }

  mediaListeners(count: number): void {
    this.syncMediaWanted(count);
  }

  /**
   * Tell the socket side whether this call wants inbound media: a 'media' listener or PCM16
   * delivery. A listener added shows at once (mediaListeners); one removed, or every listener
   * removed with removeAllListeners(), shows at the engine's next 20 ms look.
   */
  syncMediaWanted(count = this.call.listenerCount('media')): void {
    const wanted = this.lifecycle !== 'closed' && (count > 0 || this.receiver !== null || this.recording !== null);
    if (wanted === this.mediaWanted) return;
    this.mediaWanted = wanted;
    this.transport.wantMedia(wanted);
  }

  /**
   * Queue a mark behind the audio sent so far (a carried remainder is flushed first, so the mark
   * follows all of it). Resolves when the carrier echoes it ('played'), or with 'cleared',
   * 'dropped' (fell off a full queue) or 'closed'; the same result is emitted as 'mark'. Taken
   * while the call is ending (it adds no audio); on a closed call it resolves 'closed' at once.
   */
  mark(name: string): Promise<MarkResult> {
    this.marks.checkName(name);
    if (this.lifecycle === 'closed') return Promise.resolve({ name, status: 'closed' });
    const { id, done } = this.marks.add(name);
    this.flushAudio();
    this.order.run(() => {
      this.marks.place(id, this.book.markQueued());
      this.framesSinceMark = 0;
      this.queueMark(id);
      this.wakeIfIdle();
    }, 0);
    return done;
  }

  /**
   * Barge-in: drop everything queued here and at the carrier. Nothing queued before clear() is sent
   * after it, including frames the pacer already handed back; queued marks resolve 'cleared'.
   * Returns (and emits as 'interrupted') each utterance it cut, with what the caller heard of it.
   * Works while the call is ending; on a closed call it returns [] (nothing is queued any more).
   */
  clear(): Interruption[] {
    if (this.lifecycle === 'closed') return [];
    const now = performance.now();
    const cuts = this.book.clear(now);
    this.recording?.botClear(now);
    this.lookPlayback(now);
    for (const cut of cuts) this.ctx.bargeIn?.(cut.heardMs);
    this.framesSinceMark = 0;
    this.order.cancel();
    this.pcm.reset();
    this.framer.reset();
    this.clearCount++;
    this.clearedFrameCount += this.lane.ring.clear();
    this.gen = this.lane.ring.generation;
    this.transport.clear(this.clearWire, this.gen);
    this.ctx.wakePacer(this.lane.index); // the pacer restarts this lane's schedule: the carrier's buffer is empty now
    this.settle(this.marks.clearQueued());
    // A carrier that does not echo flushed marks would leave them pending until the call ends.
    if (!this.clearEchoesMarks) this.settle(this.marks.clearInFlight());
    this.marks.noteClearSent();
    if (this.needDrain) setImmediate(() => this.maybeDrain());
    safeEmit(this.call, this.logger, 'clear', cuts);
    for (const cut of cuts) safeEmit(this.call, this.logger, 'interrupted', cut);
    return cuts;
  }

  /** See Call.record(). */
  record(target?: string | Writable): boolean {
    const stream = isWritable(target) ? target : null;
    if (stream === null && target !== undefined && (typeof target !== 'string' || target.length === 0))
      throw new PtimeError(
        ErrorCodes.INVALID_OPTION,
        'call.record(target): target must be a file path (a non-empty string) or a writable stream',
      );
    const dir = this.ctx.recordDir;
    const path =
      stream !== null
        ? null
        : ((target as string | undefined) ??
          (dir === undefined ? undefined : join(dir, recordingFileName(this.streamSid))));
    if (path === undefined)
      throw new PtimeError(
        ErrorCodes.INVALID_OPTION,
        'call.record() needs a path or a stream when the engine has no record option ({ record: { dir } })',
      );
    if (this.lifecycle === 'closed' || this.recording !== null) return false;
    const where = path ?? "the application's stream";
    let failed = false;
    const fail = (reason: string): void => {
      if (failed) return;
      failed = true;
      if (this.recording === recording) this.recording = null;
      recording.abort();
      this.syncMediaWanted();
      this.logger.warn({ path: where, reason }, 'recording failed; the call goes on');
      const err = new PtimeError(ErrorCodes.RECORDING, `cannot record the call to ${where}: ${reason}`);
      safeEmit(this.call, this.logger, 'recordError', err);
    };
    // Audio queued before now plays first: by heard()'s estimate, until this.
    const now = performance.now();
    const queuedUntil = now + Math.max(0, this.book.pushed - this.book.position(now)) * FRAME_MS;
    const recording: CallRecording = new CallRecording(
      this.ctx.recorder,
      path,
      this.format,
      this.ctx.leadFrames,
      now,
      queuedUntil,
      {
        failed: fail,
        data: (bytes) => {
          if (failed || stream === null) return;
          // The app's stream holds what it has not written: past the bound it is not keeping up.
          if (stream.writableLength > MAX_STREAM_BACKLOG_BYTES)
            fail(`the stream is not draining (over ${MAX_STREAM_BACKLOG_BYTES} bytes unwritten)`);
          else stream.write(bytes);
        },
        done: ({ bytes, durationMs }) => {
          if (failed) return;
          stream?.end();
          const info = { path, durationMs, bytes };
          this.logger.info(info, 'recording written');
          safeEmit(this.call, this.logger, 'recorded', info);
        },
      },
    );
    // A recorder already closing fails the recording at once, before it is kept.
    if (recording.ended) return false;
    stream?.on('error', (err: Error) => fail(err.message));
    this.recording = recording;
    this.syncMediaWanted();
    return true;
  }

  /**
   * Resolves true once the call takes more audio (below highWaterMark, at once if it already is),
   * false once it never will (closed, or ending for shutdown). Never hangs: the await that replaces
   * `once('drain')` in a producer loop.
   */
  writable(): Promise<boolean> {
    return this.lifecycle === 'open' ? this.room(true) : Promise.resolve(false);
  }

  /** Resolves true below the high-water mark, false on close (and on ending, for the app's own loops). */
  private room(endsOnEnding: boolean): Promise<boolean> {
    if (this.lifecycle === 'closed') return Promise.resolve(false);
    if (this.unsentFrames < this.ctx.highWaterMark) return Promise.resolve(true);
    this.needDrain = true;
    return new Promise((resolve) => {
      const settle = (ok: boolean): void => {
        this.call.off('drain', onDrain);
        this.call.off('close', onEnd);
        this.call.off('ending', onEnd);
        resolve(ok);
      };
      const onDrain = (): void => settle(true);
      const onEnd = (): void => settle(false);
      this.call.on('drain', onDrain);
      this.call.on('close', onEnd);
      if (endsOnEnding) this.call.on('ending', onEnd);
    });
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
    const it = speechIterator(source);
    if (this.lifecycle !== 'open') {
      let utterance: string;
      try {
        utterance = this.book.reserve(opts.utterance);
      } finally {
        releaseSource(it); // as a cut speak() would
      }
      return Promise.resolve({ utterance, status: 'closed', heardMs: 0 });
    }
    const playing = speak(this.voice, it, opts);
    this.speaking++;
    return playing.finally(() => {
      this.speaking--;
    });
  }

  /** Hang up our side: close the socket (1000 by default) and release the lane. */
  close(code = 1000, reason = 'closed by application'): void {
    if (this.lifecycle === 'closed') return;
    this.transport.close(code, reason);
    this.release(code, reason);
  }

  /** Every mark of the call settled so far (the engine's own too), by outcome: for the call's last log line. */
  get markOutcomes(): Readonly<Record<MarkResult['status'], number>> {
    return this.marks.outcomes;
  }

  stats(): CallStats {
    if (this.final) return { ...this.final, rejected: this.rejectedCount };
    const ring = this.lane.ring;
    const h = this.header;
    return {
      framesSent: (Atomics.load(h, H_TX_SENT) - this.baseline.sent) | 0,
      queueDepth: ring.depth(),
      // The lane's counters are int32 and outlive calls: a difference is exact across a wrap.
      drops: (ring.drops - this.baseline.drops) | 0,
      underruns: (ring.read(H_UNDERRUNS) - this.baseline.underruns) | 0,
      lateTicks: (ring.read(H_LATE) - this.baseline.late) | 0,
      staleDiscarded: (Atomics.load(h, H_TX_STALE) - this.baseline.stale) | 0,
      marksPending: this.marks.pending,
      codecPendingFrames: this.pcm.pendingFrames,
      internalMarks: this.marks.internalSent,
      internalMarksSkipped: this.internalMarksSkipped,
      clears: this.clearCount,
      clearedFrames: this.clearedFrameCount,
      slowPeerDrops: (Atomics.load(h, H_TX_SLOW) - this.baseline.slow) | 0,
      latencyDrops: this.latencyDrops,
      rejected: this.rejectedCount,
    };
  }

  // --- engine side -------------------------------------------------------------------------

  pushFrame(src: Uint8Array, offset: number): void {
    this.book.frame();
    this.recording?.botFrame(src, offset, performance.now());
    this.handleDrop(this.lane.ring.pushFrame(src, offset));
    if (this.maxQueuedFrames > 0) this.boundLatency();
    if (this.ctx.markEveryFrames > 0 && ++this.framesSinceMark >= this.ctx.markEveryFrames) this.pushInternalMark();
  }

  /** An inbound media frame from the carrier. */
  deliverMedia(media: InboundMedia): void {
    safeEmit(this.call, this.logger, 'media', media);
    if (this.recording !== null && media.track !== 'outbound')
      this.recording.caller(media.payload, media.timestamp, performance.now());
    const receiver = this.receiver;
    if (receiver === null || this.lifecycle === 'closed') return;
    const samples = receiver.convert(media.payload, media.track);
    if (samples === null) return; // the first frame fills the resampler's delay
    safeEmit(this.call, this.logger, 'pcm16', {
      samples,
      sampleRate: receiver.rate,
      track: media.track,
      chunk: media.chunk,
      timestamp: media.timestamp,
    });
  }

  /**
   * Frames of this call have left the queue since the last look (the engine looks every 20 ms, as
   * they go out on the pacer's schedule on whichever thread sends): 'drain' may be due.
   */
  checkDrain(): void {
    if (this.needDrain) this.maybeDrain();
  }

  /** The engine's 20 ms look: whether the caller hears the bot ('playback'); what it heard goes to the recording. */
  look(now: number): void {
    if (this.lifecycle === 'closed') return;
    this.lookPlayback(now);
    this.recording?.tick(now);
  }

  private lookPlayback(now: number): void {
    const change = this.book.look(now, this.ctx.firstAudio);
    if (change) safeEmit(this.call, this.logger, 'playback', change);
  }

  /** The egress sent mark `markId`: its echo is awaited from now on. */
  markSent(markId: number): void {
    if (this.lifecycle !== 'closed') this.marks.sent(markId);
  }

  /** The engine is shutting down: refuse new audio, let what is queued play out. */
  beginEnding(): void {
    if (this.lifecycle !== 'open') return;
    // The resampler's last samples and a remainder under one frame end the app's utterance: play
    // them (padded) rather than cut them off. A speak() in progress plays on, and pads its own end.
    if (this.speaking === 0) this.flushAudio(true);
    this.lifecycle = 'ending';
    safeEmit(this.call, this.logger, 'ending');
  }

  /**
   * True once nothing of this call is left to play: no speak() still pulling or waiting for its
   * audio to be played, the queue and pool jobs empty (beginEnding flushed the rest).
   */
  get drained(): boolean {
    return this.lifecycle === 'closed' || (this.speaking === 0 && this.lane.ring.depth() === 0 && !this.order.busy);
  }

  /** The carrier echoed a mark (the app's or the engine's own). */
  markEchoed(name: string): boolean {
    const echo = this.marks.echoed(name);
    if (!echo) return false;
    if (echo.played) {
      const now = performance.now();
      const played = this.book.markPlayed(echo.seq, now);
      this.lookPlayback(now);
      for (const utterance of played) safeEmit(this.call, this.logger, 'utterancePlayed', { utterance });
    }
    if (echo.result) {
      this.ctx.markSettled?.(echo.result.status);
      safeEmit(this.call, this.logger, 'mark', echo.result);
    }
    return true;
  }

  /** Carrier flow control (Asterisk MEDIA_XOFF/XON): nothing is sent while paused; the queue's bound still holds. */
  flow(paused: boolean): void {
    if (this.lifecycle === 'closed' || this.lane.ring.paused === paused) return;
    this.lane.ring.setPaused(paused);
    this.logger.info({ paused }, paused ? 'carrier asked to pause sending' : 'carrier resumed sending');
    if (!paused) this.ctx.wakePacer(this.lane.index);
  }

  countRejection(): void {
    this.rejectedCount++;
  }

  /** Periodic housekeeping from the engine's figures timer. */
  tick(now: number): void {
    this.overflow.tick(now);
    this.latency.tick(now);
    this.slowPeer.tick(now);
  }

  /** The socket closed or the stream stopped: release the lane, settle every pending mark. */
  release(code: number, reason: string): void {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    this.closeCode = code;
    this.order.cancel();
    this.pcm.reset();
    this.overflow.tick(Number.POSITIVE_INFINITY);
    this.latency.tick(Number.POSITIVE_INFINITY);
    this.slowPeer.tick(Number.POSITIVE_INFINITY);
    this.settle(this.marks.closeAll());
    this.recording?.finish(performance.now());
    this.final = { ...this.stats(), queueDepth: 0 };
    this.ctx.release(this);
    safeEmit(this.call, this.logger, 'close', { code, reason });
  }

  /** Frame mu-law into the lane now (its turn in the call's order has come). */
  private writeNow(mulaw: Uint8Array): void {
    if (this.lifecycle === 'closed') return;
    this.framer.write(mulaw);
    this.wakeIfIdle();
  }

  /** Frames that have left the queue: sent, dropped for a slow peer, or dropped oldest at the bound (int32, wraps). */
  private consumed(): number {
    const h = this.header;
    return (this.lane.ring.drops + Atomics.load(h, H_TX_SENT) + Atomics.load(h, H_TX_SLOW)) | 0;
  }

  /** One of the engine's own marks, after everything queued so far (heard() is exact to it). */
  private pushInternalMark(): void {
    this.framesSinceMark = 0;
    if (this.marks.internalUnsettled >= MAX_INTERNAL_MARKS_UNSETTLED) {
      if (this.internalMarksSkipped++ === 0) {
        this.logger.warn(
          { unsettled: MAX_INTERNAL_MARKS_UNSETTLED },
          `the carrier has not echoed ptime's last ${MAX_INTERNAL_MARKS_UNSETTLED} marks (MAX_INTERNAL_MARKS_UNSETTLED): no more are sent until it does`,
        );
      }
      return;
    }
    this.queueMark(this.marks.addInternal(this.book.markQueued()));
  }

  /** Mark `id` goes into the lane behind the audio queued so far. */
  private queueMark(id: number): void {
    // Its message first: once the mark is in the ring the pacer may hand it on at once.
    this.transport.markQueued(id, this.marks.wireOf(id), this.gen);
    this.handleDrop(this.lane.ring.pushMark(id));
  }

  /** In the call's order: the open utterance ends, with a mark at its end when it has audio. */
  private closeUtterance(): void {
    const closed = this.book.close();
    if (closed?.had === 'audio') this.pushInternalMark();
    else if (closed?.had === 'empty') safeEmit(this.call, this.logger, 'utterancePlayed', { utterance: closed.id });
    this.lane.ring.markTalkEnd();
  }

  /**
   * Queue, in the call's order, the resampler's tail and then the framer's remainder padded to a
   * frame; `talkEnds`: the app's talk ends there (flush(), the drain), so running dry after it is
   * not an underrun.
   */
  private flushAudio(talkEnds = false): void {
    this.pcm.flushTail();
    this.order.run(() => {
      this.framer.flush();
      if (talkEnds) this.lane.ring.markTalkEnd();
      this.wakeIfIdle();
    }, 0);
  }

  private wakeIfIdle(): void {
    // WR was stored before this load of STATE; see PacerCore.park for the other half.
    if (this.lane.ring.pacerIdle()) this.ctx.wakePacer(this.lane.index);
  }

  /** Frames the application has handed over that have not been sent: in the ring, converting, or waiting behind a pool job. */
  private get unsentFrames(): number {
    return (
      this.lane.ring.depth() + this.pcm.pendingFrames + Math.ceil(this.order.waitingBytes / this.format.frameBytes)
    );
  }

  /** Unsent audio against highWaterMark; false arms 'drain'. */
  private belowHighWater(): boolean {
    if (this.unsentFrames < this.ctx.highWaterMark) return true;
    this.needDrain = true;
    return false;
  }

  private maybeDrain(): void {
    if (!this.needDrain || this.lifecycle === 'closed' || this.unsentFrames > this.ctx.lowWaterMark) return;
    this.needDrain = false;
    safeEmit(this.call, this.logger, 'drain');
  }

  /**
   * A real-time source (a relay) that delivered a backlog at once would keep that delay for the
   * rest of the call, since the pacer plays at real time: the oldest audio past maxQueuedMs goes.
   */
  private boundLatency(): void {
    for (;;) {
      const dropped = this.lane.ring.dropOldestAbove(this.maxQueuedFrames);
      if (dropped === DROPPED_NONE) return;
      if (dropped === DROPPED_FRAME) {
        this.recording?.botDropped(performance.now());
        this.latencyDrops++;
        this.latency.add(performance.now());
      } else this.handleDrop(dropped);
    }
  }

  /** The latency bound (see CallOps.setMaxQueuedMs). */
  setMaxQueuedMs(ms: number): void {
    if (!Number.isInteger(ms) || ms < 0 || ms > MAX_QUEUED_MS) {
      throw new PtimeError(
        ErrorCodes.INVALID_OPTION,
        `maxQueuedMs must be a whole number of ms from 0 (off) to ${MAX_QUEUED_MS} (got ${String(ms)})`,
      );
    }
    this.maxQueuedFrames = Math.ceil(ms / FRAME_MS);
    if (this.maxQueuedFrames > 0 && this.lifecycle !== 'closed') this.boundLatency();
  }

  private handleDrop(dropped: number): void {
    if (dropped === DROPPED_FRAME) {
      this.recording?.botDropped(performance.now());
      this.overflow.add(performance.now());
    } else if (dropped === DROPPED_MARK) {
      const id = this.lane.ring.droppedMarkId;
      this.book.markGone(this.marks.seqOf(id));
      this.settle(this.marks.dropped(id));
    }
  }

  private settle(results: MarkResult[]): void {
    for (const r of results) {
      this.ctx.markSettled?.(r.status);
      safeEmit(this.call, this.logger, 'mark', r);
    }
  }

  /** A peer stuck over maxBufferedBytes for slowPeerCloseMs is not coming back. */
  slowPeerStuck(message: string): void {
    this.ctx.count(ErrorCodes.SLOW_PEER, message, this);
    this.logger.warn({ dropped: this.stats().slowPeerDrops }, `closing call: ${message}`);
    this.close(1008, 'peer not reading');
  }

  /** The egress dropped media for this call's socket (it counts them in the lane). */
  noteSlowDrops(now: number, dropped: number): void {
    this.slowPeer.add(now, dropped);
  }
}
