import { once } from 'node:events';
import WebSocket from 'ws';
import { Waiters } from './waiters.js';

export interface PlivoOutbound {
  event: string;
  media?: { contentType: string; sampleRate: number; payload: string };
  streamId?: string;
  name?: string;
  [key: string]: unknown;
}

/**
 * Plivo's side of one bidirectional Audio Stream (audio/x-mulaw;rate=8000), written from Plivo's
 * documentation: camelCase, `streamId`, `extra_headers` as `k=v;k=v`, no `stop` (it closes).
 */
export class PlivoClient {
  readonly received: PlivoOutbound[] = [];
  private seq = 0;
  private chunk = 0;
  private readonly waiters = new Waiters(() => `got ${this.received.length} messages`);

  private constructor(
    readonly ws: WebSocket,
    readonly streamId: string,
  ) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as PlivoOutbound);
      this.waiters.check();
    });
  }

  static async connect(url: string, streamId: string, headers: Record<string, string> = {}): Promise<PlivoClient> {
    const ws = new WebSocket(url, { headers });
    await once(ws, 'open');
    return new PlivoClient(ws, streamId);
  }

  get media(): PlivoOutbound[] {
    return this.received.filter((m) => m.event === 'playAudio');
  }

  start(extraHeaders = ''): void {
    this.ws.send(
      JSON.stringify({
        event: 'start',
        sequenceNumber: ++this.seq,
        start: {
          callId: `call-${this.streamId}`,
          streamId: this.streamId,
          accountId: 'MA1',
          tracks: ['inbound'],
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 },
        },
        extra_headers: extraHeaders,
      }),
    );
  }

  media160(frame: Uint8Array): void {
    this.chunk++;
    this.ws.send(
      JSON.stringify({
        event: 'media',
        sequenceNumber: ++this.seq,
        streamId: this.streamId,
        media: {
          track: 'inbound',
          timestamp: String(this.chunk * 20),
          chunk: this.chunk,
          payload: Buffer.from(frame).toString('base64'),
        },
      }),
    );
  }

  dtmf(digit: string): void {
    this.ws.send(
      JSON.stringify({
        event: 'dtmf',
        sequenceNumber: ++this.seq,
        streamId: this.streamId,
        dtmf: { track: 'inbound', digit, timestamp: String(Date.now()) },
      }),
    );
  }

  playedStream(name: string): void {
    this.ws.send(JSON.stringify({ event: 'playedStream', sequenceNumber: ++this.seq, streamId: this.streamId, name }));
  }

  clearedAudio(): void {
    this.ws.send(JSON.stringify({ event: 'clearedAudio', sequenceNumber: ++this.seq, streamId: this.streamId }));
  }

  waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
    return this.waiters.wait(pred, ms, what);
  }
}
