import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, PtimeError } from '../errors.js';
import { LinkSchedule, TYPICAL_IMPAIRMENT, type LinkImpairment } from './link-schedule.js';

export interface ImpairmentProxyOptions extends Partial<LinkImpairment> {
  /** The server's port on 127.0.0.1. */
  targetPort: number;
  /** Seeds every connection's schedules (connection n, direction d: seed + 2n + d). Default 1. */
  seed?: number;
  /**
   * Bytes one direction holds before it stops reading from its sender, as a path's capacity makes
   * a sender's writes wait. Default 256 KiB; 1 KiB to 64 MiB.
   */
  windowBytes?: number;
}

export interface ImpairmentProxyStats {
  connections: number;
  /** Stalls drawn over all connections and directions. */
  stalls: number;
  /** The most bytes any one direction held at once. */
  maxHeldBytes: number;
}

/** A hold of every connection: nothing is delivered in [from, until) (performance.now() ms). */
interface Cut {
  from: number;
  until: number;
}

/**
 * One direction of one connection: what was read waits in order until the schedule (and any cut)
 * lets it through. Reading pauses while more than the window is held.
 */
class Direction {
  private readonly queue: { data: Buffer; at: number }[] = [];
  private head = 0;
  private held = 0;
  private timer: NodeJS.Timeout | null = null;
  private waitingForDrain = false;
  private ended = false;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    readonly schedule: LinkSchedule,
    private readonly proxy: { readonly cut: Cut; readonly windowBytes: number; noteHeld(bytes: number): void },
  ) {
    from.on('data', (data: Buffer) => this.read(data));
    from.on('end', () => {
      this.ended = true;
      this.deliver();
    });
    to.on('drain', () => {
      this.waitingForDrain = false;
      this.deliver();
    });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private read(data: Buffer): void {
    this.queue.push({ data, at: this.schedule.deliveryAt(performance.now()) });
    this.held += data.length;
    this.proxy.noteHeld(this.held);
    if (this.held > this.proxy.windowBytes) this.from.pause();
    if (this.timer === null && !this.waitingForDrain) this.arm();
  }

  private arm(): void {
    const next = this.queue[this.head];
    if (next === undefined) return;
    const cut = this.proxy.cut;
    const now = performance.now();
    let at = Math.max(next.at, now);
    if (at >= cut.from && at < cut.until) at = cut.until;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.deliver();
      },
      Math.max(0, at - now),
    );
  }

  private deliver(): void {
    if (this.timer !== null || this.waitingForDrain || this.to.destroyed) return;
    const now = performance.now();
    const cut = this.proxy.cut;
    const blocked = now >= cut.from && now < cut.until;
    while (!blocked && this.head < this.queue.length && this.queue[this.head]!.at <= now) {
      const { data } = this.queue[this.head]!;
      this.queue[this.head++] = undefined!; // let the buffer go
      this.held -= data.length;
      if (!this.to.write(data)) {
        this.waitingForDrain = true;
        break;
      }
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.from.isPaused() && this.held <= this.proxy.windowBytes / 2) this.from.resume();
    if (this.ended && this.head === this.queue.length && !this.waitingForDrain) this.to.end();
    else if (!this.waitingForDrain) this.arm();
  }
}

/**
 * A userspace TCP proxy on loopback that impairs each connection both ways, for a kernel without
 * netem: delay and jitter without reordering, stalls as a lost segment's retransmission timeout
 * makes them, and cut(ms), which holds every byte of every connection (nothing is dropped: TCP
 * delays bytes, it does not lose them) and then releases them in order.
 */
