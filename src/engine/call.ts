import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { Logger } from 'pino';
import { ErrorCodes, PtimeError } from '../errors.js';
import { ThrottledCount } from '../log/throttled-count.js';
import { safeEmit } from '../log/safe-emit.js';
import type { LaneSink } from '../pacer/pacer-host.js';
import type { CarrierAdapter, StartInfo } from '../protocol/carrier-adapter.js';
import { FRAME_BYTES, H_LATE, H_UNDERRUNS } from '../ring/lane-layout.js';
import { DROPPED_FRAME, DROPPED_MARK } from '../ring/lane-ring.js';
import { Framer, type FrameSink } from './framer.js';
import type { Lane } from './lane-pool.js';
import { MarkBook, type MarkResult } from './mark-book.js';
import { OutboundOrder } from './outbound-order.js';
import { checkInboundRate, PcmReceiver, type InboundPcmRate } from './pcm-receiver.js';
import { type CodecRunner, PcmSender } from './pcm-sender.js';

/** Where a call's outbound messages go. Kept minimal so the socket may live on another thread. */
export interface CallTransport {
  send(data: Buffer | string): void;
  close(code: number, reason: string): void;
  /**
   * Bytes accepted by send() but not yet written to the network (ws's bufferedAmount). The call
   * relies on it: after send(data) returns with bufferedAmount 0, nothing holds `data` any more.
   */
  readonly bufferedAmount: number;
}

/** What a call needs from its engine. */
export interface CallContext {
  readonly adapter: CarrierAdapter;
  readonly logger: Logger;
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  readonly maxMarkNameBytes: number;
  readonly codec: CodecRunner;
  /** Above this many unsent bytes on a socket, the call's media frames are dropped. */
  readonly maxBufferedBytes: number;
  /** A socket over maxBufferedBytes for this long is closed (1008). */
  readonly slowPeerCloseMs: number;
  /** Lane `lane` needs the pacer now (audio on a parked lane, or a clear). */
  wakePacer(lane: number): void;
  /** Count a refusal against the engine's totals (by code), as for rejected inbound messages. */
  count(code: PtimeError['code'], message: string, call: Call): void;
  release(call: Call): void;
}

export interface InboundMedia {
  /** One 160-byte mu-law frame. */
  payload: Buffer;
  track: string;
  chunk: number;
  timestamp: number;
}

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
  /** Media frames not sent because the peer's socket stopped draining (over maxBufferedBytes). */
  slowPeerDrops: number;
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
}

export type { MarkResult } from './mark-book.js';

const OVERFLOW_LOG_MS = 2000;
const SLOW_PEER_LOG_MS = 2000;

/**
 * One call: the application-facing handle. `send()` frames audio into the call's lane; the pacer
 * worker hands each due frame back here (LaneSink) and this is the one place that sends the
 * call's outbound messages, so media, marks and clear leave in the order the application chose.
 */
export class Call extends EventEmitter<CallEvents> implements LaneSink, FrameSink {
  readonly streamSid: string;
  readonly callSid: string;
  readonly accountSid: string;
  readonly customParameters: Readonly<Record<string, string>>;
  readonly tracks: readonly string[];
  readonly logger: Logger;

  private readonly framer = new Framer(this);
  private readonly order = new OutboundOrder();
  private readonly pcm: PcmSender;
  private receiver: PcmReceiver | null = null;
  private readonly marks: MarkBook;
  private readonly overflow: ThrottledCount;
  private readonly baseline: { underruns: number; late: number; drops: number };
  private readonly clearWire: string;
  private gen: number;
  private closed = false;
  private ending = false;
  private slowPeerDrops = 0;
  private stuckSince = -1;
  private readonly slowPeer: ThrottledCount;
  private needDrain = false;
  private framesSent = 0;
  private staleDiscarded = 0;
  private rejectedCount = 0;
  private lastSendAt = 0;
  /** Figures frozen at release: the lane's counters belong to the next call after that. */
  private final: CallStats | null = null;
  /** Inter-frame intervals (µs) at the moment main sends; only kept when debug figures are on. */
  readonly intervals: hdr.Histogram | null;

