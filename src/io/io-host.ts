import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ErrorCodes, PtimeError, type ErrorCode } from '../errors.js';
import type { CallLink } from '../server/call-link.js';
import type { CallTransport } from '../server/call-transport.js';
import type { StartInfo } from '../protocol/carrier-adapter.js';
import type { Unavailable } from '../server/upgrade-admission.js';
import { threadSchedstat } from '../pacer/pacer-stats-reader.js';
import {
  BACKLOG_BYTES,
  B_LOOP_MAX_US,
  B_LOOP_P99_US,
  B_MEDIA_POSTED,
  B_MEDIA_TAKEN,
  type IoCommand,
  type IoEvent,
  type IoMessage,
  type IoSettings,
} from './io-protocol.js';

/** What the I/O host needs from the engine. */
export interface IoHooks {
  readonly logger: Logger;
  /** The call of a stream that started on the I/O thread, as its link, or why not. */
  startCall(start: StartInfo, transport: CallTransport): CallLink | PtimeError;
  count(code: ErrorCode, message: string, streamSid: string | null, link?: CallLink): void;
  /** The I/O thread was replaced: the pacer must hand its batches to the new one. */
  newHandback(): void;
}

export interface IoHostEvents {
  /** The I/O thread failed; its calls were closed (1011) and a new thread serves new calls. */
  restart: [{ reason: string; callsClosed: number }];
  error: [Error];
}

interface RemoteStream {
  readonly sid: number;
  /** The call's event rules (engine/call-link.ts), once it has started. */
  link: CallLink | null;
}

const WORKER_URL = new URL('../../workers/io.js', import.meta.url);
const STOP_GRACE_MS = 2000;
const RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5000;
/** A thread that served this long resets the backoff. */
const HEALTHY_MS = 30_000;

/** Close code and reason for a stream main refused at `start`, by the refusal's code. */
function refusalClose(code: ErrorCode): [number, string] {
  if (code === ErrorCodes.TOO_MANY_CALLS) return [1013, 'too many calls'];
  if (code === ErrorCodes.PACER_FAILED) return [1011, 'pacer failed'];
  return [1001, 'server shutting down'];
}

/**
 * Main's side of the I/O thread (io: 'worker'): starts it, turns its events into Call events
 * (through the same CallLink rules as io: 'main'), and gives each Call a transport that forwards
 * to it. If the thread dies, its calls close with 1011 (counted as PTIME_ERR_IO_FAILED), and a new
 * thread listens on the same port and takes the pacer's hand-back.
 */
export class IoHost extends EventEmitter<IoHostEvents> {
  private worker: Worker | null = null;
  private commands: MessagePort | null = null;
  private readonly backlog = new SharedArrayBuffer(BACKLOG_BYTES);
  private readonly backlogWords = new Int32Array(this.backlog);
  private readonly streams = new Map<number, RemoteStream>();
  private listening: { resolve: (port: number) => void; reject: (err: Error) => void } | null = null;
  private allClosed: (() => void) | null = null;
  private boundPort = 0;
  private stopping = false;
  private exited: Promise<void> = Promise.resolve();
  private state: Unavailable = null;
  /** A pacer hand-back port that came before the thread was started (the pacer starts first). */
  private pendingPacer: { port: MessagePort; control: SharedArrayBuffer } | null = null;
  private restartCount = 0;
  private failStreak = 0;
  private startedAt = performance.now();
  private tid = 0;
  private lastCpu: { at: number; cpuNs: number } | null = null;
  private nextSync = 1;
  private readonly syncs = new Map<number, () => void>();

  constructor(
    private readonly settings: IoSettings,
    private readonly hooks: IoHooks,
  ) {
    super();
    this.boundPort = settings.port;
  }

  /** Start the thread and wait until it listens; rejects with PTIME_ERR_LISTEN if it cannot (EADDRINUSE, …). */
  start(): Promise<number> {
    const listening = new Promise<number>((resolve, reject) => (this.listening = { resolve, reject }));
    this.spawn(this.settings.port);
    return listening;
  }

  get port(): number {
    return this.boundPort;
  }

  get restarts(): number {
    return this.restartCount;
  }

  /** What figures() last returned (engine.stats() shows it without starting a new period). */
  lastFigures: { cpuPct: number | null; loopDelayP99Ms: number; loopDelayMaxMs: number } | null = null;

  /** The I/O thread's CPU (% of one core) since the last call, and its event-loop delay over its last second. */
  figures(): { cpuPct: number | null; loopDelayP99Ms: number; loopDelayMaxMs: number } {
    const now = performance.now();
    const cpuNs = threadSchedstat(this.tid)?.cpuNs ?? null;
    const last = this.lastCpu;
    this.lastCpu = cpuNs === null ? null : { at: now, cpuNs };
    const cpuPct =
      cpuNs !== null && last ? Math.round(((cpuNs - last.cpuNs) / 1e6 / (now - last.at)) * 10000) / 100 : null;
    this.lastFigures = {
      cpuPct,
      loopDelayP99Ms: Atomics.load(this.backlogWords, B_LOOP_P99_US) / 1000,
      loopDelayMaxMs: Atomics.load(this.backlogWords, B_LOOP_MAX_US) / 1000,
    };
    return this.lastFigures;
  }