export class ImpairmentProxy {
  private readonly directions = new Set<Direction>();
  private readonly sockets = new Set<Socket>();
  private connections = 0;
  private stallsOfClosed = 0;
  private maxHeld = 0;
  private readonly impairment: LinkImpairment;
  private readonly seed: number;
  readonly windowBytes: number;
  cut: Cut = { from: 0, until: 0 };

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
    o: ImpairmentProxyOptions,
  ) {
    this.impairment = {
      delayMs: o.delayMs ?? TYPICAL_IMPAIRMENT.delayMs,
      jitterMs: o.jitterMs ?? TYPICAL_IMPAIRMENT.jitterMs,
      stallChance: o.stallChance ?? TYPICAL_IMPAIRMENT.stallChance,
      stallMs: o.stallMs ?? TYPICAL_IMPAIRMENT.stallMs,
    };
    this.seed = o.seed ?? 1;
    this.windowBytes = o.windowBytes ?? 256 * 1024;
    if (!Number.isInteger(this.windowBytes) || this.windowBytes < 1024 || this.windowBytes > 64 * 1024 * 1024)
      throw new PtimeError(
        ErrorCodes.INVALID_OPTION,
        `windowBytes must be an integer from 1024 to ${64 * 1024 * 1024} (got ${String(o.windowBytes)})`,
      );
    // Throws on a bad impairment before anything listens.
    new LinkSchedule(this.impairment, this.seed, 0);
    server.on('connection', (client) => this.accept(client));
  }

  /** Listen on an ephemeral loopback port in front of 127.0.0.1:targetPort. */
  static async start(o: ImpairmentProxyOptions): Promise<ImpairmentProxy> {
    if (!Number.isInteger(o.targetPort) || o.targetPort < 1 || o.targetPort > 65535)
      throw new PtimeError(
        ErrorCodes.INVALID_OPTION,
        `targetPort must be a port from 1 to 65535 (got ${o.targetPort})`,
      );
    // Half-open both ways: each side's end is passed on only once what is held for the other side
    // has been delivered.
    const server = createServer({ noDelay: true, allowHalfOpen: true });
    const proxy = new ImpairmentProxy(server, o.targetPort, o);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get port(): number {
    const addr = this.server.address();
    return typeof addr === 'object' && addr !== null ? addr.port : 0;
  }

  url(path = '/media'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /**
   * Hold all traffic of every connection, both ways, for `ms` from now, then release it in order.
   * Returns the hold's window on performance.now()'s clock.
   */
  cutFor(ms: number): Cut {
    if (!Number.isFinite(ms) || ms < 0 || ms > 600_000)
      throw new PtimeError(ErrorCodes.INVALID_OPTION, `a cut lasts 0 to 600000 ms (got ${String(ms)})`);
    const from = performance.now();
    this.cut = { from, until: from + ms };
    return this.cut;
  }

  stats(): ImpairmentProxyStats {
    let stalls = this.stallsOfClosed;
    for (const d of this.directions) stalls += d.schedule.stalls;
    return { connections: this.connections, stalls, maxHeldBytes: this.maxHeld };
  }

  noteHeld(bytes: number): void {
    if (bytes > this.maxHeld) this.maxHeld = bytes;
  }

  /** Stop listening and cut every connection. */
  async close(): Promise<void> {
    const closed = once(this.server, 'close');
    this.server.close();
    for (const s of this.sockets) s.destroy();
    for (const d of this.directions) d.stop();
    await closed;
  }

  private accept(client: Socket): void {
    const n = this.connections++;
    const upstream = connect({ port: this.targetPort, host: '127.0.0.1', noDelay: true, allowHalfOpen: true });
    const now = performance.now();
    const up = new Direction(client, upstream, new LinkSchedule(this.impairment, this.seed + 2 * n, now), this);
    const down = new Direction(upstream, client, new LinkSchedule(this.impairment, this.seed + 2 * n + 1, now), this);
    const pair = [client, upstream];
    for (const s of pair) this.sockets.add(s);
    this.directions.add(up).add(down);
    let gone = false;
    const teardown = (): void => {
      if (gone) return;
      gone = true;
      for (const d of [up, down]) {
        d.stop();
        this.stallsOfClosed += d.schedule.stalls;
        this.directions.delete(d);
      }
      for (const s of pair) {
        s.destroy();
        this.sockets.delete(s);
      }
    };
    // A reset or an error on either side ends both, as it would end the one real connection.
    for (const s of pair) {
      s.on('error', teardown);
      s.on('close', () => {
        // A clean close waits for the other side to flush what is still held for it.
        if (client.destroyed && upstream.destroyed) teardown();
      });
    }
  }
}
