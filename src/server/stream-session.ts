import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { ErrorCodes, ProtocolRejection, PtimeError } from '../errors.js';
import type { AudioFormat } from '../codec/audio-format.js';
import type { LaneSink } from '../handback/handback-consumer.js';
import type { CarrierAdapter, InboundEvent, StartInfo } from '../protocol/carrier-adapter.js';
import { HEADER_WORDS } from '../ring/lane-layout.js';
import type { CallLink } from './call-link.js';
import type { CallTransport } from './call-transport.js';
import { InboundRateLimit } from './inbound-rate-limit.js';
import { LaneEgress, type EgressEvents, type EgressLimits } from './lane-egress.js';
import { asBuffer, rawText } from './raw-data.js';
import { ReorderWindow } from './reorder-window.js';

/** Per-stream input and output limits (EngineOptions). */
export interface SessionLimits extends EgressLimits {
  readonly maxMarkNameBytes: number;
  readonly maxCustomParametersBytes: number;
  readonly inboundPerSec: number;
  readonly inboundBurst: number;
  readonly inboundFloodCloseSec: number;
  readonly startTimeoutMs: number;
}

/** What a session needs from its engine. */
export interface SessionHost {
  readonly limits: SessionLimits;
  /** Only for a bug of ours (a parser that threw); everything else is a counted rejection. */
  readonly logger: { error(obj: object, msg: string): void };
  /** A call for this stream, or why not: no free lane (TOO_MANY_CALLS), shutting down (SHUTTING_DOWN) or no pacer (PACER_FAILED). */
  startCall(start: StartInfo, session: StreamSession): CallLink | PtimeError;
  reject(err: PtimeError, session: StreamSession): void;
  ended(session: StreamSession): void;
  /** Lane `lane`'s handed-back records (of owner `owner`) go to `sink` now: this thread's hand-back consumer. */
  bindLane(lane: number, owner: number, sink: LaneSink): void;
  unbindLane(lane: number, sink: LaneSink): void;
}

const TEXT = { binary: false } as const;
/** A peer that does not answer our close frame within this is cut off (ws alone waits 30 s). */
const CLOSE_GRACE_MS = 2000;

/**
 * Where a stream is in its life:
 *
 *   awaiting-start --start--> streaming --stop--> stopped
 *         |                       |                  |
 *         +---- ptime closes -----+                  +---- ptime closes ----> closing-after-stop
 *                    |                                                               ^
 *                    v                                                               |
 *                 closing ----------------------- stop -----------------------------+
 *
 * - 'awaiting-start': upgraded, no call yet; the start timeout runs.
 * - 'streaming': the call takes the carrier's events.
 * - 'stopped': the carrier sent stop; the stream no longer holds a call slot.
 * - 'closing': ptime closed the socket (close(), or a keepalive that found the peer gone); what the
 *   peer sends from now on is not read.
 * - 'closing-after-stop': closing, after the carrier's stop: still no call slot.
 *
 * A stop reaches a closing stream only when it was read already: the app closed the call while
 * the messages before the stop were being delivered. The socket's close event ends the session in
 * any state.
 */
type SessionState = 'awaiting-start' | 'streaming' | 'stopped' | 'closing' | 'closing-after-stop';

/**
 * One carrier WebSocket: feeds its messages through the adapter, enforces the stream's state
 * machine (start once, then media/dtmf/mark for that streamSid, then stop), and routes events to
 * the call. Bad messages are rejected (counted and logged by the host) and the stream carries on.
 */
export class StreamSession implements CallTransport {
  call: CallLink | null = null;
  /** Where the call's handed-back frames and marks are written to this socket (once it has a lane). */
  private egress: { lane: number; sink: LaneEgress } | null = null;
  /** See SessionState. Once closing, what the peer sent before it saw our close is not its fault, and not read. */
  private state: SessionState = 'awaiting-start';
  /** The call wants inbound media (CallTransport.wantMedia); a stream starts wanting it. */
  private mediaWanted = true;
  private readonly rate: InboundRateLimit;
  private killTimer: NodeJS.Timeout | null = null;
  private startTimer: NodeJS.Timeout | null;
  /** Media back in sequence order, for a carrier that does not keep it (null: delivered as read). */
  private readonly reorder: ReorderWindow<Extract<InboundEvent, { event: 'media' }>> | null;
  /** Heard from the peer (a message or a pong) since the last keepalive ping. */
  private heard = true;
  /** The stream's wire audio, from its start (null before). */
  private format: AudioFormat | null = null;

