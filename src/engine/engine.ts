import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { formatName } from '../codec/audio-format.js';
import { ErrorCodes, ProtocolRejection, PtimeError, type ErrorCode } from '../errors.js';
import { ThrottledCount } from '../log/throttled-count.js';
import { safeEmit } from '../log/safe-emit.js';
import { PacerHost, type PacerCrashKind, type PacerRestart } from '../pacer/pacer-host.js';
import type { PacerStats } from '../pacer/pacer-layout.js';
import type { PacerPort } from '../pacer/pacer-port.js';
import type { CarrierName, StartInfo } from '../protocol/carrier-adapter.js';
import { StreamSession, type SessionHost } from '../server/stream-session.js';
import { admitUpgrade, type Unavailable } from '../server/upgrade-admission.js';
import { attachUpgrades, listenUpgrades, pathOf, refuseUpgrade } from '../server/upgrade-routes.js';
import { carrierAuth, sessionLimits, upgradeLimits } from './server-settings.js';
import { adapterFor } from '../protocol/carriers.js';
import type { Call } from './call.js';
import { CallLine, type CallContext } from './call-line.js';
import type { CallTransport } from '../server/call-transport.js';
import type { HandbackConsumer } from '../handback/handback-consumer.js';
import type { CallLink } from '../server/call-link.js';
import { assembleParts, logPacerEvents } from './engine-parts.js';
import { linkTo } from './call-link.js';
import { CodecPool, type CodecPoolFigures } from './codec-pool.js';
import { resolveOptions, type EngineOptions, type ResolvedOptions } from './engine-options.js';
import { FiguresReporter, type EngineFigures } from './figures-reporter.js';
import type { IoHost } from '../io/io-host.js';
import { LanePool } from './lane-pool.js';
import { CallTotals } from './call-totals.js';
import type { Registry } from 'prom-client';
import { engineMetrics } from './engine-metrics.js';
import { RecorderHost } from '../record/recorder-host.js';

const UTF8 = new TextEncoder();

export interface Rejection {
  code: ErrorCode;
  message: string;
  streamSid: string | null;
}

export interface EngineEvents {
  call: [Call];
  rejected: [Rejection];
  figures: [EngineFigures];
  pacerStats: [PacerStats];
  /** The pacer thread crashed and was replaced; lanes kept their queues. */
  pacerRestart: [PacerRestart];
  /** The pacer failed for good (restart limit hit): every call was closed with 1011. */
  error: [Error];
  /** io: 'worker': the I/O thread failed; its calls were closed (1011) and a new thread took over. */
  ioRestart: [{ reason: string; callsClosed: number }];
}

export interface EngineStats {
  calls: number;
  framesSent: number;
  rejected: Partial<Record<ErrorCode, number>>;
  pacer: PacerStats | null;
  pacerTicks: number;
  /** Times the pacer thread crashed and was replaced. */
  pacerRestarts: number;
  /** Of those, the ones the watchdog forced because the pacer thread hung. */
  pacerHangs: number;
  /** Where the sockets live ('main' or 'worker'). */
  io: 'main' | 'worker';
  /** io: 'worker': times the I/O thread failed and was replaced. */
  ioRestarts: number;
  /** io: 'worker': the I/O thread's CPU (% of one core) and event-loop delay over the last figures period; null with io: 'main'. */
  ioThread: { cpuPct: number | null; loopDelayP99Ms: number; loopDelayMaxMs: number } | null;
  codec: CodecPoolFigures;
}

const REJECTION_LOG_MS = 2000;
const CLOSE_GRACE_MS = 1000;
const DRAIN_POLL_MS = 20;
const DRAIN_CHECK_MS = 20;

/**
 * The engine: owns the pacer worker, the lanes, the WebSocket endpoint and the calls. Create it
 * with `createEngine(options)`; it emits 'call' for every stream that starts.
 */
