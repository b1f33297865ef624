import { ErrorCodes } from '../errors.js';
import type { InboundMedia } from '../protocol/carrier-adapter.js';
import type { CallLink } from '../server/stream-session.js';
import type { IoEvent } from './io-protocol.js';

/**
 * A stream's call, seen from the I/O thread (io: 'worker'): every event goes to main, where the
 * Call lives. Inbound media is the one thing that may be dropped, and only when main is further
 * behind than the backlog bound; the drop is counted and reported once main catches up.
 */
export class RemoteLink implements CallLink {
  private closed = false;
  private droppedMedia = 0;

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
    this.send({ e: 'media', sid: this.sid, payload, track: media.track, chunk: media.chunk, timestamp: media.timestamp });
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

  /** Main closed the call. */
  closedByMain(): void {
    this.closed = true;
  }
}
