import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { Waiters } from './waiters.js';
import { MULAW_8K, connectedMessage, startMessage } from '../../src/loadtest/twilio-side.js';

export interface Outbound {
  event: string;
  streamSid?: string;
  media?: { payload: string };
  mark?: { name: string };
  /** performance.now() at receipt. */
  at: number;
}

let seq = 0;

/**
 * Plays Twilio's side of one bidirectional Media Stream against a real ptime server, over a real
 * WebSocket, and records everything ptime sends back.
 */
export class TwilioClient {
  readonly ws: WebSocket;
  readonly received: Outbound[] = [];
  readonly streamSid: string;
  readonly callSid: string;
  private chunk = 0;
  private readonly waiters = new Waiters(() => `got ${this.received.length} messages`);
  closeCode: number | null = null;

  private constructor(ws: WebSocket, id: number) {
    this.ws = ws;
    this.streamSid = `MZ${String(id).padStart(32, '0')}`;
    this.callSid = `CA${String(id).padStart(32, '0')}`;
    ws.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('ptime sent a binary frame');
      const msg = JSON.parse(data.toString()) as Outbound;
      msg.at = performance.now();
      this.received.push(msg);
      this.waiters.check();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.waiters.check();
    });
  }

  /** `id` names the stream (MZ000…id); by default the next of this thread's sequence. */
  static async connect(url: string, id = ++seq): Promise<TwilioClient> {
    const ws = new WebSocket(url);
    await once(ws, 'open');
    return new TwilioClient(ws, id);
  }

  get media(): Outbound[] {
    return this.received.filter((m) => m.event === 'media');
  }

  sendJson(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  start(
    customParameters: Record<string, string> = {},
    mediaFormat: { encoding: string; sampleRate: number; channels: number } = MULAW_8K,
  ): void {
    this.ws.send(connectedMessage());
    this.ws.send(startMessage(this.streamSid, this.callSid, customParameters, mediaFormat));
  }

  media160(frame: Uint8Array): void {
    this.chunk++;
    this.sendJson({
      event: 'media',
      sequenceNumber: String(this.chunk + 1),
      streamSid: this.streamSid,
      media: {
        track: 'inbound',
        chunk: String(this.chunk),
        timestamp: String(this.chunk * 20),
        payload: Buffer.from(frame).toString('base64'),
      },
    });
  }

  dtmf(digit: string): void {
    this.sendJson({
      event: 'dtmf',
      streamSid: this.streamSid,
      sequenceNumber: '9',
      dtmf: { track: 'inbound_track', digit },
    });
  }

  echoMark(name: string): void {
    this.sendJson({ event: 'mark', streamSid: this.streamSid, sequenceNumber: '9', mark: { name } });
  }

  stop(): void {
    this.sendJson({
      event: 'stop',
      streamSid: this.streamSid,
      sequenceNumber: '99',
      stop: { accountSid: 'AC0', callSid: this.callSid },
    });
  }

  /** Resolve when `pred(received)` holds; reject after `ms`. */
  waitFor(pred: (m: Outbound[]) => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    return this.waiters.wait(() => pred(this.received), ms, what);
  }

  async closed(): Promise<number> {
    if (this.closeCode !== null) return this.closeCode;
    const [code] = (await once(this.ws, 'close')) as [number];
    return code;
  }

  close(): void {
    this.ws.close();
  }
}

export function payloadBytes(m: Outbound): Buffer {
  return Buffer.from(m.media!.payload, 'base64');
}
