import { once } from 'node:events';
import WebSocket from 'ws';
import { Waiters } from './waiters.js';

/** One message from ptime as a binary carrier sees it: audio (binary) or JSON control (text). */
export type BinaryOutbound = { kind: 'audio'; bytes: Buffer } | { kind: 'control'; msg: Record<string, unknown> };

/**
 * The carrier's side of a binary-audio stream (Vonage, Asterisk chan_websocket): raw audio frames
 * both ways as binary messages, JSON control as text. What each carrier sends is written by its
 * test from the carrier's documentation; this only keeps what ptime sent, in order, and what kind.
 */
export class BinaryPeer {
  readonly received: BinaryOutbound[] = [];
  /** Text messages ptime sent that were not JSON: none is allowed. */
  readonly notJson: string[] = [];
  private readonly waiters = new Waiters(
    () => `got ${this.audio.length} audio and ${this.control.length} control messages`,
  );

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.received.push({ kind: 'audio', bytes: Buffer.from(data) });
      else {
        try {
          this.received.push({ kind: 'control', msg: JSON.parse(data.toString()) as Record<string, unknown> });
        } catch {
          this.notJson.push(data.toString());
        }
      }
      this.waiters.check();
    });
    ws.on('close', () => this.waiters.check());
  }

  static async connect(url: string, headers: Record<string, string> = {}, protocols?: string[]): Promise<BinaryPeer> {
    const ws = new WebSocket(url, protocols, { headers });
    await once(ws, 'open');
    return new BinaryPeer(ws);
  }

  get audio(): Buffer[] {
    return this.received.flatMap((m) => (m.kind === 'audio' ? [m.bytes] : []));
  }

  get control(): Record<string, unknown>[] {
    return this.received.flatMap((m) => (m.kind === 'control' ? [m.msg] : []));
  }

  json(msg: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  frame(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  /** Index in `received` of the first control message matching `pred` (-1: none). */
  indexOf(pred: (msg: Record<string, unknown>) => boolean): number {
    return this.received.findIndex((m) => m.kind === 'control' && pred(m.msg));
  }

  waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
    return this.waiters.wait(pred, ms, what);
  }
}