export class Engine extends EventEmitter<EngineEvents> {
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  private readonly pacer: PacerPort;
  private readonly lanes: LanePool;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<StreamSession>();
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private readonly drainTimer: NodeJS.Timeout;
  /** Live calls: their lines, and the handles the application holds (engine.calls). */
  private readonly liveLines = new Set<CallLine>();
  private readonly liveCalls = new Set<Call>();
  private readonly rejectedByCode = new Map<ErrorCode, number>();
  private readonly rejectionLogs = new Map<ErrorCode, ThrottledCount>();
  private readonly lastReason = new Map<ErrorCode, string>();
  private readonly figures: FiguresReporter;
  private readonly sessionHost: SessionHost;
  private readonly callContext: CallContext;
  private readonly codecPool: CodecPool;
  private readonly recorder = new RecorderHost();
  /** The I/O thread's host (io: 'worker'), or null when the sockets are on this thread. */
  private readonly io: IoHost | null;
  /** The pacer's batches, when the sockets are on this thread (io: 'main'); the I/O thread has its own. */
  private readonly handback: HandbackConsumer | null;
  private ownServer: Server | null = null;
  private detach: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  /** Counts that outlive calls, for the metrics (engine-metrics.ts). */
  readonly totals = new CallTotals();
  private lastPacerStats: PacerStats | null = null;
  private framesSentByClosedCalls = 0;
  private pacerRestarts = 0;
  private lastSinkError: { lane: number; error: unknown } | null = null;
  /** A call's frame handler that throws costs that frame only; logged at most once per 2 s. */
  private readonly sinkErrors = new ThrottledCount(REJECTION_LOG_MS, (count) => {
    const e = this.lastSinkError;
    this.logger.error(
      { count, lane: e?.lane, err: e?.error },
      'sending a frame threw; the other calls of the batch were sent',
    );
  });
  private pacerFailed = false;

