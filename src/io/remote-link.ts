import { ErrorCodes } from '../errors.js';
import type { InboundMedia } from '../protocol/carrier-adapter.js';
import type { CallLink } from '../server/call-link.js';
import type { IoEvent } from './io-protocol.js';

/** Main logs slow-peer drops at most this often anyway: more frequent events would be noise. */
const SLOW_EVENT_MS = 2000;

/**
 * A stream's call, seen from the I/O thread (io: 'worker'): every event goes to main, where the
 * Call lives. Inbound media is the one thing that may be dropped, and only when main is further
 * behind than the backlog bound; the drop is counted and reported once main catches up.
 */
export class RemoteLink implements CallLink {
  private closed = false;
  private droppedMedia = 0;
  /** Media frames dropped for a slow socket since the last 'slow' event (sent at most every 2 s). */
  private slowDrops = 0;
  private lastSlowAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sid: number,
    readonly streamSid: string,
    private readonly send: (ev: IoEvent) => void,
    /** Takes a place in the media backlog; false when it is full. */
    private readonly mediaAllowed: () => boolean,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  deliverMedia(media: InboundMedia): void {
    if (!this.mediaAllowed()) {
      this.droppedMedia++;
      return;
    }
    if (this.droppedMedia > 0) {
      const n = this.droppedMedia;
      this.droppedMedia = 0;
      this.send({
        e: 'reject',
        sid: this.sid,
        code: ErrorCodes.INBOUND_BACKLOG,
        message: `${n} inbound media frames dropped: main was more than the inbound backlog bound behind`,
        streamSid: this.streamSid,
      });
    }
    // A copy of exactly the frame: the decoded payload may be a view into a larger pooled buffer,
    // which structured clone would copy whole.
    const payload = new Uint8Array(media.payload);
    this.send({
      e: 'media',
      sid: this.sid,
      payload,
      track: media.track,
      chunk: media.chunk,
      timestamp: media.timestamp,
    });
  }

  dtmf(digit: string, track: string): void {
    this.send({ e: 'dtmf', sid: this.sid, digit, track });
  }

  flow(paused: boolean): void {
    this.send({ e: 'flow', sid: this.sid, paused });
  }

  markEchoed(name: string): boolean {
    this.send({ e: 'mark', sid: this.sid, name });
    return true; // main tells ours from not ours
  }

  stopped(): void {
    this.closed = true;
    this.send({ e: 'stop', sid: this.sid });
  }

  socketClosed(code: number, reason: string): void {
    this.closed = true;
    this.send({ e: 'closed', sid: this.sid, code, reason });
  }

  countRejection(): void {
    // Counted on main, from the 'reject' event.
  }

  markSent(markId: number): void {
    this.send({ e: 'markSent', sid: this.sid, id: markId });
  }

  slowDrop(now: number, dropped: number): void {
    this.slowDrops += dropped;
    if (now - this.lastSlowAt < SLOW_EVENT_MS) return;
    this.lastSlowAt = now;
    this.send({ e: 'slow', sid: this.sid, dropped: this.slowDrops });
    this.slowDrops = 0;
  }

  stuck(message: string): void {
    this.send({ e: 'stuck', sid: this.sid, message });
  }

  /** Main closed the call. */
  closedByMain(): void {
    this.closed = true;
  }
}
