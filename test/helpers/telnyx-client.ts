import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { Waiters } from './waiters.js';

export interface TelnyxOutbound {
  event: string;
  media?: { payload: string };
  mark?: { name: string };
  [key: string]: unknown;
  at: number;
}

/**
 * Telnyx's side of one bidirectional media stream (RTP mode, PCMU 8 kHz), written from Telnyx's
 * Media Streaming documentation: snake_case, `stream_id`, counters as strings.
 */
export class TelnyxClient {
  readonly received: TelnyxOutbound[] = [];
  readonly badInbound: string[] = [];
  closeCode: number | null = null;
  private seq = 0;
  private chunk = 0;
  private readonly waiters = new Waiters(() => `got ${this.received.length} messages`);

  private constructor(
    readonly ws: WebSocket,
    readonly streamId: string,
  ) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.badInbound.push('binary frame');
      else this.received.push({ ...(JSON.parse(data.toString()) as TelnyxOutbound), at: performance.now() });
      this.waiters.check();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.waiters.check();
    });
  }

  static async connect(url: string, id: string, headers: Record<string, string> = {}): Promise<TelnyxClient> {
    const ws = new WebSocket(url, { headers });
    await once(ws, 'open');
    return new TelnyxClient(ws, id);
  }

  get media(): TelnyxOutbound[] {
    return this.received.filter((m) => m.event === 'media');
  }

  private send(msg: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ ...msg, sequence_number: String(++this.seq) }));
  }

  /** Media frame number `chunk`, sent now (Telnyx does not guarantee order); its sequence_number is the next one. */
  mediaAt(frame: Uint8Array, chunk: number): void {
    this.send({
      event: 'media',
      stream_id: this.streamId,
      media: {
        track: 'inbound',
        chunk: String(chunk),
        timestamp: String(chunk * 20),
        payload: Buffer.from(frame).toString('base64'),
      },
    });
  }

  start(customParameters: Record<string, string> = {}, encoding = 'PCMU'): void {
    this.ws.send(JSON.stringify({ event: 'connected', version: '1.0.0' }));
    this.send({
      event: 'start',
      stream_id: this.streamId,
      start: {
        user_id: 'u-1',
        call_control_id: `v3:${this.streamId}`,
        call_session_id: 's-1',
        from: '+15550100',
        to: '+15550199',
        custom_parameters: customParameters,
        media_format: { encoding, sample_rate: 8000, channels: 1 },
      },
    });
  }

  media160(frame: Uint8Array): void {
    this.chunk++;
    this.send({
      event: 'media',
      stream_id: this.streamId,
      media: {
        track: 'inbound',
        chunk: String(this.chunk),
        timestamp: String(this.chunk * 20),
        payload: Buffer.from(frame).toString('base64'),
      },
    });
  }

  dtmf(digit: string): void {
    this.send({ event: 'dtmf', stream_id: this.streamId, occurred_at: new Date().toISOString(), dtmf: { digit } });
  }

  echoMark(name: string): void {
    this.send({ event: 'mark', stream_id: this.streamId, mark: { name } });
  }

  stop(): void {
    this.send({
      event: 'stop',
      stream_id: this.streamId,
      stop: { user_id: 'u-1', call_control_id: `v3:${this.streamId}` },
    });
  }

  waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
    return this.waiters.wait(pred, ms, what);
  }
}
