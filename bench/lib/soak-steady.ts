import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { connectedMessage, startMessage } from '../../src/loadtest/twilio-side.js';

const FRAME = 160;
const MEDIA_PREFIX = Buffer.from('{"event":"media"');
const MARK_PREFIX = Buffer.from('{"event":"mark"');
const PAYLOAD_KEY = Buffer.from('"payload":"');

/** A frame numbered in its first 4 bytes (LE); the rest is mu-law silence. */
function numberedFrameB64(seq: number): string {
  const frame = Buffer.alloc(FRAME, 0xff);
  frame.writeUInt32LE(seq >>> 0, 0);
  return frame.toString('base64');
}

/**
 * The number in an echoed media message, read from the first 8 base64 characters of its payload
 * (6 bytes), so 10,000 echoes a second cost no JSON parse. -1 when it is not a media message.
 */
export function echoedSeq(data: Buffer): number {
  if (
    data.length <= MEDIA_PREFIX.length ||
    data.compare(MEDIA_PREFIX, 0, MEDIA_PREFIX.length, 0, MEDIA_PREFIX.length) !== 0
  )
    return -1;
  const at = data.indexOf(PAYLOAD_KEY);
  if (at < 0) return -1;
  const start = at + PAYLOAD_KEY.length;
  return Buffer.from(data.toString('latin1', start, start + 8), 'base64').readUInt32LE(0);
}

/** One long-lived echo call: numbered frames out, and a check that they come back complete and in order. */
class SteadyCall {
  sent = 0;
  received = 0;
  marksEchoed = 0;
  /** Echoes whose number is not the one after the previous echo's: a gap or a reorder. */
  sequenceBreaks = 0;
  private next = 0;
  closeCode: number | null = null;
  private readonly head: string;

  constructor(
    readonly ws: WebSocket,
    readonly streamSid: string,
  ) {
    this.head = `{"event":"media","streamSid":"${streamSid}","media":{"track":"inbound","chunk":"`;
    ws.on('message', (data: Buffer) => {
      const seq = echoedSeq(data);
      if (seq < 0) {
        // Twilio echoes each mark once the audio before it has played; so does this carrier (at
        // once), or ptime's own marks would stay unsettled for the whole hour.
        if (data.compare(MARK_PREFIX, 0, MARK_PREFIX.length, 0, MARK_PREFIX.length) === 0) this.echoMark(data);
        return;
      }
      this.received++;
      if (seq !== this.next) this.sequenceBreaks++;
      this.next = seq + 1;
    });
    ws.on('close', (code) => (this.closeCode = code));
    ws.on('error', () => undefined); // surfaced through the close code
  }

  private echoMark(data: Buffer): void {
    const name = (JSON.parse(data.toString()) as { mark?: { name?: string } }).mark?.name;
    if (typeof name !== 'string' || this.closeCode !== null) return;
    this.marksEchoed++;
    this.ws.send(
      JSON.stringify({
        event: 'mark',
        sequenceNumber: String(this.sent + 2),
        streamSid: this.streamSid,
        mark: { name },
      }),
    );
  }

  sendNext(): void {
    if (this.closeCode !== null) return;
    const k = this.sent++;
    this.ws.send(
      `${this.head}${k + 1}","timestamp":"${k * 20}","payload":"${numberedFrameB64(k)}"},"sequenceNumber":"${k + 2}"}`,
    );
  }
}

export interface SteadyFigures {
  calls: number;
  framesSent: number;
  framesEchoed: number;
  /** Frames sent and never echoed back, summed over calls (read after the echo tail has drained). */
  framesLost: number;
  sequenceBreaks: number;
  /** Marks (the engine's own) echoed back, as Twilio does. */
  marksEchoed: number;
  /** Steady calls the server closed before the end (they should all last the whole run). */
  closedEarly: number;
}

/**
 * `count` echo calls streaming 50 frames a second each on one absolute 20 ms clock: a late tick
 * sends the frames it owes, so the server sees real time on average, as from a real carrier.
 */
export class SteadyCalls {
  private readonly calls: SteadyCall[] = [];
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;
  private t0 = 0;

  static async open(url: string, count: number): Promise<SteadyCalls> {
    const s = new SteadyCalls();
    for (let i = 0; i < count; i++) {
      const streamSid = `MZsteady${String(i).padStart(24, '0')}`;
      const ws = await new Promise<WebSocket>((resolve, reject) => {
        const w = new WebSocket(url, { perMessageDeflate: false });
        w.once('open', () => resolve(w));
        w.once('error', reject);
      });
      ws.send(connectedMessage());
      ws.send(startMessage(streamSid, `CAsteady${String(i).padStart(24, '0')}`, { mode: 'echo' }));
      s.calls.push(new SteadyCall(ws, streamSid));
    }
    return s;
  }

  startStreaming(): void {
    this.t0 = performance.now();
    const tick = (): void => {
      const due = Math.floor((performance.now() - this.t0) / 20) + 1;
      for (; this.ticks < due; this.ticks++) for (const c of this.calls) c.sendNext();
      this.timer = setTimeout(tick, Math.max(0, this.t0 + this.ticks * 20 - performance.now()));
    };
    tick();
  }

  stopStreaming(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Every frame sent has been echoed (or a call has closed). */
  echoed(): boolean {
    return this.calls.every((c) => c.received >= c.sent || c.closeCode !== null);
  }

  figures(): SteadyFigures {
    const sum = (f: (c: SteadyCall) => number): number => this.calls.reduce((a, c) => a + f(c), 0);
    return {
      calls: this.calls.length,
      framesSent: sum((c) => c.sent),
      framesEchoed: sum((c) => Math.min(c.received, c.sent)),
      framesLost: sum((c) => Math.max(0, c.sent - c.received)),
      sequenceBreaks: sum((c) => c.sequenceBreaks),
      marksEchoed: sum((c) => c.marksEchoed),
      closedEarly: sum((c) => (c.closeCode !== null ? 1 : 0)),
    };
  }

  /** Twilio's way to end: `stop`, then the socket closes. */
  async close(): Promise<void> {
    await Promise.all(
      this.calls.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.closeCode !== null) return resolve();
            c.ws.once('close', () => resolve());
            c.ws.send(
              JSON.stringify({
                event: 'stop',
                streamSid: c.streamSid,
                sequenceNumber: '0',
                stop: { accountSid: 'AC0', callSid: 'CA0' },
              }),
            );
            c.ws.close(1000);
          }),
      ),
    );
  }
}
