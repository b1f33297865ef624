import { performance } from 'node:perf_hooks';
import { H_TX_SENT, H_TX_SLOW, H_TX_STALE } from '../ring/lane-layout.js';
import type { LaneSink } from '../handback/handback-consumer.js';

/** The part of a socket the egress writes to (the stream session's socket, or a test double of one). */
export interface EgressSocket {
  /** A whole WebSocket frame (header included, as the pacer built it), written as it is. */
  writeFrame(frame: Buffer): void;
  /** A text message (a mark, or a baseline's media message), framed by `ws`. */
  sendText(data: string): void;
  /** Bytes accepted by send() but not yet written to the network. */
  readonly bufferedAmount: number;
  /**
   * True while something given to send() may still be read from the caller's buffer: queued and
   * not yet written out. False once it is written, or once the socket has closed (discarded).
   */
  readonly writing: boolean;
}

export interface EgressLimits {
  /** Above this many unsent bytes on the socket, media frames are dropped. */
  readonly maxBufferedBytes: number;
  /** A socket over maxBufferedBytes this long is given up on. */
  readonly slowPeerCloseMs: number;
}

/** What the egress tells the call; it never closes anything itself. */
export interface EgressEvents {
  /** The call has ended: nothing of it goes out any more. */
  readonly isClosed: boolean;
  /** The mark went out: its echo is awaited from now on. */
  markSent(markId: number): void;
  /** Media frames were dropped because the socket is not draining (log it, throttled). */
  slowDrop(now: number, dropped: number): void;
  /** The socket has been over the limit for slowPeerCloseMs: close the call (1008). */
  stuck(message: string): void;
}

/**
 * Writes one call's handed-back frames and marks to its socket: drops frames of a generation a
 * clear() made stale, drops media for a socket that stopped draining (the pacer's schedule for
 * every other call stays exact and this socket's memory bounded), and counts both in the lane
 * header (H_TX_*), where main reads them. A mark's message comes from main before the mark is
 * queued (markQueued) and goes out when the pacer reaches it. The same code runs on main
 * (`io: 'main'`) and on the I/O thread (`io: 'worker'`).
 */
export class LaneEgress implements LaneSink {
  private stuckSince = -1;
  private sent: number;
  private slow: number;
  private stale: number;
  /** Frames of any other generation are stale. */
  private gen: number;
  /** Mark messages by mark id, queued by main before the mark itself. */
  private readonly marks = new Map<number, { wire: string; gen: number }>();

  constructor(
    private readonly socket: EgressSocket,
    private readonly header: Int32Array,
    gen: number,
    private readonly limits: EgressLimits,
    private readonly events: EgressEvents,
  ) {
    this.gen = gen;
    this.sent = Atomics.load(header, H_TX_SENT);
    this.slow = Atomics.load(header, H_TX_SLOW);
    this.stale = Atomics.load(header, H_TX_STALE);
  }

  /**
   * Send one media message of generation `gen`, holding `frames` 20 ms frames (counted as
   * frames). Returns true when the socket kept a reference to `wire` (it queued it without
   * copying), so the batch it points into must not be reused yet.
   */
  onFrame(gen: number, wire: Buffer | string, frames = 1): boolean {
    if (this.events.isClosed) return false; // nothing goes out after a stop or a close
    if (gen !== this.gen) {
      this.stale = (this.stale + frames) | 0;
      Atomics.store(this.header, H_TX_STALE, this.stale);
      return false;
    }
    const buffered = this.socket.bufferedAmount;
    if (buffered > this.limits.maxBufferedBytes) {
      this.notDraining(performance.now(), frames); // the clock is read only for a socket that is behind
      return false;
    }
    this.stuckSince = -1;
    // A socket that is behind queues what it is given: give it its own copy, so it does not pin
    // the pacer's whole batch (which goes back to the pacer for reuse).
    const copy = buffered > 0 && typeof wire !== 'string';
    // Counted before the write: a peer that reads the frame at once must find it counted.
    this.sent = (this.sent + frames) | 0;
    Atomics.store(this.header, H_TX_SENT, this.sent);
    if (typeof wire === 'string') this.socket.sendText(wire);
    else this.socket.writeFrame(copy ? Buffer.from(wire) : wire);
    // The write can also go partial now (the kernel buffer filled): then the view is still held.
    return !copy && typeof wire !== 'string' && this.socket.bufferedAmount > 0;
  }

  /** The pacer reached mark `markId`: its message goes out now, unless a clear() made it stale. */
  onMark(gen: number, markId: number): void {
    if (gen !== this.gen || this.events.isClosed) return; // the clear reported it as cleared
    const m = this.marks.get(markId);
    if (m === undefined) return;
    this.marks.delete(markId);
    this.socket.sendText(m.wire);
    this.events.markSent(markId);
  }

  /** A mark is about to be queued: its message, for when the pacer reaches it. */
  markQueued(markId: number, wire: string, gen: number): void {
    this.marks.set(markId, { wire, gen });
  }

  /** A clear() started generation `gen`: frames and marks of older ones are stale from now on. */
  clear(gen: number): void {
    this.gen = gen;
    for (const [id, m] of this.marks) if (m.gen !== gen) this.marks.delete(id);
  }

  /** A view onFrame() said was kept may still be read: its batch is not to be reused yet. */
  holding(): boolean {
    return this.socket.writing;
  }

  private notDraining(now: number, frames: number): void {
    this.slow = (this.slow + frames) | 0;
    Atomics.store(this.header, H_TX_SLOW, this.slow);
    this.events.slowDrop(now, frames);
    if (this.stuckSince < 0) this.stuckSince = now;
    else if (now - this.stuckSince >= this.limits.slowPeerCloseMs) {
      this.stuckSince = -1;
      this.events.stuck(
        `socket over maxBufferedBytes (${this.limits.maxBufferedBytes}) for slowPeerCloseMs (${this.limits.slowPeerCloseMs})`,
      );
    }
  }
}