  constructor(
    start: StartInfo,
    readonly lane: Lane,
    private readonly transport: CallTransport,
    private readonly ctx: CallContext,
  ) {
    super();
    this.streamSid = start.streamSid;
    this.callSid = start.callSid;
    this.accountSid = start.accountSid;
    this.customParameters = Object.freeze({ ...start.customParameters });
    this.tracks = Object.freeze([...start.tracks]);
    this.logger = ctx.logger.child({ streamSid: this.streamSid, callSid: this.callSid });
    this.gen = lane.ring.generation;
    this.clearWire = ctx.adapter.clearMessage(this.streamSid);
    this.pcm = new PcmSender(this.order, (mulaw) => this.writeNow(mulaw), ctx.codec, this.logger, () => this.maybeDrain());
    this.marks = new MarkBook(ctx.maxMarkNameBytes, (name) => ctx.adapter.markMessage(this.streamSid, name));
    this.overflow = new ThrottledCount(OVERFLOW_LOG_MS, (dropped) => {
      this.logger.warn({ dropped, bound: this.lane.ring.bound }, 'tx queue full, dropped oldest');
    });
    this.slowPeer = new ThrottledCount(SLOW_PEER_LOG_MS, (dropped) => {
      this.logger.warn({ dropped, maxBufferedBytes: ctx.maxBufferedBytes }, 'socket not draining, dropped media frames');
    });
    const ring = lane.ring;
    this.baseline = { underruns: ring.read(H_UNDERRUNS), late: ring.read(H_LATE), drops: ring.drops };
    this.intervals = this.logger.isLevelEnabled('debug')
      ? hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 })
      : null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether send(), sendPcm16(), flush() and mark() are accepted: open and not ending. */
  get accepting(): boolean {
    return !this.closed && !this.ending;
  }

  /** Slots (frames and marks) queued for the pacer. */
  get queueDepth(): number {
    return this.lane.ring.depth();
  }

  /**
   * Queue mu-law audio of any length; it is cut into 160-byte frames, the remainder carried over.
   * Returns false once the queue reaches highWaterMark: wait for 'drain' before sending more, as
   * with a stream. Beyond the queue bound the oldest audio is dropped (and counted), never the call.
   */
  send(audio: Uint8Array): boolean {
    this.assertOpen('send');
    if (!(audio instanceof Uint8Array)) {
      throw new PtimeError(ErrorCodes.INVALID_AUDIO, 'send() takes mu-law bytes as a Buffer or Uint8Array');
    }
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
   * anti-aliasing filter, encoded to mu-law and framed; consecutive chunks form one stream with
   * no click at the joins. Chunks shorter than `codecPoolMinMs` convert inline; longer ones on
   * the codec pool, and their audio still plays in the order of the send/sendPcm16/mark calls.
   * A chunk that is refused (unsupported rate, odd byte count, empty, NaN or a float outside
   * [-1, 1]) throws a PtimeError and queues nothing. Returns false at the high-water mark.
   */
  sendPcm16(audio: Int16Array | Uint8Array | Float32Array, sampleRate: number): boolean {
    this.assertOpen('sendPcm16');
    this.pcm.send(audio, sampleRate);
    return this.belowHighWater();
  }

  /** End of an utterance: the resampler's tail, then the carried remainder padded with mu-law silence (0xFF). */
  flush(): boolean {
    this.assertOpen('flush');
    this.endUtterance();
    return this.belowHighWater();
  }

  /**
   * Also deliver inbound audio as PCM16 at `sampleRate` (8000 or 16000, what STT engines take) in
   * 'pcm16' events, alongside the mu-law 'media' events. Off by default: decoding costs CPU that
   * a call not doing STT should not pay.
   */
  enableInboundPcm16(sampleRate: InboundPcmRate): void {
    this.assertOpen('enableInboundPcm16', true);
    this.receiver = new PcmReceiver(checkInboundRate(sampleRate));
  }

  disableInboundPcm16(): void {
    this.receiver = null;
  }

  /**
   * Queue a mark behind the audio sent so far (a carried remainder is flushed first, so the mark
   * follows all of it). Resolves when the carrier echoes it ('played'), or with 'cleared',
   * 'dropped' (fell off a full queue) or 'closed'; the same result is emitted as 'mark'.
   */
  mark(name: string): Promise<MarkResult> {
    this.assertOpen('mark');
    const { id, done } = this.marks.add(name);
    this.endUtterance();
    this.order.run(() => {
      this.handleDrop(this.lane.ring.pushMark(id));
      this.wakeIfIdle();
    }, 0);
    return done;
  }

  /**
   * Barge-in: drop everything queued here and at the carrier. Nothing queued before clear() is sent
   * after it, including frames the pacer already handed back; queued marks resolve 'cleared'.
   */
  clear(): void {
    this.assertOpen('clear', true);
    this.order.cancel();
    this.pcm.reset();
    this.framer.reset();
    this.lane.ring.clear();
    this.gen = this.lane.ring.generation;
    this.transport.send(this.clearWire);
    this.ctx.wakePacer(this.lane.index); // the pacer restarts this lane's schedule: the carrier's buffer is empty now
    this.settle(this.marks.clearQueued());
    this.marks.noteClearSent();
    if (this.needDrain) setImmediate(() => this.maybeDrain());
  }

  /** Hang up our side: close the socket (1000 by default) and release the lane. */
  close(code = 1000, reason = 'closed by application'): void {
    if (this.closed) return;
    this.transport.close(code, reason);
    this.release(code, reason);
  }

  stats(): CallStats {
    if (this.final) return { ...this.final, staleDiscarded: this.staleDiscarded, rejected: this.rejectedCount };
    const ring = this.lane.ring;
    return {
      framesSent: this.framesSent,
      queueDepth: ring.depth(),
      // The lane's counters are int32 and outlive calls: a difference is exact across a wrap.
      drops: (ring.drops - this.baseline.drops) | 0,
      underruns: (ring.read(H_UNDERRUNS) - this.baseline.underruns) | 0,
      lateTicks: (ring.read(H_LATE) - this.baseline.late) | 0,
      staleDiscarded: this.staleDiscarded,
      marksPending: this.marks.pending,
      codecPendingFrames: this.pcm.pendingFrames,
      slowPeerDrops: this.slowPeerDrops,
      rejected: this.rejectedCount,
    };
  }

  // --- engine side -------------------------------------------------------------------------

  pushFrame(src: Uint8Array, offset: number): void {
    this.handleDrop(this.lane.ring.pushFrame(src, offset));
  }

  /** An inbound media frame from the carrier. */
  deliverMedia(media: InboundMedia): void {
    safeEmit(this, this.logger, 'media', media);
    const receiver = this.receiver;
    if (receiver === null || this.closed) return;
    const samples = receiver.convert(media.payload, media.track);
    safeEmit(this, this.logger, 'pcm16', { samples, sampleRate: receiver.rate, track: media.track, chunk: media.chunk, timestamp: media.timestamp });
  }

  /** Returns true when the socket kept a reference to `wire` (see LaneSink). */
  onFrame(gen: number, wire: Buffer | string): boolean {
    if (gen !== this.gen || this.closed) {
      this.staleDiscarded++;
      return false;
    }
    const buffered = this.transport.bufferedAmount;
    if (buffered > this.ctx.maxBufferedBytes) {
      this.peerNotDraining();
      return false;
    }
    this.stuckSince = -1;
    // A socket that is behind queues what it is given: give it its own copy, so it does not pin
    // the pacer's whole batch (which goes back to the pacer for reuse).
    const copy = buffered > 0 && typeof wire !== 'string';
    this.transport.send(copy ? Buffer.from(wire) : wire);
    this.framesSent++;
    // The write can also go partial now (the kernel buffer filled): then the view is still held.
    const held = !copy && typeof wire !== 'string' && this.transport.bufferedAmount > 0;
    if (this.intervals) {
      const now = performance.now();
      if (this.lastSendAt > 0) this.intervals.recordValue(Math.round((now - this.lastSendAt) * 1000));
      this.lastSendAt = now;
    }
    if (this.needDrain) this.maybeDrain();
    return held;
  }

  onMark(gen: number, markId: number): void {
    if (gen !== this.gen || this.closed) return; // already reported as cleared
    const wire = this.marks.sent(markId);
    if (wire !== null) this.transport.send(wire);
  }

  /** The engine is shutting down: refuse new audio, let what is queued play out. */
  beginEnding(): void {
    if (this.closed || this.ending) return;
    // The resampler's last samples and a remainder under one frame end the utterance: play
    // them (padded) rather than cut them off.
    this.endUtterance();
    this.ending = true;
    safeEmit(this, this.logger, 'ending');
  }

  /** True once nothing of this call is left to send (queue and pool jobs empty; beginEnding flushed the rest). */
  get drained(): boolean {
    return this.closed || (this.lane.ring.depth() === 0 && !this.order.busy);
  }

  /** The carrier echoed a mark. */
  markEchoed(name: string): boolean {
    const result = this.marks.echoed(name);
    if (!result) return false;
    safeEmit(this, this.logger, 'mark', result);
    return true;
  }

  countRejection(): void {
    this.rejectedCount++;
  }

  /** Periodic housekeeping from the engine's figures timer. */
  tick(now: number): void {
    this.overflow.tick(now);
    this.slowPeer.tick(now);
  }

  /** The socket closed or the stream stopped: release the lane, settle every pending mark. */
  release(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.order.cancel();
    this.pcm.reset();
    this.overflow.tick(Number.POSITIVE_INFINITY);
    this.slowPeer.tick(Number.POSITIVE_INFINITY);
    this.settle(this.marks.closeAll());
    this.final = { ...this.stats(), queueDepth: 0 };
    this.ctx.release(this);
    safeEmit(this, this.logger, 'close', { code, reason });
  }

  /** Frame mu-law into the lane now (its turn in the call's order has come). */
  private writeNow(mulaw: Uint8Array): void {
    if (this.closed) return;
    this.framer.write(mulaw);
    this.wakeIfIdle();
  }

  /** Queue, in the call's order, the resampler's tail and then the framer's remainder padded to a frame. */
  private endUtterance(): void {
    this.pcm.flushTail();
    this.order.run(() => {
      this.framer.flush();
      this.wakeIfIdle();
    }, 0);
  }

  private wakeIfIdle(): void {
    // WR was stored before this load of STATE; see PacerCore.park for the other half.
    if (this.lane.ring.pacerIdle()) this.ctx.wakePacer(this.lane.index);
  }

  /** Frames the application has handed over that have not been sent: in the ring, converting, or waiting behind a pool job. */
  private get unsentFrames(): number {
    return this.lane.ring.depth() + this.pcm.pendingFrames + Math.ceil(this.order.waitingBytes / FRAME_BYTES);
  }

  /** Unsent audio against highWaterMark; false arms 'drain'. */
  private belowHighWater(): boolean {
    if (this.unsentFrames < this.ctx.highWaterMark) return true;
    this.needDrain = true;
    return false;
  }

  private maybeDrain(): void {
    if (!this.needDrain || this.closed || this.unsentFrames > this.ctx.lowWaterMark) return;
    this.needDrain = false;
    safeEmit(this, this.logger, 'drain');
  }

  private handleDrop(dropped: number): void {
    if (dropped === DROPPED_FRAME) this.overflow.add(performance.now());
    else if (dropped === DROPPED_MARK) this.settle(this.marks.dropped(this.lane.ring.droppedMarkId));
  }

  private settle(results: MarkResult[]): void {
    for (const r of results) safeEmit(this, this.logger, 'mark', r);
  }

  /**
   * Dropping here, after the pacer took the frame, keeps the schedule of every other call exact
   * and this socket's memory bounded; a peer stuck for slowPeerCloseMs is not coming back.
   */
  private peerNotDraining(): void {
    const now = performance.now();
    this.slowPeerDrops++;
    this.slowPeer.add(now);
    if (this.stuckSince < 0) this.stuckSince = now;
    else if (now - this.stuckSince >= this.ctx.slowPeerCloseMs) {
      const message = `socket over maxBufferedBytes (${this.ctx.maxBufferedBytes}) for slowPeerCloseMs (${this.ctx.slowPeerCloseMs})`;
      this.ctx.count(ErrorCodes.SLOW_PEER, message, this);
      this.logger.warn({ dropped: this.slowPeerDrops }, `closing call: ${message}`);
      this.close(1008, 'peer not reading');
    }
  }

  private assertOpen(what: string, whileEnding = false): void {
    if (this.closed) throw new PtimeError(ErrorCodes.CALL_CLOSED, `${what}() on a closed call (streamSid ${this.streamSid})`);
    if (this.ending && !whileEnding) throw new PtimeError(ErrorCodes.CALL_CLOSED, `${what}() on an ending call: the engine is shutting down (streamSid ${this.streamSid})`);
  }
}
