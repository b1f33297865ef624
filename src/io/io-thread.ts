import { readlinkSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { WebSocketServer } from 'ws';
import { ErrorCodes, PtimeError } from '../errors.js';
import { readBatch, type BatchVisitor } from '../pacer/batch-reader.js';
import { C_ACKED } from '../pacer/pacer-layout.js';
import type { CarrierName } from '../protocol/carrier-adapter.js';
import { adapterFor } from '../protocol/carriers.js';
import { HEADER_WORDS } from '../ring/lane-layout.js';
import { FrameEgress } from '../server/frame-egress.js';
import { HeldBatches } from '../pacer/held-batches.js';
import { StreamSession, type SessionHost } from '../server/stream-session.js';
import { admitUpgrade, type Unavailable } from '../server/upgrade-admission.js';
import { listenUpgrades, refuseUpgrade } from '../server/upgrade-routes.js';
import { B_LOOP_MAX_US, B_LOOP_P99_US, B_MEDIA_POSTED, B_MEDIA_TAKEN, type IoCommand, type IoEvent, type IoMessage, type IoSettings } from './io-protocol.js';
import { RemoteLink } from './remote-link.js';

/** A stream bound to its lane: where that lane's handed-back frames go. */
interface Bound {
  readonly sid: number;
  readonly session: StreamSession;
  /** The stream's call as this thread knows it: closed once it stopped or main closed it. */
  readonly link: RemoteLink | undefined;
  readonly owner: number;
  readonly egress: FrameEgress;
  /** Mark messages by mark id, from main before the mark was queued. */
  readonly marks: Map<number, { wire: string; gen: number }>;
  lastSlowAt: number;
  /** Media frames dropped for a slow socket since the last 'slow' event. */
  slowDrops: number;
}

const CLOSE_GRACE_MS = 1000;
const RETIRE_PORT_MS = 1000;
const LOOP_RESOLUTION_MS = 10;
const LOOP_PERIOD_MS = 1000;
const SLOW_EVENT_MS = 2000;

/**
 * The I/O thread (io: 'worker'): the HTTP server, the WebSocket server, the Twilio sessions with
 * all their admission and input checks, and the sending of every outbound frame, which the pacer
 * hands straight to this thread. Main keeps the calls and the application: it gets the inbound
 * events, one message per loop turn, and sends commands (bind, clear, mark, close).
 */
export class IoThread {
  private server: Server | null = null;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<StreamSession, number>();
  private readonly links = new Map<number, RemoteLink>();
  private readonly bySid = new Map<number, StreamSession>();
  private readonly lanes: (Bound | undefined)[] = [];
  private readonly laneOf = new Map<number, number>();
  private nextSid = 1;
  private unavailable: Unavailable = null;
  private pending: IoEvent[] = [];
  private flushQueued = false;
  private pacerPort: MessagePort | null = null;
  private pacerCtl: Int32Array | null = null;
  private keepalive: NodeJS.Timeout | null = null;
  private loopTimer: NodeJS.Timeout | null = null;
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly backlog: Int32Array;
  private mediaPosted: number;
  private readonly host: SessionHost;
  private sendErrors = 0;
  private sendErrorLoggedAt = Number.NEGATIVE_INFINITY;
  private readonly visitor: BatchVisitor;
  /** Batches a socket still reads from, given back once it has written them out (to a pacer still current). */
  private readonly holds = new HeldBatches<MessagePort>((batch, port) => {
    if (port === this.pacerPort) port.postMessage(batch, [batch]);
  });

  constructor(
    private readonly settings: IoSettings,
    private readonly commands: MessagePort,
    backlog: SharedArrayBuffer,
    private readonly post: (msg: IoMessage) => void,
  ) {
    this.backlog = new Int32Array(backlog);
    this.mediaPosted = Atomics.load(this.backlog, B_MEDIA_POSTED);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxPayload, perMessageDeflate: false, clientTracking: false });
    this.host = {
      limits: settings.session,
      logger: { error: (obj, msg) => this.event({ e: 'log', level: 'error', obj: plain(obj), msg }) },
      startCall: (start, session) => {
        const sid = this.sessions.get(session) ?? 0;
        const link = new RemoteLink(sid, start.streamSid, (ev) => this.event(ev), () => this.mediaAllowed());
        this.links.set(sid, link);
        this.event({ e: 'start', sid, start });
        return link;
      },
      reject: (err, session) => {
        const sid = this.sessions.get(session) ?? -1;
        const code = err instanceof PtimeError ? err.code : ErrorCodes.BAD_MESSAGE;
        this.event({ e: 'reject', sid, code, message: err.message, streamSid: session.call?.streamSid ?? null });
      },
      ended: (session) => this.ended(session),
    };
    this.visitor = {
      frame: (lane, gen, owner, wire, frames) => {
        const b = this.lanes[lane];
        // Built for a call that has left this lane, or whose stream has ended (as with io: 'main',
        // where the closed Call drops it): nothing goes out after a stop.
        if (!b || b.owner !== owner || b.link?.isClosed === true) return false;
        try {
          const held = b.egress.frame(gen, wire, frames);
          if (held) this.holds.held(b.egress);
          return held;
        } catch (err) {
          this.sendFailed(err);
          this.holds.held(undefined); // it may have kept the view before it threw: never reuse the batch
          return true;
        }
      },
      mark: (lane, gen, owner, markId) => {
        const b = this.lanes[lane];
        if (!b || b.owner !== owner || gen !== b.egress.gen || b.link?.isClosed === true) return;
        const m = b.marks.get(markId);
        if (!m) return;
        b.marks.delete(markId);
        try {
          b.session.send(m.wire);
        } catch (err) {
          this.sendFailed(err);
          return;
        }
        this.event({ e: 'markSent', sid: b.sid, id: markId });
      },
    };
    commands.on('message', (cmd: IoCommand) => this.command(cmd));
  }

  async start(): Promise<void> {
    const s = this.settings;
    try {
      this.server = await listenUpgrades(s.port, s.host, s.routes, (req, socket, head, carrier) => this.upgrade(req, socket, head, carrier));
    } catch (err) {
      // listenUpgrades rejects with PTIME_ERR_LISTEN, the listen error as its cause.
      const cause = (err instanceof PtimeError && err.cause instanceof Error ? err.cause : err) as NodeJS.ErrnoException;
      this.post({ t: 'listenError', message: (err as Error).message, cause: { message: cause.message, code: cause.code } });
      return;
    }
    if (s.keepaliveMs > 0) {
      this.keepalive = setInterval(() => {
        for (const session of this.sessions.keys()) session.keepalive(s.keepaliveMs);
      }, s.keepaliveMs).unref();
    }
    this.loopDelay.enable();
    this.loopTimer = setInterval(() => {
      // The histogram records whole timer intervals, so the resolution itself is not delay.
      const us = (ns: number): number => Math.max(0, Math.round(ns / 1000 - LOOP_RESOLUTION_MS * 1000));
      Atomics.store(this.backlog, B_LOOP_P99_US, us(this.loopDelay.percentile(99)));
      Atomics.store(this.backlog, B_LOOP_MAX_US, us(this.loopDelay.max));
      this.loopDelay.reset();
    }, LOOP_PERIOD_MS).unref();
    const a = this.server.address();
    this.post({ t: 'listening', port: a && typeof a === 'object' ? a.port : s.port, tid: threadId() });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, carrier: CarrierName): void {
    let open = 0;
    for (const session of this.sessions.keys()) if (session.holdsSlot) open++;
    const refusal = admitUpgrade(req, carrier, this.settings.admission, { openStreams: open, unavailable: this.unavailable });
    if (refusal) {
      refuseUpgrade(socket, refusal.status, refusal.text, refusal.headers);
      this.event({ e: 'reject', sid: -1, code: refusal.code, message: refusal.message, streamSid: null });
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.unavailable?.code === ErrorCodes.SHUTTING_DOWN) {
        ws.close(1001, 'server shutting down');
        return;
      }
      const sid = this.nextSid++;
      const session = new StreamSession(ws, this.host, adapterFor(carrier));
      this.sessions.set(session, sid);
      this.bySid.set(sid, session);
    });
  }

  private ended(session: StreamSession): void {
    const sid = this.sessions.get(session);
    this.sessions.delete(session);
    if (sid === undefined) return;
    this.bySid.delete(sid);
    this.links.delete(sid);
    const lane = this.laneOf.get(sid);
    if (lane !== undefined && this.lanes[lane]?.sid === sid) this.lanes[lane] = undefined;
    this.laneOf.delete(sid);
  }

  /** Commands from main, as they arrive and (drained synchronously) before each pacer batch. */
  private command(cmd: IoCommand): void {
    switch (cmd.op) {
      case 'bind': {
        const session = this.bySid.get(cmd.sid);
        if (!session) return; // closed meanwhile: its 'closed' event is on its way to main
        const sid = cmd.sid;
        const header = new Int32Array(cmd.sab, 0, HEADER_WORDS);
        const bound: Bound = {
          sid,
          session,
          link: this.links.get(sid),
          owner: cmd.owner,
          marks: new Map(),
          lastSlowAt: Number.NEGATIVE_INFINITY,
          slowDrops: 0,
          egress: new FrameEgress(session, header, cmd.gen, this.settings.egress, {
            slowDrop: (now) => {
              bound.slowDrops++;
              if (now - bound.lastSlowAt < SLOW_EVENT_MS) return;
              bound.lastSlowAt = now;
              this.event({ e: 'slow', sid, dropped: bound.slowDrops });
              bound.slowDrops = 0;
            },
            stuck: (message) => this.event({ e: 'stuck', sid, message }),
          }),
        };
        this.lanes[cmd.lane] = bound;
        this.laneOf.set(sid, cmd.lane);
        return;
      }
      case 'send':
        this.bySid.get(cmd.sid)?.send(cmd.data);
        return;
      case 'clear': {
        const b = this.boundOf(cmd.sid);
        if (b) {
          b.egress.gen = cmd.gen;
          for (const [id, m] of b.marks) if (m.gen !== cmd.gen) b.marks.delete(id);
        }
        this.bySid.get(cmd.sid)?.send(cmd.wire);
        return;
      }
      case 'mark':
        this.boundOf(cmd.sid)?.marks.set(cmd.id, { wire: cmd.wire, gen: cmd.gen });
        return;
      case 'close': {
        this.links.get(cmd.sid)?.closedByMain();
        this.bySid.get(cmd.sid)?.close(cmd.code, cmd.reason);
        return;
      }
      case 'state':
        this.unavailable = cmd.unavailable;
        return;
      case 'pacer':
        this.usePacer(cmd.port, cmd.control);
        return;
      case 'closeAll':
        void this.closeAll(cmd.code, cmd.reason);
        return;
      case 'stop':
        this.stop();
        return;
      case 'sync':
        this.flush();
        this.post({ t: 'synced', id: cmd.id });
        return;
      case 'crash':
        throw new Error('I/O thread crash requested for diagnostics');
    }
  }

  private boundOf(sid: number): Bound | undefined {
    const lane = this.laneOf.get(sid);
    const b = lane === undefined ? undefined : this.lanes[lane];
    // The lane may have gone to another call since: a command for this stream must not touch it.
    return b?.sid === sid ? b : undefined;
  }

  private usePacer(port: MessagePort, control: SharedArrayBuffer): void {
    // The previous pacer is gone, but batches it posted may still be queued on its port: its
    // listener keeps sending them, in order (no acknowledgement, no reuse: the new pacer counts
    // from ACKED), and the port is closed once they have had time to arrive.
    const old = this.pacerPort;
    if (old) setTimeout(() => old.close(), RETIRE_PORT_MS).unref();
    this.pacerPort = port;
    this.pacerCtl = new Int32Array(control);
    port.on('message', (batch: ArrayBuffer) => this.batch(batch, port));
  }

  private batch(batch: ArrayBuffer, port: MessagePort): void {
    // Commands main posted before it wrote what this batch carries are in the queue already.
    for (let m = receiveMessageOnPort(this.commands); m; m = receiveMessageOnPort(this.commands)) this.command(m.message as IoCommand);
    this.holds.poll();
    let held = true;
    try {
      held = readBatch(batch, this.visitor);
    } finally {
      if (port === this.pacerPort && this.pacerCtl) Atomics.add(this.pacerCtl, C_ACKED, 1);
    }
    this.holds.settle(batch, port, held);
  }

  /** One socket's send threw: that record is lost, the rest of the batch goes out; logged at most once per 2 s. */
  private sendFailed(err: unknown): void {
    this.sendErrors++;
    const now = performance.now();
    if (now - this.sendErrorLoggedAt < SLOW_EVENT_MS) return;
    this.sendErrorLoggedAt = now;
    this.event({ e: 'log', level: 'error', obj: plain({ err, count: this.sendErrors }), msg: 'sending a frame threw on the I/O thread; the other calls of the batch were sent' });
    this.sendErrors = 0;
  }

  /** Media is dropped, not queued, once main is this far behind (a stall longer than the bound). */
  private mediaAllowed(): boolean {
    if (((this.mediaPosted - Atomics.load(this.backlog, B_MEDIA_TAKEN)) | 0) >= this.settings.backlogFrames) return false;
    this.mediaPosted = (this.mediaPosted + 1) | 0;
    Atomics.store(this.backlog, B_MEDIA_POSTED, this.mediaPosted);
    return true;
  }

  private event(ev: IoEvent): void {
    this.pending.push(ev);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    const list = this.pending;
    this.pending = [];
    if (list.length > 0) this.post({ t: 'events', list });
  }

  private async closeAll(code: number, reason: string): Promise<void> {
    const sockets = [...this.sessions.keys()].map((s) => s.ws);
    const closed = sockets.map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
    for (const ws of sockets) ws.close(code, reason);
    const grace = setTimeout(() => sockets.forEach((ws) => ws.terminate()), CLOSE_GRACE_MS);
    await Promise.all(closed);
    clearTimeout(grace);
    this.flush();
    this.post({ t: 'allClosed' });
  }

  private stop(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    if (this.loopTimer) clearInterval(this.loopTimer);
    this.loopDelay.disable();
    for (const session of this.sessions.keys()) session.ws.terminate();
    this.pacerPort?.close();
    this.commands.close();
    const server = this.server;
    if (!server) return;
    server.close();
    server.closeAllConnections();
  }
}

/** This thread's kernel id, so main can read its CPU time from /proc. */
function threadId(): number {
  try {
    return Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Log fields that survive structured clone (an Error's message and stack, not the object). */
function plain(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = v instanceof Error ? { message: v.message, stack: v.stack } : v;
  return out;
}