  constructor(options: EngineOptions = {}) {
    super();
    this.options = resolveOptions(options);
    const o = this.options;
    // Defence in depth for ptime's own logger: a caller's number never reaches it by a field name.
    this.logger =
      o.logger ??
      pino({
        level: o.logLevel,
        name: 'ptime',
        redact: o.logCallParameters ? [] : ['customParameters', '*.customParameters', 'from', 'to', '*.from', '*.to'],
      });
    this.lanes = new LanePool(o.queue, o.maxCalls, o.counterStart);
    const parts = assembleParts(o, {
      logger: this.logger,
      startCall: (start, transport) => this.linkedCall(start, transport),
      count: (code, message, streamSid, link) => this.count(code, message, streamSid, link),
      sinkFailed: (lane, error) => {
        this.sinkErrors.add(performance.now());
        this.lastSinkError = { lane, error };
      },
    });
    this.io = parts.io;
    this.handback = parts.handback;
    this.pacer = parts.pacer;
    this.io?.on('restart', (r) => safeEmit(this, this.logger, 'ioRestart', r));
    logPacerEvents(this.pacer, this.logger, o);
    this.pacer.on('stats', (s) => {
      this.lastPacerStats = s;
      safeEmit(this, this.logger, 'pacerStats', s);
    });
    this.pacer.on('restart', (r) => {
      this.pacerRestarts++;
      this.logger.warn(
        { attempt: r.attempt, reason: r.reason, downMs: Math.round(r.downMs) },
        'pacer worker restarted',
      );
      safeEmit(this, this.logger, 'pacerRestart', r);
    });
    this.pacer.on('error', (err) => this.pacerGaveUp(err));
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
    });
    // Frames leave the queue on the pacer's schedule, on whichever thread sends: 'drain' is looked
    // for on a timer rather than per frame, the same in both modes. The same look catches a call
    // whose 'media' listeners went away (removeAllListeners() takes the call's own hook too).
    this.drainTimer = setInterval(() => {
      const now = performance.now();
      for (const line of this.liveLines) {
        line.checkDrain();
        line.syncMediaWanted();
        line.look(now);
      }
    }, DRAIN_CHECK_MS).unref();
    this.figures = new FiguresReporter(
      this,
      () => this.liveLines,
      o.figuresIntervalMs,
      (f) => safeEmit(this, this.logger, 'figures', f),
      o.logFigures,
    );
    this.sessionHost = {
      logger: this.logger,
      limits: sessionLimits(o),
      startCall: (start, session) => this.linkedCall(start, session),
      reject: (err, session) => this.reject(err, session),
      ended: (session) => this.sessions.delete(session),
      bindLane: (lane, owner, sink) => this.handback?.bind(lane, owner, sink),
      unbindLane: (lane, sink) => this.handback?.unbind(lane, sink),
    };
    this.codecPool = new CodecPool(o.codecThreads, this.logger);
    this.callContext = {
      recorder: this.recorder,
      recordDir: o.record?.dir,
      codec: { poolMinMs: o.codecPoolMinMs, run: (job) => this.codecPool.run(job) },
      logger: this.logger,
      highWaterMark: o.highWaterMark,
      lowWaterMark: o.lowWaterMark,
      maxMarkNameBytes: o.maxMarkNameBytes,
      markEveryFrames: Math.ceil(o.markEveryMs / 20),
      leadFrames: o.lead,
      maxBufferedBytes: o.maxBufferedBytes,
      maxQueuedMs: o.maxQueuedMs,
      count: (code, message, line) => this.count(code, message, line.streamSid, line),
      wakePacer: (lane) => this.pacer.wake(lane),
      markSettled: (status) => this.totals.mark(status),
      firstAudio: (ms) => this.totals.firstAudio.add(ms),
      bargeIn: (ms) => this.totals.bargeInHeard.add(ms),
      release: (line) => this.releaseCall(line),
    };
  }

  /** Start listening or attach, as the options say. Called by createEngine. */
  async start(): Promise<void> {
    const o = this.options;
    const handle = (req: IncomingMessage, socket: Duplex, head: Buffer, carrier: CarrierName): void =>
      this.handleUpgrade(req, socket, head, carrier);
    if (this.io) await this.io.start();
    else if (o.port !== undefined) {
      this.ownServer = await listenUpgrades(
        o.port,
        o.host,
        o.routes,
        handle,
        upgradeLimits(o),
        (code, message) => this.count(code, message, null),
        (count, err) => this.logger.warn({ count, err }, 'connections could not be accepted (the listener stays open)'),
      );
    } else if (o.server) this.detach = attachUpgrades(o.server, o.routes, handle, o.otherPaths);
    this.figures.start();
    if (o.keepaliveMs > 0 && !this.io) {
      this.keepaliveTimer = setInterval(() => {
        for (const s of this.sessions) s.keepalive(o.keepaliveMs);
      }, o.keepaliveMs).unref();
    }
  }

  /**
   * Hand over an HTTP upgrade from your own server (Express, Fastify, a bare http.Server). The
   * carrier is the one routed on the request's path, else `carrier`, else Twilio.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, carrier?: CarrierName): void {
    const o = this.options;
    if (this.io) {
      throw new PtimeError(
        ErrorCodes.INVALID_OPTION,
        "handleUpgrade() is not available with io: 'worker': the sockets live on ptime's I/O thread, which needs its own port, and Node cannot hand it a socket accepted here",
      );
    }
    const path = pathOf(req);
    const routed = Object.hasOwn(o.routes, path) ? o.routes[path] : undefined;
    const speaks = routed ?? carrier ?? 'twilio';
    const refusal = admitUpgrade(
      req,
      speaks,
      { auth: carrierAuth(o), maxCalls: o.maxCalls, retryAfterSec: o.retryAfterSec },
      { openStreams: this.openStreams(), unavailable: this.unavailable() },
    );
    if (refusal) {
      refuseUpgrade(socket, refusal.status, refusal.text, refusal.headers);
      this.count(refusal.code, refusal.message, null);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.closing) {
        ws.close(1001, 'server shutting down');
        return;
      }
      this.sessions.add(new StreamSession(ws, socket, this.sessionHost, adapterFor(speaks)));
    });
  }

  private unavailable(): Unavailable {
    if (this.pacerFailed) return { code: ErrorCodes.PACER_FAILED, message: 'the pacer has failed for good' };
    if (this.closing !== null) return { code: ErrorCodes.SHUTTING_DOWN, message: 'the server shuts down' };
    return null;
  }

  private openStreams(): number {
    let n = 0;
    for (const s of this.sessions) if (s.holdsSlot) n++;
    return n;
  }

  /** Where ptime's own server listens (null when attached or embedded). */
  address(): AddressInfo | null {
    if (this.io) {
      const host = this.options.host ?? '::'; // no host: Node listens on :: (every address)
      return { address: host, family: host.includes(':') ? 'IPv6' : 'IPv4', port: this.io.port };
    }
    const a = this.ownServer?.address();
    return a && typeof a === 'object' ? a : null;
  }

  get calls(): ReadonlySet<Call> {
    return this.liveCalls;
  }

  /** Timed wakes of the pacer thread so far. */
  get pacerTicks(): number {
    return this.pacer.ticks;
  }

  get pacerStats(): PacerStats | null {
    return this.lastPacerStats;
  }

  stats(): EngineStats {
    let framesSent = this.framesSentByClosedCalls;
    for (const line of this.liveLines) framesSent += line.stats().framesSent;
    return {
      calls: this.liveCalls.size,
      framesSent,
      rejected: Object.fromEntries(this.rejectedByCode),
      pacer: this.lastPacerStats,
      pacerTicks: this.pacer.ticks,
      pacerRestarts: this.pacerRestarts,
      pacerHangs: this.pacer instanceof PacerHost ? this.pacer.hangs : 0,
      io: this.options.io,
      ioRestarts: this.io?.restarts ?? 0,
      ioThread: this.io?.lastFigures ?? null,
      codec: this.codecPool.stats(),
    };
  }

  /**
   * The engine's Prometheus metrics (prom-client Registry, made on first use): merge it into your
   * own registry or serve it. Names and meanings in README, "Running in production".
   */
  get metrics(): Registry {
    return (this.metricsRegistry ??= engineMetrics(this));
  }

  private metricsRegistry: Registry | null = null;

  /** Live calls (for the metrics: their figures at scrape time). */
  liveCallList(): readonly Call[] {
    return [...this.liveCalls];
  }

  /**
   * For health probes. alive: the pacer thread is running and its ticks moved within `stallMs`
   * (checked against the last probe's reading); ready: alive, not shutting down and below maxCalls.
   */
  health(now = performance.now(), stallMs = 1000): { alive: boolean; ready: boolean; reason: string } {
    const ticks = this.pacer.ticks;
    if (ticks !== this.healthTicks) {
      this.healthTicks = ticks;
      this.healthTicksAt = now;
    }
    const state = this.pacer instanceof PacerHost ? this.pacer.state : 'running';
    if (this.pacerFailed || state === 'failed' || state === 'stopped')
      return { alive: false, ready: false, reason: `pacer ${state}` };
    if (this.healthTicksAt > 0 && now - this.healthTicksAt > stallMs && state === 'running') {
      return {
        alive: false,
        ready: false,
        reason: `pacer ticks stood still for ${Math.round(now - this.healthTicksAt)} ms`,
      };
    }
    if (this.closing !== null) return { alive: true, ready: false, reason: 'draining' };
    if (this.openStreams() >= this.options.maxCalls)
      return { alive: true, ready: false, reason: `at maxCalls (${this.options.maxCalls})` };
    return { alive: true, ready: true, reason: 'ok' };
  }

  private healthTicks = -1;
  private healthTicksAt = 0;

  /**
   * Diagnostics only: make the pacer thread fail for real, to watch calls ride through a restart
   * (see PacerHost.crashForDiagnostics). Resolves once the failure was handled.
   */
  crashPacerForDiagnostics(kind: PacerCrashKind = 'throw'): Promise<void> {
    if (!(this.pacer instanceof PacerHost)) {
      return Promise.reject(
        new PtimeError(
          ErrorCodes.INVALID_OPTION,
          'crashPacerForDiagnostics needs the pacer worker, not a replacement pacer',
        ),
      );
    }
    return this.pacer.crashForDiagnostics(kind);
  }

  /**
   * Graceful stop: refuse new streams (503), let every call's queued audio play out for up to
   * `drainMs` (default: the drainMs option) while refusing new audio ('ending'), then close every
   * socket with 1001, end the pacer and codec threads and free every handle.
   */
  close(options: { drainMs?: number } = {}): Promise<void> {
    if (!this.closing) {
      this.closing = this.shutdown(options.drainMs ?? this.options.drainMs);
      this.io?.setState(this.unavailable());
    }
    return this.closing;
  }

  /** io: 'worker': the I/O thread's CPU and event-loop delay (null with io: 'main'). */
  ioFigures(): { cpuPct: number | null; loopDelayP99Ms: number; loopDelayMaxMs: number } | null {
    return this.io?.figures() ?? null;
  }

  /**
   * Resolves once every socket event that happened before this call (inbound messages, refusals,
   * closes) has reached the calls and `stats()`. With io: 'main' they already have; with
   * io: 'worker' they come from the I/O thread one loop turn later.
   */
  settled(): Promise<void> {
    return this.io ? this.io.settled() : Promise.resolve();
  }

  /** Diagnostics and tests (io: 'worker'): make the I/O thread fail; resolves once a new one serves. */
  crashIoForDiagnostics(): Promise<void> {
    if (!this.io)
      return Promise.reject(new PtimeError(ErrorCodes.INVALID_OPTION, "crashIoForDiagnostics needs io: 'worker'"));
    return this.io.crashForDiagnostics();
  }

  private async shutdown(drainMs: number): Promise<void> {
    // Stay attached while draining, so upgrades on our path get a 503 rather than nobody's answer.
    await this.drainCalls(drainMs);
    this.detach?.();
    this.figures.stop();
    clearInterval(this.drainTimer);
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    if (this.io) {
      await this.io.closeAll(1001, 'server shutting down');
      for (const line of [...this.liveLines]) line.release(1001, 'engine closed');
      await Promise.all([this.pacer.stop(), this.codecPool.destroy(), this.recorder.stop()]);
      await this.io.stop();
      return;
    }
    const sockets = [...this.sessions].map((s) => s.ws);
    const closed = sockets.map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
    for (const ws of sockets) ws.close(1001, 'server shutting down');
    const grace = setTimeout(() => sockets.forEach((ws) => ws.terminate()), CLOSE_GRACE_MS);
    await Promise.all(closed);
    clearTimeout(grace);
    for (const line of [...this.liveLines]) line.release(1001, 'engine closed');
    await Promise.all([this.pacer.stop(), this.codecPool.destroy(), this.recorder.stop()]);
    this.handback?.close();
    if (this.ownServer) {
      const server = this.ownServer;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // close() alone would wait for idle keep-alive peers
      await closed;
    }
    this.wss.close();
  }

  /** Wait until no call has audio left to send (or the deadline), plus the lead already in flight. */
  private async drainCalls(drainMs: number): Promise<void> {
    const calls = [...this.liveLines];
    if (drainMs === 0 || calls.length === 0 || this.pacerFailed) return;
    for (const call of calls) call.beginEnding();
    const deadline = performance.now() + drainMs;
    const pending = (): number => calls.filter((c) => !c.drained).length;
    while (pending() > 0 && performance.now() < deadline) await sleep(DRAIN_POLL_MS);
    const left = pending();
    if (left > 0)
      this.logger.warn({ calls: left, drainMs }, 'drain deadline reached; closing calls with audio still queued');
    // Frames sent ahead of time (lead) are still in the carrier's buffer when our queue empties.
    else await sleep(Math.min(this.options.lead * 20, Math.max(0, deadline - performance.now())));
  }

  /**
   * No pacer will run again: a call kept open would only ever be silent, so each is closed with
   * 1011 and new ones are refused with 503, and the embedder hears 'error' to restart or exit.
   */
  private pacerGaveUp(err: Error): void {
    if (this.pacerFailed) return;
    this.pacerFailed = true;
    this.io?.setState(this.unavailable());
    this.logger.fatal({ err }, 'pacer worker failed for good; closing every call');
    for (const line of [...this.liveLines]) line.close(1011, 'pacer failed');
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** A stream started: its call's link for the socket side (either thread), or why not. */
  private linkedCall(start: StartInfo, transport: CallTransport): CallLink | PtimeError {
    const line = this.startCall(start, transport);
    return line instanceof CallLine ? linkTo(line) : line;
  }

  private startCall(start: StartInfo, transport: CallTransport): CallLine | PtimeError {
    // A socket upgraded just before close() may still send its start.
    const unavailable = this.unavailable();
    if (unavailable) return new ProtocolRejection(unavailable.code, `stream started while ${unavailable.message}`);
    const lane = this.lanes.acquire(start.format.frameBytes);
    if (!lane) return new ProtocolRejection(ErrorCodes.TOO_MANY_CALLS, 'no free lane (maxCalls reached)');
    transport.bindLane(lane.index, lane.ring.sab, lane.ring.owner, lane.ring.generation);
    const line = new CallLine(start, lane, transport, this.callContext);
    const call = line.call;
    const wire = adapterFor(start.carrier).mediaWire(call.streamSid, start.format);
    // Exact-size arrays, not Buffer.from's: a pooled Buffer is a view into an 8 KB slab, and the
    // open command would copy the whole slab to the pacer thread for every call, growing its heap.
    this.pacer.open(lane.index, lane.ring.sab, {
      ...wire,
      prefix: UTF8.encode(wire.prefix),
      suffix: UTF8.encode(wire.suffix),
    });
    this.liveLines.add(line);
    this.liveCalls.add(call);
    // customParameters carry what the app put there, often the caller's number: logged only on request.
    const params = this.options.logCallParameters
      ? { customParameters: call.customParameters }
      : { customParameterNames: Object.keys(call.customParameters) };
    call.logger.info(
      { ...params, lane: lane.index, carrier: start.carrier, format: formatName(start.format) },
      'call started',
    );
    this.totals.callsStarted++;
    safeEmit(this, this.logger, 'call', call);
    // The app's 'call' handlers have run: a call nobody listens to stops taking inbound media now.
    line.syncMediaWanted();
    return line;
  }

  private releaseCall(line: CallLine): void {
    if (!this.liveLines.delete(line)) return;
    this.liveCalls.delete(line.call);
    this.pacer.close(line.lane.index);
    this.lanes.release(line.lane);
    const s = line.stats();
    this.framesSentByClosedCalls += s.framesSent;
    this.totals.endedCall(s, line.closeCode ?? 1000);
    line.logger.info(
      {
        framesSent: s.framesSent,
        drops: s.drops,
        slowPeerDrops: s.slowPeerDrops,
        latencyDrops: s.latencyDrops,
        staleDiscarded: s.staleDiscarded,
        underruns: s.underruns,
        lateTicks: s.lateTicks,
        code: line.closeCode ?? 1000,
        marks: line.markOutcomes,
      },
      'call ended',
    );
  }

  private reject(err: PtimeError, session: StreamSession): void {
    const code = err instanceof PtimeError ? err.code : ErrorCodes.BAD_MESSAGE;
    this.count(code, err.message, session.call?.streamSid ?? null, session.call ?? undefined);
  }

  /** Every refusal (upgrade, message, slow peer) is counted by code and logged at most once per code per 2 s. */
  private count(code: ErrorCode, message: string, streamSid: string | null, call?: { countRejection(): void }): void {
    this.rejectedByCode.set(code, (this.rejectedByCode.get(code) ?? 0) + 1);
    call?.countRejection();
    let log = this.rejectionLogs.get(code);
    if (!log) {
      log = new ThrottledCount(REJECTION_LOG_MS, (n) =>
        this.logger.warn({ code, count: n, reason: this.lastReason.get(code) }, 'rejected'),
      );
      this.rejectionLogs.set(code, log);
    }
    this.lastReason.set(code, streamSid === null ? message : `${message} (streamSid ${streamSid})`);
    log.add(performance.now());
    safeEmit(this, this.logger, 'rejected', { code, message, streamSid });
  }

  /** Periodic housekeeping: flush throttled rejection counts whose period ended. */
  tickRejections(now: number): void {
    for (const log of this.rejectionLogs.values()) log.tick(now);
    this.sinkErrors.tick(now);
    this.codecPool.tick(now);
  }
}

/** Create and start an engine: `const engine = await createEngine({ port: 8080 })`. */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const engine = new Engine(options);
  try {
    await engine.start();
  } catch (err) {
    await engine.close();
    throw err;
  }
  return engine;
}
