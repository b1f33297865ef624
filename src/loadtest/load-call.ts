import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { CarrierSide } from './carrier-side.js';

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
  /** When each inbound frame was sent: in echo mode outbound frame k is inbound frame k come back. */
  readonly sends = new ArrivalLog();
  readonly streamSid: string;
  readonly callSid: string;
  private chunk = 0;
  /** After stop nothing more is sent: the server would rightly reject it (NOT_STARTED). */
  private stopped = false;
  closed = false;
  closeCode: number | null = null;
  marks = 0;
  clears = 0;

  constructor(
    readonly index: number,
    readonly ws: WebSocket,
    private readonly mode: string,
    private readonly side: CarrierSide,
  ) {
    const id = `${process.pid.toString(16)}${String(index).padStart(8, '0')}`.padStart(32, '0');
    this.streamSid = `MZ${id}`;
    this.callSid = `CA${id}`;
    ws.on('message', (data: Buffer, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
    ws.on('error', () => undefined); // surfaced through the close code
  }

  static open(index: number, url: string, mode: string, side: CarrierSide): Promise<LoadCall> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once('open', () => resolve(new LoadCall(index, ws, mode, side)));
      ws.once('error', reject);
    });
  }

  start(): void {
    for (const m of this.side.opening(this.streamSid, this.callSid, this.mode)) this.ws.send(m);
  }

  /** One inbound 20 ms frame of silence, numbered like Twilio's. */
  sendMedia(): void {
    if (this.closed || this.stopped) return;
    this.chunk++;
    this.sends.push(performance.now());
    this.ws.send(this.side.media(this.streamSid, this.chunk));
  }

  dtmf(digit: string): void {
    if (!this.closed && !this.stopped) this.ws.send(this.side.dtmf(this.streamSid, digit));
  }

  stop(): void {
    if (this.closed || this.stopped) return;
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
