import { readlinkSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { WebSocketServer } from 'ws';
import { ErrorCodes, PtimeError } from '../errors.js';
import { HandbackConsumer } from '../handback/handback-consumer.js';
import type { CarrierName } from '../protocol/carrier-adapter.js';
import { adapterFor } from '../protocol/carriers.js';
import { StreamSession, type SessionHost } from '../server/stream-session.js';
import { admitUpgrade, type Unavailable } from '../server/upgrade-admission.js';
import { listenUpgrades, refuseUpgrade } from '../server/upgrade-routes.js';
import {
  B_LOOP_MAX_US,
  B_LOOP_P99_US,
  B_MEDIA_POSTED,
  B_MEDIA_TAKEN,
  type IoCommand,
  type IoEvent,
  type IoMessage,
  type IoSettings,
} from './io-protocol.js';
import { RemoteLink } from './remote-link.js';

const CLOSE_GRACE_MS = 1000;
const LOOP_RESOLUTION_MS = 10;
const LOOP_PERIOD_MS = 1000;
const SEND_ERROR_LOG_MS = 2000;

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
  private nextSid = 1;
  private unavailable: Unavailable = null;
  private pending: IoEvent[] = [];
  private flushQueued = false;
  private keepalive: NodeJS.Timeout | null = null;
  private loopTimer: NodeJS.Timeout | null = null;
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly backlog: Int32Array;
  private mediaPosted: number;
  private readonly host: SessionHost;
  private sendErrors = 0;
  private sendErrorLoggedAt = Number.NEGATIVE_INFINITY;
  /** The pacer's batches: this thread sends every frame (io: 'worker'). */
  private readonly handback: HandbackConsumer;

  constructor(
    private readonly settings: IoSettings,
    private readonly commands: MessagePort,
    backlog: SharedArrayBuffer,
    private readonly post: (msg: IoMessage) => void,
  ) {
    this.backlog = new Int32Array(backlog);
    this.mediaPosted = Atomics.load(this.backlog, B_MEDIA_POSTED);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: settings.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.host = {
      limits: settings.session,
      logger: { error: (obj, msg) => this.event({ e: 'log', level: 'error', obj: plain(obj), msg }) },
      startCall: (start, session) => {
        const sid = this.sessions.get(session) ?? 0;
        const link = new RemoteLink(
          sid,
          start.streamSid,
          (ev) => this.event(ev),
          () => this.mediaAllowed(),
        );
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
      bindLane: (lane, owner, sink) => this.handback.bind(lane, owner, sink),
      unbindLane: (lane, sink) => this.handback.unbind(lane, sink),
    };
    this.handback = new HandbackConsumer({
      // Commands main posted before it wrote what a batch carries (a bind, a clear, a mark's
      // message) are in the queue already: apply them first.
      before: () => {
        for (let m = receiveMessageOnPort(this.commands); m; m = receiveMessageOnPort(this.commands))
          this.command(m.message as IoCommand);
      },
      failed: (_lane, err) => this.sendFailed(err),
    });
    commands.on('message', (cmd: IoCommand) => this.command(cmd));
  }

  async start(): Promise<void> {
    const s = this.settings;
    try {
      this.server = await listenUpgrades(
        s.port,
        s.host,
        s.routes,
        (req, socket, head, carrier) => this.upgrade(req, socket, head, carrier),
        s.upgrade,
        (code, message) => this.event({ e: 'reject', sid: -1, code, message, streamSid: null }),
        (count, err) =>
          this.event({
            e: 'log',
            level: 'warn',
            obj: plain({ count, err }),
            msg: 'connections could not be accepted (the listener stays open)',
          }),
      );
    } catch (err) {
      // listenUpgrades rejects with PTIME_ERR_LISTEN, the listen error as its cause.
      const cause = (
        err instanceof PtimeError && err.cause instanceof Error ? err.cause : err
      ) as NodeJS.ErrnoException;
      this.post({
        t: 'listenError',
        message: (err as Error).message,
        cause: { message: cause.message, code: cause.code },
      });
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
    const refusal = admitUpgrade(req, carrier, this.settings.admission, {
      openStreams: open,
      unavailable: this.unavailable,
    });
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
      const session = new StreamSession(ws, socket, this.host, adapterFor(carrier));
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
  }

  /** Commands from main, as they arrive and (drained synchronously) before each pacer batch. */
  private command(cmd: IoCommand): void {
    switch (cmd.op) {
      case 'bind':
        // A stream closed meanwhile has no session: its 'closed' event is on its way to main.
        this.bySid.get(cmd.sid)?.bindLane(cmd.lane, cmd.sab, cmd.owner, cmd.gen);
        return;
      case 'clear':
        this.bySid.get(cmd.sid)?.clear(cmd.wire, cmd.gen);
        return;
      case 'mark':
        this.bySid.get(cmd.sid)?.markQueued(cmd.id, cmd.wire, cmd.gen);
        return;
      case 'media':
        this.bySid.get(cmd.sid)?.wantMedia(cmd.wanted);
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
        // A replaced pacer's batches still queued on its port go out in order, unacknowledged.
        this.handback.use(cmd.port, cmd.control);
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

  /** One socket's send threw: that record is lost, the rest of the batch goes out; logged at most once per 2 s. */
  private sendFailed(err: unknown): void {
    this.sendErrors++;
    const now = performance.now();
    if (now - this.sendErrorLoggedAt < SEND_ERROR_LOG_MS) return;
    this.sendErrorLoggedAt = now;
    this.event({
      e: 'log',
      level: 'error',
      obj: plain({ err, count: this.sendErrors }),
      msg: 'sending a frame threw on the I/O thread; the other calls of the batch were sent',
    });
    this.sendErrors = 0;
  }

  /** Media is dropped, not queued, once main is this far behind (a stall longer than the bound). */
  private mediaAllowed(): boolean {
    if (((this.mediaPosted - Atomics.load(this.backlog, B_MEDIA_TAKEN)) | 0) >= this.settings.backlogFrames)
      return false;
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
    this.handback.close();
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