  /** The pacer's hand-back port (at every pacer start, and again after an I/O restart). */
  usePacer(port: MessagePort, control: SharedArrayBuffer): void {
    if (!this.commands) this.pendingPacer = { port, control };
    else this.command({ op: 'pacer', port, control }, [port]);
  }

  setState(unavailable: Unavailable): void {
    this.state = unavailable;
    this.command({ op: 'state', unavailable });
  }

  /** Close every socket (1001 on shutdown) and wait until they are closed. */
  closeAll(code: number, reason: string): Promise<void> {
    if (!this.worker) return Promise.resolve();
    const done = new Promise<void>((resolve) => (this.allClosed = resolve));
    this.command({ op: 'closeAll', code, reason });
    return done;
  }

  /** Resolves once every event the I/O thread saw before this call has been applied here. */
  settled(): Promise<void> {
    if (!this.commands) return Promise.resolve();
    const id = this.nextSync++;
    const done = new Promise<void>((resolve) => this.syncs.set(id, resolve));
    this.command({ op: 'sync', id });
    return done;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    this.command({ op: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Diagnostics and tests: make the I/O thread throw, to watch its calls close and a new one take over. */
  crashForDiagnostics(): Promise<void> {
    if (!this.worker) return Promise.reject(new PtimeError(ErrorCodes.IO_FAILED, 'no I/O thread is running to crash'));
    const restarted = new Promise<void>((resolve) => this.once('restart', () => resolve()));
    this.command({ op: 'crash' });
    return restarted;
  }

  private spawn(port: number): void {
    this.startedAt = performance.now();
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_URL, {
      workerData: { settings: { ...this.settings, port }, commands: port2, backlog: this.backlog },
      transferList: [port2],
      name: 'ptime-io',
    });
    this.worker = worker;
    this.commands = port1;
    if (this.state) this.command({ op: 'state', unavailable: this.state });
    const pacer = this.pendingPacer;
    this.pendingPacer = null;
    if (pacer) this.command({ op: 'pacer', port: pacer.port, control: pacer.control }, [pacer.port]);
    let exitResolve!: () => void;
    this.exited = new Promise<void>((resolve) => (exitResolve = resolve));
    let error: Error | null = null;
    worker.on('message', (msg: IoMessage) => this.message(msg));
    worker.on('error', (err) => (error ??= err));
    worker.once('exit', (code) => {
      exitResolve();
      if (this.worker !== worker) return;
      for (const resolve of this.syncs.values()) resolve(); // what it saw is all there will be
      this.syncs.clear();
      this.worker = null;
      this.commands?.close();
      this.commands = null;
      const listening = this.listening;
      if (listening) {
        this.listening = null;
        listening.reject(error ?? new Error(`the I/O thread exited with code ${code} before it listened`));
        return;
      }
      if (this.stopping) return;
      this.failed(error ? `I/O thread threw: ${error.message}` : `I/O thread exited with code ${code}`);
    });
  }

  /** The thread died mid-service: close its calls, and serve new ones from a new thread. */
  private failed(reason: string): void {
    const calls = [...this.streams.values()].map((s) => s.link).filter((l): l is CallLink => l !== null);
    this.streams.clear();
    for (const link of calls) {
      this.hooks.count(ErrorCodes.IO_FAILED, `the I/O thread failed (${reason}): call closed`, link.streamSid, link);
      link.socketClosed(1011, 'I/O thread failed');
    }
    // Media the dead thread counted but never posted is owed by no one: the new one starts even.
    Atomics.store(this.backlogWords, B_MEDIA_POSTED, Atomics.load(this.backlogWords, B_MEDIA_TAKEN));
    this.allClosed?.();
    this.allClosed = null;
    this.restartLater(reason, calls.length);
  }

  /**
   * A new thread after a backoff: 100 ms, doubling per failure up to 5 s, back to 100 ms once a
   * thread has served for 30 s. It keeps trying (a port still held by the dying thread, a
   * transient error): without it no new call could be served at all.
   */
  private restartLater(reason: string, callsClosed: number): void {
    const now = performance.now();
    if (now - this.startedAt >= HEALTHY_MS) this.failStreak = 0;
    const delayMs = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** this.failStreak);
    this.failStreak++;
    this.hooks.logger.error(
      { reason, callsClosed, attempt: this.failStreak, delayMs },
      'I/O thread failed; its calls were closed, starting a new one',
    );
    setTimeout(() => {
      if (this.stopping) return;
      this.restartCount++;
      // 'restart' once the new thread listens, so a caller may connect as soon as it hears it.
      this.listening = {
        resolve: () => this.emit('restart', { reason, callsClosed }),
        reject: (err) => {
          const w = this.worker;
          this.worker = null; // its exit is this failure, already handled
          void w?.terminate();
          this.restartLater(`the new I/O thread did not start: ${err.message}`, 0);
        },
      };
      this.spawn(this.boundPort);
      this.hooks.newHandback();
    }, delayMs).unref();
  }

  private message(msg: IoMessage): void {
    switch (msg.t) {
      case 'listening': {
        this.boundPort = msg.port;
        this.tid = msg.tid;
        this.lastCpu = null;
        const l = this.listening;
        this.listening = null;
        l?.resolve(msg.port);
        return;
      }
      case 'listenError': {
        const l = this.listening;
        this.listening = null;
        const cause = Object.assign(new Error(msg.cause.message), { code: msg.cause.code });
        const err = new PtimeError(ErrorCodes.LISTEN, msg.message, { cause });
        if (l) l.reject(err);
        else this.hooks.logger.error({ err }, 'the new I/O thread could not listen');
        return;
      }
      case 'allClosed':
        this.allClosed?.();
        this.allClosed = null;
        return;
      case 'synced':
        this.syncs.get(msg.id)?.();
        this.syncs.delete(msg.id);
        return;
      case 'events':
        for (const ev of msg.list) this.event(ev);
        return;
    }
  }

  private event(ev: IoEvent): void {
    if (ev.e === 'log') {
      this.hooks.logger[ev.level](ev.obj, ev.msg);
      return;
    }
    if (ev.e === 'reject') {
      const link = this.streams.get(ev.sid)?.link ?? undefined;
      this.hooks.count(ev.code, ev.message, ev.streamSid, link);
      return;
    }
    if (ev.e === 'start') {
      this.streamStarted(ev.sid, ev.start);
      return;
    }
    const stream = this.streams.get(ev.sid);
    const link = stream?.link ?? null;
    switch (ev.e) {
      case 'media':
        Atomics.add(this.backlogWords, B_MEDIA_TAKEN, 1);
        if (link && !link.isClosed) {
          const p = ev.payload;
          link.deliverMedia({
            payload: Buffer.from(p.buffer, p.byteOffset, p.byteLength),
            track: ev.track,
            chunk: ev.chunk,
            timestamp: ev.timestamp,
          });
        }
        return;
      case 'dtmf':
        if (link && !link.isClosed) link.dtmf(ev.digit, ev.track);
        return;
      case 'mark':
        link?.markEchoed(ev.name);
        return;
      case 'markSent':
        link?.markSent(ev.id);
        return;
      case 'stop':
        if (link && !link.isClosed) link.stopped();
        return;
      case 'flow':
        if (link && !link.isClosed) link.flow(ev.paused);
        return;
      case 'closed':
        this.streams.delete(ev.sid);
        link?.socketClosed(ev.code, ev.reason);
        return;
      case 'slow':
        link?.slowDrop(performance.now(), ev.dropped);
        return;
      case 'stuck':
        link?.stuck(ev.message);
        return;
    }
  }

  private streamStarted(sid: number, start: StartInfo): void {
    const stream: RemoteStream = { sid, link: null };
    this.streams.set(sid, stream);
    const result = this.hooks.startCall(
      start,
      new RemoteTransport(sid, (cmd, transfer) => this.command(cmd, transfer)),
    );
    if (result instanceof PtimeError) {
      this.hooks.count(result.code, result.message, start.streamSid);
      const [code, reason] = refusalClose(result.code);
      this.command({ op: 'close', sid, code, reason });
      this.streams.delete(sid);
      return;
    }
    stream.link = result;
  }

  private command(cmd: IoCommand, transfer: MessagePort[] = []): void {
    this.commands?.postMessage(cmd, transfer);
  }
}

/** A call's transport when its socket is on the I/O thread: every call is a command. */
class RemoteTransport implements CallTransport {
  constructor(
    private readonly sid: number,
    private readonly post: (cmd: IoCommand, transfer?: MessagePort[]) => void,
  ) {}

  bindLane(lane: number, sab: SharedArrayBuffer, owner: number, gen: number): void {
    this.post({ op: 'bind', sid: this.sid, lane, owner, gen, sab });
  }

  close(code: number, reason: string): void {
    this.post({ op: 'close', sid: this.sid, code, reason });
  }

  clear(wire: string, gen: number): void {
    this.post({ op: 'clear', sid: this.sid, wire, gen });
  }

  markQueued(id: number, wire: string, gen: number): void {
    this.post({ op: 'mark', sid: this.sid, id, wire, gen });
  }

  wantMedia(wanted: boolean): void {
    this.post({ op: 'media', sid: this.sid, wanted });
  }
}
