import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { connectedMessage, startMessage } from '../../src/loadtest/twilio-side.js';

const ENDINGS = [
  'stop-then-close',
  'close-no-stop',
  'terminate-mid-send',
  'close-before-start',
  'start-then-terminate',
  'dtmf-then-close',
] as const;
type Ending = (typeof ENDINGS)[number];

const SILENCE_B64 = Buffer.alloc(160, 0xff).toString('base64');
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

export interface ChurnFigures {
  /** Calls whose socket opened and then closed, by how they were ended. */
  churned: number;
  byEnding: Record<string, number>;
  /** Upgrades that failed (503 past max calls, refused connections): none are expected. */
  connectFailures: number;
  /** Churned calls still open (in flight when the figures were taken). */
  inFlight: number;
}

/**
 * Short calls opened at a steady rate and ended every way a carrier or a crashing client can:
 * with and without `stop`, abruptly mid-send, before `start`, and with a mark left pending.
 * Each streams numbered silence at 50 frames a second for 0.1–3 s, in echo or tone mode.
 */
export class ChurnDriver {
  private timer: NodeJS.Timeout | null = null;
  private n = 0;
  private churned = 0;
  private connectFailures = 0;
  private readonly byEnding: Record<string, number> = {};
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly url: string,
    private readonly perSec: number,
  ) {}

  start(): void {
    if (this.perSec <= 0) return;
    this.timer = setInterval(() => {
      const p = this.one(this.n++).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }, 1000 / this.perSec);
  }

  /** Stop opening calls and wait for those in flight to end. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
  }

  figures(): ChurnFigures {
    return {
      churned: this.churned,
      byEnding: { ...this.byEnding },
      connectFailures: this.connectFailures,
      inFlight: this.inFlight.size,
    };
  }

  private async one(i: number): Promise<void> {
    const ending = pick(ENDINGS);
    let ws: WebSocket;
    try {
      ws = await new Promise<WebSocket>((resolve, reject) => {
        const w = new WebSocket(this.url, { perMessageDeflate: false });
        w.once('open', () => resolve(w));
        w.once('error', reject);
      });
    } catch {
      this.connectFailures++;
      return;
    }
    ws.on('error', () => undefined); // an abrupt end is the point here
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await this.play(ws, i, ending);
    await closed;
    this.churned++;
    this.byEnding[ending] = (this.byEnding[ending] ?? 0) + 1;
  }

  private async play(ws: WebSocket, i: number, ending: Ending): Promise<void> {
    const streamSid = `MZchurn${String(i).padStart(25, '0')}`;
    if (ending === 'close-before-start') {
      if (Math.random() < 0.5) ws.send(connectedMessage());
      if (Math.random() < 0.5) ws.close(1000);
      else ws.terminate();
      return;
    }
    ws.send(connectedMessage());
    ws.send(startMessage(streamSid, `CAchurn${String(i).padStart(25, '0')}`, { mode: pick(['echo', 'tone']) }));
    if (ending === 'start-then-terminate') {
      ws.terminate();
      return;
    }
    const head = `{"event":"media","streamSid":"${streamSid}","media":{"track":"inbound","chunk":"`;
    let k = 0;
    const media = (): void => {
      if (ws.readyState === WebSocket.OPEN)
        ws.send(`${head}${++k}","timestamp":"${k * 20}","payload":"${SILENCE_B64}"}}`);
    };
    const sender = setInterval(media, 20);
    await sleep(100 + Math.random() * 2900);
    clearInterval(sender);
    const send = (msg: object): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ streamSid, sequenceNumber: '0', ...msg }));
    };
    switch (ending) {
      case 'stop-then-close':
        send({ event: 'stop', stop: { accountSid: 'AC0', callSid: 'CA0' } });
        ws.close(1000);
        break;
      case 'close-no-stop':
        ws.close(1000);
        break;
      case 'terminate-mid-send':
        for (let j = 0; j < 20; j++) media(); // still in the socket's buffer when it dies
        ws.terminate();
        break;
      case 'dtmf-then-close':
        send({ event: 'dtmf', dtmf: { track: 'inbound_track', digit: '5' } }); // demo app: clear() + a mark left pending
        ws.close(1000);
        break;
    }
  }
}