  constructor(
    readonly ws: WebSocket,
    /** The upgraded connection `ws` runs on (pre-built frames are written to it directly). */
    private readonly socket: Duplex,
    private readonly host: SessionHost,
    /** The carrier dialect of the route this socket came in on. */
    private readonly adapter: CarrierAdapter,
  ) {
    const l = host.limits;
    this.reorder = adapter.reorderWindow ? new ReorderWindow(adapter.reorderWindow) : null;
    this.rate = new InboundRateLimit(l.inboundPerSec, l.inboundBurst, l.inboundFloodCloseSec, performance.now());
    ws.on('message', (data, isBinary) => {
      this.heard = true;
      this.onMessage(data, isBinary);
    });
    ws.on('pong', () => (this.heard = true));
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.host.reject(
          new ProtocolRejection(ErrorCodes.MESSAGE_TOO_BIG, `message exceeds maxPayload: ${err.message}`),
          this,
        );
      } else {
        this.host.reject(new ProtocolRejection(ErrorCodes.BAD_MESSAGE, `websocket error: ${err.message}`), this);
      }
    });
    this.startTimer = setTimeout(() => this.noStart(), l.startTimeoutMs);
    ws.on('close', (code, reason) => {
      if (this.killTimer) clearTimeout(this.killTimer);
      if (this.startTimer) clearTimeout(this.startTimer);
      this.call?.socketClosed(code, reason.toString() || 'socket closed');
      if (this.egress) this.host.unbindLane(this.egress.lane, this.egress.sink);
      this.host.ended(this);
    });
  }

  /**
   * A whole frame the pacer built goes straight to the socket, one write per message: `ws` would
   * frame it again and write header and message as two chunks. Only while the WebSocket is open:
   * nothing may follow a close frame. `ws` itself writes each of its frames in one go too, so the
   * two never interleave within a frame.
   */
  writeFrame(frame: Buffer): void {
    if (this.ws.readyState === this.ws.OPEN) this.socket.write(frame);
  }

  sendText(data: string): void {
    this.ws.send(data, TEXT);
  }

  bindLane(lane: number, sab: SharedArrayBuffer, owner: number, gen: number): void {
    // The call's events go to whatever link the session holds then: the call is linked right after.
    const events = egressEventsOf(() => this.call);
    const sink = new LaneEgress(this, new Int32Array(sab, 0, HEADER_WORDS), gen, this.host.limits, events);
    this.egress = { lane, sink };
    this.host.bindLane(lane, owner, sink);
  }

  markQueued(id: number, wire: string, gen: number): void {
    this.egress?.sink.markQueued(id, wire, gen);
  }

  clear(wire: string, gen: number): void {
    this.egress?.sink.clear(gen);
    this.ws.send(wire, TEXT);
  }

  wantMedia(wanted: boolean): void {
    this.mediaWanted = wanted;
  }

  /** Counts against maxCalls: from the upgrade until the stream stops or its call ends. */
  get holdsSlot(): boolean {
    return this.state !== 'stopped' && this.state !== 'closing-after-stop' && !(this.call?.isClosed ?? false);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get writing(): boolean {
    // A closed ws still counts what was sent after the close as buffered, but keeps none of it.
    return this.ws.readyState !== this.ws.CLOSED && this.ws.bufferedAmount > 0;
  }

  close(code: number, reason: string): void {
    this.startClosing();
    this.ws.close(code, reason);
    // A stuck peer never reads our close frame; do not hold its socket and buffers for 30 s.
    this.killTimer ??= setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  /**
   * One keepalive round (the engine calls it every keepaliveMs): a peer silent since the last
   * round, pong included, is gone; terminate rather than close, as it would never answer a close.
   */
  keepalive(keepaliveMs: number): void {
    if (this.isClosing) return;
    if (!this.heard) {
      this.host.reject(
        new ProtocolRejection(
          ErrorCodes.PEER_GONE,
          `no message or pong for keepaliveMs (${keepaliveMs} ms) after a ping: socket terminated`,
        ),
        this,
      );
      this.startClosing();
      this.ws.terminate();
      return;
    }
    this.heard = false;
    this.ws.ping();
  }

  private get isClosing(): boolean {
    return this.state === 'closing' || this.state === 'closing-after-stop';
  }

  /** ptime closes the socket: from here on nothing the peer sends is read. */
  private startClosing(): void {
    this.state = this.state === 'stopped' || this.state === 'closing-after-stop' ? 'closing-after-stop' : 'closing';
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.isClosing) return;
    const verdict = this.rate.admit(performance.now());
    if (verdict === 'close') {
      this.rateRejection(`for ${this.host.limits.inboundFloodCloseSec} s: stream closed`);
      this.close(1008, 'inbound rate far above real time');
      return;
    }
    if (verdict === 'drop') {
      // Over the rate, everything is dropped but a mark echo or a stop: dropping those would
      // leave a mark unsettled or a finished call holding its lane.
      const msg = isBinary ? null : this.tryParse(data);
      if (msg !== null && (msg.event === 'mark' || msg.event === 'stop' || msg.event === 'flow')) this.route(msg);
      else this.rateRejection(': message dropped');
      return;
    }
    let msg: InboundEvent;
    try {
      msg = isBinary
        ? this.adapter.parseBinary(asBuffer(data), this.format)
        : this.adapter.parse(rawText(data), this.format);
    } catch (err) {
      if (err instanceof PtimeError && err.code === ErrorCodes.MEDIA_FORMAT && !this.call) {
        this.host.reject(err, this);
        this.close(1003, 'unsupported media format');
        return;
      }
      if (!(err instanceof PtimeError)) {
        // A bug of ours, not bad input: still only this message is lost, but say so loudly.
        this.host.logger.error({ err }, 'inbound message parser threw; message rejected');
        this.host.reject(
          new ProtocolRejection(
            ErrorCodes.BAD_MESSAGE,
            `parser failed: ${String((err as Error)?.message ?? err).slice(0, 200)}`,
          ),
          this,
        );
        return;
      }
      this.host.reject(err, this);
      return;
    }
    this.route(msg);
  }

  private noStart(): void {
    this.startTimer = null;
    if (this.state !== 'awaiting-start') return;
    const ms = this.host.limits.startTimeoutMs;
    this.host.reject(
      new ProtocolRejection(
        ErrorCodes.START_TIMEOUT,
        `no start within startTimeoutMs (${ms} ms) of the upgrade: stream closed`,
      ),
      this,
    );
    this.close(1008, 'no start');
  }

  private tryParse(data: RawData): InboundEvent | null {
    try {
      return this.adapter.parse(rawText(data), this.format);
    } catch {
      return null; // counted as over the rate by the caller
    }
  }

  private rateRejection(what: string): void {
    const l = this.host.limits;
    this.host.reject(
      new ProtocolRejection(
        ErrorCodes.INBOUND_RATE,
        `inbound rate over ${l.inboundPerSec} messages/s (burst ${l.inboundBurst})${what}`,
      ),
      this,
    );
  }

  private route(msg: InboundEvent): void {
    const reorder = this.reorder;
    if (reorder && this.call) {
      if (msg.event === 'media' && msg.seq !== undefined) {
        const late = reorder.late;
        reorder.push(msg.seq, msg, (m) => this.dispatch(m));
        if (reorder.late !== late) {
          this.host.reject(
            new ProtocolRejection(
              ErrorCodes.INBOUND_ORDER,
              `media sequence_number ${msg.seq} arrived after later frames were delivered: dropped`,
            ),
            this,
          );
        }
        return;
      }
      // Anything else comes after the media before it: deliver what is held first. Except a mark
      // echo: it reports our outbound play-out and has no place in the inbound audio, and flushing
      // for it would drop a late frame overtaken by the frames the flush delivers.
      if (msg.event !== 'mark') reorder.flush((m) => this.dispatch(m));
    }
    this.dispatch(msg);
  }

  private dispatch(msg: InboundEvent): void {
    if (msg.event === 'connected' || msg.event === 'ack') return;
    if (msg.event === 'start') {
      // A stop is only read on a started stream, so a call is there in every state after a start.
      if (this.call) {
        this.host.reject(new ProtocolRejection(ErrorCodes.DUPLICATE_START, 'second start on one stream'), this);
        return;
      }
      const paramBytes = Buffer.byteLength(JSON.stringify(msg.start.customParameters));
      if (paramBytes > this.host.limits.maxCustomParametersBytes) {
        this.host.reject(
          new ProtocolRejection(
            ErrorCodes.CUSTOM_PARAMETERS,
            `start.customParameters is ${paramBytes} bytes as JSON; the limit (maxCustomParametersBytes) is ${this.host.limits.maxCustomParametersBytes}`,
          ),
          this,
        );
        this.close(1008, 'customParameters too large');
        return;
      }
      const call = this.host.startCall(msg.start, this);
      if (call instanceof PtimeError) {
        this.host.reject(call, this);
        if (call.code === ErrorCodes.TOO_MANY_CALLS) this.close(1013, 'too many calls');
        else if (call.code === ErrorCodes.PACER_FAILED) this.close(1011, 'pacer failed');
        else this.close(1001, 'server shutting down');
        return;
      }
      this.call = call;
      // The app may have closed the call from its 'call' handler, inside startCall: then it stays closing.
      if (this.state === 'awaiting-start') this.state = 'streaming';
      this.format = msg.start.format;
      if (this.startTimer) clearTimeout(this.startTimer);
      this.startTimer = null;
      return;
    }
    const call = this.call;
    if (!call || call.isClosed) {
      this.host.reject(new ProtocolRejection(ErrorCodes.NOT_STARTED, `${msg.event} before start or after stop`), this);
      return;
    }
    if (msg.streamSid !== '' && msg.streamSid !== call.streamSid) {
      this.host.reject(
        new ProtocolRejection(ErrorCodes.STREAM_SID, `streamSid ${msg.streamSid.slice(0, 64)} is not this stream's`),
        this,
      );
      return;
    }
    switch (msg.event) {
      case 'media': {
        if (!this.mediaWanted) return; // read and checked, but nobody listens (with io: 'worker', nothing crosses)
        const frame = this.format!.frameBytes;
        if (msg.payload.length === frame) {
          call.deliverMedia({ payload: msg.payload, track: msg.track, chunk: msg.chunk, timestamp: msg.timestamp });
          return;
        }
        // A carrier that batches inbound audio (Exotel): the call still sees one 20 ms frame per event.
        for (let i = 0; i * frame < msg.payload.length; i++) {
          call.deliverMedia({
            payload: msg.payload.subarray(i * frame, (i + 1) * frame),
            track: msg.track,
            chunk: msg.chunk,
            timestamp: msg.timestamp + 20 * i,
          });
        }
        return;
      }
      case 'flow':
        call.flow(msg.paused);
        return;
      case 'dtmf':
        call.dtmf(msg.digit, msg.track);
        return;
      case 'mark':
        if (Buffer.byteLength(msg.name) > this.host.limits.maxMarkNameBytes) {
          this.host.reject(
            new ProtocolRejection(
              ErrorCodes.MARK_NAME,
              `echoed mark name is longer than maxMarkNameBytes (${this.host.limits.maxMarkNameBytes}): not one we sent`,
            ),
            this,
          );
        } else {
          call.markEchoed(msg.name);
        }
        return;
      case 'stop':
        this.state = this.isClosing ? 'closing-after-stop' : 'stopped';
        call.stopped();
        return;
    }
  }
}

/** The egress's events, forwarded to the call the session links (none yet: nothing goes out). */
function egressEventsOf(callOf: () => CallLink | null): EgressEvents {
  return {
    get isClosed() {
      return callOf()?.isClosed ?? true;
    },
    markSent: (id) => callOf()?.markSent(id),
    slowDrop: (now, dropped) => callOf()?.slowDrop(now, dropped),
    stuck: (message) => callOf()?.stuck(message),
  };
}
