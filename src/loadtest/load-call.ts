import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { ErrorCodes, PtimeError } from '../errors.js';
import type { CarrierSide } from './carrier-side.js';
import { payloadStamp, stampedPayloadB64 } from './frame-stamp.js';
import type { InboundDisorder } from './inbound-disorder.js';

/** Arrival times of one call's outbound frames, grown in place (no per-frame allocation). */
export class ArrivalLog {
  times = new Float64Array(1024);
  count = 0;
  /** Indices where a talk spurt starts: 0, and the first frame after each `clear`. */
  readonly spurtStarts: number[] = [0];

  push(t: number): void {
    if (this.count === this.times.length) {
      const next = new Float64Array(this.times.length * 2);
      next.set(this.times);
      this.times = next;
    }
    this.times[this.count++] = t;
  }

  view(): Float64Array {
    return this.times.subarray(0, this.count);
  }
}

/**
 * One simulated Twilio bidirectional stream. Media echoes are recognised by their prefix and only
 * time-stamped (parsing 50 JSON messages a second per call would make the generator the
 * bottleneck); everything else is parsed.
 */
export class LoadCall {
  readonly arrivals = new ArrivalLog();
  /**
   * When each inbound frame was due (its tick; frame k is chunk k + 1): in echo mode outbound frame
   * k is inbound frame k come back, unless frames were dropped or disordered (then `stamps` say).
   */
  readonly sends = new ArrivalLog();
  /** With numbered frames: the chunk each outbound frame echoes, in arrival order (-1: none read). */
  readonly stamps: number[] | null;
  readonly streamSid: string;
  readonly callSid: string;
  private chunk = 0;
  /** After stop nothing more is sent: the server would rightly reject it (NOT_STARTED). */
  private stopped = false;
  closed = false;
  closeCode: number | null = null;
  marks = 0;
  clears = 0;
  /** The socket closed before this side hung up (the server closed it, or it failed). */
  closedBeforeStop = false;

  constructor(
    readonly index: number,
    readonly ws: WebSocket,
    private readonly mode: string,
    private readonly side: CarrierSide,
    /** Number the inbound frames (a stampable side) and read the numbers back from the echo. */
    private readonly stamped = false,
    /** Send the inbound media out of order and duplicated, as this says. */
    readonly disorder: InboundDisorder | null = null,
  ) {
    if (stamped && !side.stampable)
      throw new PtimeError(ErrorCodes.INVALID_OPTION, 'numbered frames need a mu-law JSON carrier side (stampable)');
    this.stamps = stamped ? [] : null;
    const id = `${process.pid.toString(16)}${String(index).padStart(8, '0')}`.padStart(32, '0');
    this.streamSid = `MZ${id}`;
    this.callSid = `CA${id}`;
    ws.on('message', (data: Buffer, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code) => {
      if (!this.stopped) this.closedBeforeStop = true;
      this.closed = true;
      this.closeCode = code;
    });
    ws.on('error', () => undefined); // surfaced through the close code
  }

  static open(
    index: number,
    url: string,
    mode: string,
    side: CarrierSide,
    stamped = false,
    disorder: InboundDisorder | null = null,
  ): Promise<LoadCall> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once('open', () => resolve(new LoadCall(index, ws, mode, side, stamped, disorder)));
      ws.once('error', reject);
    });
  }

  start(): void {
    for (const m of this.side.opening(this.streamSid, this.callSid, this.mode)) this.ws.send(m);
  }

  /** The next inbound 20 ms frame, numbered like Twilio's (with disorder: what is due now). */
  sendMedia(): void {
    if (this.closed || this.stopped) return;
    this.chunk++;
    this.sends.push(performance.now());
    if (this.disorder === null) this.ws.send(this.mediaOf(this.chunk));
    else for (const chunk of this.disorder.next(this.chunk)) this.ws.send(this.mediaOf(chunk));
  }

  private mediaOf(chunk: number): string | Buffer {
    return this.stamped
      ? this.side.media(this.streamSid, chunk, stampedPayloadB64(chunk))
      : this.side.media(this.streamSid, chunk);
  }

  dtmf(digit: string): void {
    if (!this.closed && !this.stopped) this.ws.send(this.side.dtmf(this.streamSid, digit));
  }

  stop(): void {
    if (this.closed || this.stopped) return;
    for (const chunk of this.disorder?.drain() ?? []) this.ws.send(this.mediaOf(chunk));
    this.stopped = true;
    const stop = this.side.stop(this.streamSid, this.callSid);
    if (stop !== null) this.ws.send(stop);
    else this.ws.close(1000, 'hang-up'); // a carrier without a stop message hangs up by closing
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const t = performance.now();
    const prefix = this.side.mediaPrefix;
    if (
      prefix === null
        ? isBinary
        : !isBinary && data.length > prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0
    ) {
      // A batched message (Exotel) carries several frames, all here at once.
      for (let n = this.side.framesIn(data); n > 0; n--) this.arrivals.push(t);
      this.stamps?.push(payloadStamp(data));
      return;
    }
    const msg = JSON.parse(data.toString()) as Record<string, unknown>;
    if (this.side.isClear(msg)) {
      this.clears++;
      this.arrivals.spurtStarts.push(this.arrivals.count);
      return;
    }
    // The carrier echoes marks once played; the generator plays instantly.
    const echo = this.side.markEcho(msg, this.streamSid);
    if (echo !== null) {
      this.marks++;
      if (!this.stopped) this.ws.send(echo); // a stream that has stopped echoes nothing
    }
  }
}
