import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { MULAW_SILENCE, FRAME_BYTES } from '../ring/lane-layout.js';
import { connectedMessage, startMessage } from './twilio-side.js';

const MEDIA_PREFIX = Buffer.from('{"event":"media"');
const SILENCE_B64 = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE).toString('base64');

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
  private readonly mediaHead: string;
  closed = false;
  closeCode: number | null = null;
  marks = 0;
  clears = 0;

  constructor(
    readonly index: number,
    readonly ws: WebSocket,
    private readonly mode: string,
  ) {
    const id = `${process.pid.toString(16)}${String(index).padStart(8, '0')}`.padStart(32, '0');
    this.streamSid = `MZ${id}`;
    this.callSid = `CA${id}`;
    this.mediaHead = `{"event":"media","streamSid":"${this.streamSid}","media":{"track":"inbound","chunk":"`;
    ws.on('message', (data: Buffer, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
    ws.on('error', () => undefined); // surfaced through the close code
  }

  static open(index: number, url: string, mode: string): Promise<LoadCall> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once('open', () => resolve(new LoadCall(index, ws, mode)));
      ws.once('error', reject);
    });
  }

  start(): void {
    this.ws.send(connectedMessage());
    this.ws.send(startMessage(this.streamSid, this.callSid, { mode: this.mode }));
  }

  /** One inbound 20 ms frame of silence, numbered like Twilio's. */
  sendMedia(): void {
    if (this.closed) return;
    this.chunk++;
    this.sends.push(performance.now());
    this.ws.send(`${this.mediaHead}${this.chunk}","timestamp":"${this.chunk * 20}","payload":"${SILENCE_B64}"},"sequenceNumber":"${this.chunk + 1}"}`);
  }

  dtmf(digit: string): void {
    if (!this.closed) this.send({ event: 'dtmf', streamSid: this.streamSid, sequenceNumber: '0', dtmf: { track: 'inbound_track', digit } });
  }

  stop(): void {
    if (this.closed) return;
    this.send({ event: 'stop', streamSid: this.streamSid, sequenceNumber: '0', stop: { accountSid: 'AC0', callSid: this.callSid } });
  }

  private send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const t = performance.now();
    if (!isBinary && data.length > MEDIA_PREFIX.length && data.compare(MEDIA_PREFIX, 0, MEDIA_PREFIX.length, 0, MEDIA_PREFIX.length) === 0) {
      this.arrivals.push(t);
      return;
    }
    const msg = JSON.parse(data.toString()) as { event?: string; mark?: { name?: string } };
    if (msg.event === 'clear') {
      this.clears++;
      this.arrivals.spurtStarts.push(this.arrivals.count);
    } else if (msg.event === 'mark') {
      this.marks++;
      // Twilio echoes marks once played; the generator plays instantly.
      this.send({ event: 'mark', streamSid: this.streamSid, sequenceNumber: '0', mark: { name: msg.mark?.name ?? '' } });
    }
  }
}
