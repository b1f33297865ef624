import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { connectedMessage, startMessage } from '../loadtest/twilio-side.js';
import { RealtimeListener } from '../loadtest/realtime-listener.js';
import { rawText } from '../server/raw-data.js';
import { Waiters } from './waiters.js';

let seq = 0;

/**
 * Twilio's side of one Media Stream, for testing an app's call logic against a real ptime engine
 * (`import { TwilioPeer } from 'ptime/testing'`): it starts the stream, streams the caller's audio
 * at 50 frames a second on an absolute clock, sends DTMF and stop, and listens like a phone: it
 * plays what ptime sends at real time (RealtimeListener), echoes each mark when play-out reaches
 * it, and on a clear echoes the marks it still held (as Twilio does) and records how much of the
 * audio since the previous clear it had really played.
 */
export class TwilioPeer {
  readonly listener = new RealtimeListener();
  readonly streamSid = `MZ${String(++seq).padStart(32, '0')}`;
  readonly t0 = performance.now();
  /** Ms played of each stretch of audio when the clear that ended it arrived. */
  readonly playedAtClear: number[] = [];
  /** Marks echoed, by name, in order. */
  readonly echoed: string[] = [];
  frames = 0;
  /** Marks ptime sent (its own and the app's). */
  marksReceived = 0;
  /** Marks waiting for play-out to reach them, in arrival order (names may repeat). */
  private held: { name: string; timer: NodeJS.Timeout }[] = [];
  private readonly waiters = new Waiters(() => `got ${this.frames} frames, echoed ${this.echoed.length} marks`);

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.onMessage(JSON.parse(rawText(data)) as { event: string; mark?: { name: string } }));
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<TwilioPeer> {
    const ws = new WebSocket(url, { headers });
    await once(ws, 'open');
    return new TwilioPeer(ws);
  }

  /**
   * Send the caller's audio: 160-byte mu-law frames, one every 20 ms on an absolute clock (a late
   * timer catches up rather than drifting). Resolves when the last was sent or the socket closed.
   */
  async streamAudio(frames: readonly Uint8Array[]): Promise<void> {
    const t0 = performance.now();
    for (let k = 0; k < frames.length; k++) {
      const wait = t0 + k * 20 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (this.ws.readyState !== WebSocket.OPEN) return;
      this.ws.send(
        JSON.stringify({
          event: 'media',
          streamSid: this.streamSid,
          sequenceNumber: String(k + 2),
          media: {
            track: 'inbound',
            chunk: String(k + 1),
            timestamp: String(k * 20),
            payload: Buffer.from(frames[k]!).toString('base64'),
          },
        }),
      );
    }
  }

  /** Twilio's stop: the call is over (ptime then closes the socket with 1000 "stop"). */
  stop(): void {
    this.ws.send(
      JSON.stringify({
        event: 'stop',
        streamSid: this.streamSid,
        sequenceNumber: '99',
        stop: { accountSid: 'AC0', callSid: `CA${this.streamSid.slice(2)}` },
      }),
    );
  }

  start(customParameters: Record<string, string> = {}): void {
    this.ws.send(connectedMessage());
    this.ws.send(startMessage(this.streamSid, `CA${this.streamSid.slice(2)}`, customParameters));
  }

  /** Ms of the current stretch (since the last clear) played by now. */
  playedNow(): number {
    return this.listener.playedMs(performance.now());
  }

  dtmf(digit: string): void {
    this.ws.send(
      JSON.stringify({
        event: 'dtmf',
        streamSid: this.streamSid,
        sequenceNumber: '9',
        dtmf: { track: 'inbound_track', digit },
      }),
    );
  }

  waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
    return this.waiters.wait(pred, ms, what);
  }

  private onMessage(msg: { event: string; mark?: { name: string } }): void {
    const now = performance.now();
    if (msg.event === 'media') {
      this.frames++;
      this.listener.frame(now);
    } else if (msg.event === 'mark') {
      this.marksReceived++;
      const name = msg.mark!.name;
      const entry = {
        name,
        timer: setTimeout(
          () => {
            this.held = this.held.filter((h) => h !== entry);
            this.echo(name);
          },
          Math.max(0, this.listener.markReachedAt(now) - now),
        ),
      };
      this.held.push(entry);
    } else if (msg.event === 'clear') {
      this.playedAtClear.push(this.listener.clear(now));
      for (const h of this.held) {
        clearTimeout(h.timer);
        this.echo(h.name);
      }
      this.held = [];
    }
    this.waiters.check();
  }

  private echo(name: string): void {
    this.echoed.push(name);
    if (this.ws.readyState === WebSocket.OPEN)
      this.ws.send(JSON.stringify({ event: 'mark', streamSid: this.streamSid, sequenceNumber: '9', mark: { name } }));
    this.waiters.check();
  }
}
