import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { ErrorCodes, PtimeError } from '../errors.js';
import { AttentionWriter } from './attention-ring.js';
import { OpenLanes } from './open-lanes.js';
import type { PacerHostEvents, PacerPort } from './pacer-port.js';

export type { PacerHostEvents, PacerRestart } from './pacer-port.js';
import {
  C_ACKED,
  C_ATTN_RD,
  C_ATTN_WR,
  C_STALLS,
  C_TICKLOG_WR,
  C_TICKS,
  C_WAKE,
  attentionSlots,
  controlBytes,
  type LaneWire,
  type PacerCommand,
  type PacerHello,
  type PacerOptions,
} from './pacer-layout.js';
import { PacerStatsReader, threadSchedstat } from './pacer-stats-reader.js';
import { RestartPolicy, type RestartLimits } from './restart-policy.js';
import { setThreadFifo } from './thread-realtime.js';

/** How the host runs its worker, besides the pacing options. */
export interface PacerHostOptions extends RestartLimits {
  /** Lanes that may be open at once (the attention ring has a slot for each). */
  maxLanes: number;
  /**
   * Watchdog: a pacer whose tick count has not moved for this long while a lane has audio queued
   * is hung (an endless loop, a deadlock) and is terminated and restarted with reason 'hung'.
   * 0 = off.
   */
  stallMs: number;
  /** Period of the 'stats' event. */
  statsPeriodMs: number;
  /** Start every shared counter here instead of 0 (tests run them through the int32 wrap). */
  counterStart: number;
  /**
   * Where the batches go: called with this end of each new hand-back channel (at every worker
   * start, and again on newHandback()) and the control block, whose ACKED word the consumer
   * advances. The consumer (handback/handback-consumer.ts) runs on the thread that owns the sockets.
   */
  handbackTo: (port: MessagePort, control: SharedArrayBuffer) => void;
  /**
   * Run the pacer thread under SCHED_FIFO at this priority (1..99; Linux, CAP_SYS_NICE, util-linux
   * chrt), applied to every worker started. null: the normal scheduler.
   */
  realtimePriority: number | null;
}

const DEFAULT_HOST_OPTIONS = {
  maxLanes: 4096,
  stallMs: 500,
  statsPeriodMs: 1000,
  counterStart: 0,
  realtimePriority: null,
};

/** How crashForDiagnostics kills the worker ('hang' loops for ever until the watchdog acts). */
export type PacerCrashKind = 'throw' | 'exit' | 'terminate' | 'hang';

/** The restart reason when the watchdog ended a hung worker. */
export const HUNG_REASON = 'hung';

export type PacerHostState = 'running' | 'restarting' | 'stopped' | 'failed';

const WORKER_URL = new URL('../../workers/pacer.js', import.meta.url);
const STOP_GRACE_MS = 2000;

/**
 * Main-thread side of the pacer worker: starts it, sends it lane commands, supervises it. The
 * batches it hands back go to the hand-back consumer the host was given (handbackTo), never through
 * here. Main never blocks on Atomics: it only notifies.
 *
 * Supervision: if the worker throws or exits without being asked to, it is replaced. The lanes
 * are main's SharedArrayBuffers, so their queues survive; the host remembers every open lane and
 * the new worker gets an `open` for each (which parks the lane, so its schedule starts afresh on
 * the first step and main's `pacerIdle()` wake logic holds). The control block is reused (see
 * pacer-layout.ts). Frames lost: only those the dead worker had taken from a lane but not yet
 * posted — none when it dies between steps. Restarts back off and stop at a limit
 * (RestartPolicy); stop() never restarts.
 *
 * A watchdog covers the failure that raises no event: a worker that is alive but stuck. If the
 * tick count stands still for `stallMs` while some lane has audio queued, the worker is
 * terminated and restarted through the same path, with reason 'hung'.
 */
export class PacerHost extends EventEmitter<PacerHostEvents> implements PacerPort {
  private readonly control: SharedArrayBuffer;
  private readonly ctl: Int32Array;
  private readonly attentionSlots: number;
  private readonly attention: AttentionWriter;
  private readonly hostOptions: PacerHostOptions;
  private readonly statsReader: PacerStatsReader;
  private readonly lanes = new OpenLanes();
  private readonly monitorMs: number;
  private lastCheckAt = performance.now();
  /** Whether the current worker has ticked yet: before its first tick it gets a longer grace. */
  private tickedSinceSpawn = false;
  /** The pacer thread's scheduler figures when its ticks were first seen standing still. */
  private stallSched: { cpuNs: number; waitNs: number } | null = null;
  private starvedCount = 0;
  private readonly policy: RestartPolicy;
  private worker: Worker | null = null;
  private workerOnline = false;
  private commands: MessagePort | null = null;
  private workerError: Error | null = null;
  private hungWorker: Worker | null = null;
  private hostState: PacerHostState = 'running';
  private stopping: Promise<void> | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly monitor: NodeJS.Timeout;
  /** The outage in progress: when it was noticed, why, and the restart it is waiting for. */
  private outage: { at: number; reason: string; attempt: number } | null = null;
  private restartCount = 0;
  private hangCount = 0;
  private lastExitCode = 0;
  private failureWaiters: (() => void)[] = [];
  /** TICKS as last read, and the full count it extends to (the word wraps at 2^32). */
  private ticksRaw: number;
  private ticksTotal = 0;
  private lastProgressAt = performance.now();
  /** TICKS as the watchdog last saw it (its own copy: `ticks` readers elsewhere must not hide progress). */
  private watchedTicks: number;
  private lastStatsAt = performance.now();
  private resolveEnded!: (code: number) => void;
  private readonly ended = new Promise<number>((resolve) => (this.resolveEnded = resolve));

  constructor(
    private readonly options: PacerOptions,
    hostOptions: Partial<PacerHostOptions> & Pick<PacerHostOptions, 'handbackTo'>,
  ) {
    super();
    const { maxLanes, stallMs, statsPeriodMs, counterStart, handbackTo, realtimePriority, ...limits } = {
      ...DEFAULT_HOST_OPTIONS,
      ...hostOptions,
    };
    this.hostOptions = {
      maxLanes,
      stallMs,
      statsPeriodMs,
      counterStart,
      handbackTo,
      realtimePriority,
      ...(limits as RestartLimits),
    };
    this.attentionSlots = attentionSlots(maxLanes);
    this.control = new SharedArrayBuffer(controlBytes(this.attentionSlots));
    this.ctl = new Int32Array(this.control);
    if (counterStart !== 0) {
      for (const word of [C_TICKS, C_ACKED, C_STALLS, C_TICKLOG_WR, C_ATTN_RD, C_ATTN_WR])
        Atomics.store(this.ctl, word, counterStart | 0);
    }
    this.ticksRaw = Atomics.load(this.ctl, C_TICKS);
    this.watchedTicks = this.ticksRaw;
    this.attention = new AttentionWriter(this.control, this.attentionSlots);
    this.statsReader = new PacerStatsReader(this.control);
    this.policy = new RestartPolicy(limits, () => performance.now());
    // One timer for the watchdog and the stats; unref'd so an idle host never keeps a process up.
    this.monitorMs = Math.max(10, Math.min(100, stallMs > 0 ? stallMs / 5 : 100, statsPeriodMs));
    this.monitor = setInterval(() => this.check(), this.monitorMs).unref();
    this.spawn();
  }

  /** Timed wakes of the pacer so far (advances even while main is blocked; carries on across restarts). */
  get ticks(): number {
    const raw = Atomics.load(this.ctl, C_TICKS);
    // The word is int32 and wraps; the difference since the last read is exact while reads come
    // more often than every 2^32 ticks (the monitor reads it several times a second).
    this.ticksTotal += (raw - this.ticksRaw) >>> 0;
    this.ticksRaw = raw;
    return this.ticksTotal;
  }

  /** Crashed or hung workers replaced so far. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Times the watchdog found the worker hung. */
  get hangs(): number {
    return this.hangCount;
  }

  get state(): PacerHostState {
    return this.hostState;
  }

  /**
   * Start pacing a lane; its frames go out as `wire` says (LaneWire). The lane's OWNER word, set
   * by main when it handed the lane to this call, binds the wire prefix to the call.
   */
  open(lane: number, sab: SharedArrayBuffer, wire: LaneWire): void {
    if (!Number.isInteger(lane) || lane < 0 || lane >= this.hostOptions.maxLanes) {
      throw new PtimeError(
        ErrorCodes.INVALID_OPTION,
        `lane index must be an integer from 0 to maxLanes - 1 (${this.hostOptions.maxLanes - 1}); got ${lane}`,
      );
    }
    this.command(this.lanes.open(lane, sab, wire));
  }

  close(lane: number): void {
    this.lanes.close(lane);
    this.command({ op: 'close', lane });
  }

  /** Wake the pacer for `lane` (a parked lane got audio, or the lane was cleared). */
  wake(lane: number): void {
    const header = this.lanes.header(lane);
    if (header) this.attention.push(lane, header);
    this.notify();
  }

  /** End the worker; it is not restarted. Also cancels a restart that is waiting out its backoff. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /**
   * Diagnostics and tests only: make the running worker fail so the restart path can be exercised
   * for real. 'throw' throws an Error inside the worker's pacing loop (an uncaught exception: the
   * worker's 'error' then 'exit'); 'exit' calls process.exit(1) there (a bare exit, as an abort
   * would look); 'terminate' kills it from main with worker.terminate(), which can land mid-step;
   * 'hang' sends it into an endless loop, which only the watchdog ends (with audio queued).
   * The in-worker kinds run between two steps, so no frame is lost. Resolves once the host has
   * handled the failure: a restart is scheduled, or the limit was hit (then 'fatal' has fired).
   */
  crashForDiagnostics(kind: PacerCrashKind): Promise<void> {
    const worker = this.worker;
    if (!worker || this.stopping || this.hostState === 'failed') {
      return Promise.reject(
        new PtimeError(ErrorCodes.PACER_FAILED, `no pacer worker is running to crash (state: ${this.hostState})`),
      );
    }
    if (kind === 'hang' && this.hostOptions.stallMs === 0) {
      return Promise.reject(
        new PtimeError(
          ErrorCodes.INVALID_OPTION,
          "a 'hang' needs the watchdog (pacerStallMs > 0): nothing else would end it",
        ),
      );
    }
    const handled = new Promise<void>((resolve) => this.failureWaiters.push(resolve));
    if (kind === 'terminate') void worker.terminate();
    else this.command({ op: 'crash', kind });
    return handled;
  }

  private shutdown(): Promise<void> {
    if (this.hostState === 'stopped' || this.hostState === 'failed') return Promise.resolve();
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    const worker = this.worker;
    if (!worker) {
      this.end('stopped');
      this.emit('exit', this.lastExitCode);
      return Promise.resolve();
    }
    this.command({ op: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    return this.ended.then(() => clearTimeout(timer));
  }

  /**
   * io: 'worker': the I/O thread was replaced; give the running pacer a new hand-back channel (the
   * old one's reader is gone, with whatever batches it had not read).
   */
  newHandback(): void {
    if (!this.commands) return;
    const { port1, port2 } = new MessageChannel();
    this.hostOptions.handbackTo(port1, this.control);
    this.command({ op: 'handback', port: port2 }, [port2]);
  }

  private spawn(): void {
    this.restartTimer = null;
    const { port1, port2 } = new MessageChannel();
    const hb = new MessageChannel();
    let worker: Worker;
    try {
      worker = new Worker(WORKER_URL, {
        workerData: {
          control: this.control,
          attentionSlots: this.attentionSlots,
          commands: port2,
          handback: hb.port2,
          options: this.options,
        },
        transferList: [port2, hb.port2],
        name: 'ptime-pacer',
      });
    } catch (err) {
      port1.close();
      hb.port1.close();
      this.failed(`could not start the pacer worker: ${(err as Error).message}`);
      return;
    }
    this.hostOptions.handbackTo(hb.port1, this.control);
    this.worker = worker;
    this.workerOnline = false;
    this.commands = port1;
    this.workerError = null;
    this.policy.started();
    this.tickedSinceSpawn = false;
    // No worker runs now: the new one opens and looks at every lane, so pending attention goes.
    this.attention.reset(this.lanes.headers());
    // Queued on the port before the worker runs: its first drain opens every lane, then it steps.
    for (const open of this.lanes.reopenAll()) port1.postMessage(open satisfies PacerCommand);
    worker.on('message', (msg: PacerHello) => {
      if (msg.type !== 'hello') return;
      this.statsReader.hello(msg);
      const priority = this.hostOptions.realtimePriority;
      if (priority !== null)
        void setThreadFifo(msg.tid, priority).then((error) => this.emit('realtime', { priority, tid: msg.tid, error }));
    });
    worker.on('error', (err) => {
      if (this.worker === worker) this.workerError ??= err;
    });
    worker.once('online', () => {
      if (this.worker !== worker) return;
      this.workerOnline = true;
      this.lastProgressAt = performance.now();
      const outage = this.outage;
      if (!outage || this.stopping) return;
      this.outage = null;
      this.hostState = 'running';
      this.restartCount++;
      this.emit('restart', { attempt: outage.attempt, reason: outage.reason, downMs: performance.now() - outage.at });
    });
    worker.once('exit', (code) => this.exited(worker, code));
  }

  private exited(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.workerOnline = false;
    this.commands?.close();
    this.commands = null;
    this.lastExitCode = code;
    if (this.stopping) {
      this.end('stopped');
      this.emit('exit', code);
      return;
    }
    const err = this.workerError;
    if (this.hungWorker === worker) this.failed(HUNG_REASON);
    else this.failed(err ? `pacer worker threw: ${err.message}` : `pacer worker exited with code ${code}`);
  }

  private failed(reason: string): void {
    const now = performance.now();
    // A replacement that dies before it runs extends the same outage.
    if (this.outage) this.outage.reason = reason;
    else this.outage = { at: now, reason, attempt: 0 };
    const decision = this.policy.failed(reason);
    if (!decision.restart) {
      this.end('failed');
      // An 'error' nobody handles throws, as Node's convention wants, unless 'fatal' was handled.
      // (Counted before emitting: a once('fatal') listener is gone afterwards.)
      const fatalHandled = this.listenerCount('fatal') > 0;
      try {
        this.emit('fatal', decision.error);
        if (!fatalHandled || this.listenerCount('error') > 0) this.emit('error', decision.error);
      } finally {
        this.emit('exit', this.lastExitCode);
      }
      return;
    }
    this.hostState = 'restarting';
    this.outage.attempt = decision.attempt;
    this.restartTimer = setTimeout(() => this.spawn(), decision.delayMs);
    this.notifyFailureHandled();
  }

  /** The pacer is gone for good; the caller emits 'exit' once it has said why. */
  private end(state: 'stopped' | 'failed'): void {
    this.hostState = state;
    this.outage = null;
    clearInterval(this.monitor);
    this.resolveEnded(this.lastExitCode);
    this.notifyFailureHandled();
  }

  private notifyFailureHandled(): void {
    const waiters = this.failureWaiters;
    this.failureWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private notify(): void {
    Atomics.add(this.ctl, C_WAKE, 1);
    Atomics.notify(this.ctl, C_WAKE);
  }

  private command(cmd: PacerCommand, transfer: MessagePort[] = []): void {
    // No worker (between a crash and its replacement): the lane table carries open/close over.
    if (!this.commands) return;
    this.commands.postMessage(cmd, transfer);
    this.notify();
  }

  /** The monitor timer: the watchdog, then the stats when their period is up. */
  private check(): void {
    const now = performance.now();
    this.watchdog(now);
    this.statsReader.drainLog();
    if (now - this.lastStatsAt >= this.hostOptions.statsPeriodMs) {
      const stats = this.statsReader.read(now - this.lastStatsAt, this.ticks);
      this.lastStatsAt = now;
      this.emit('stats', stats);
    }
  }

  private watchdog(now: number): void {
    const stallMs = this.hostOptions.stallMs;
    const worker = this.worker;
    const raw = Atomics.load(this.ctl, C_TICKS);
    const moved = raw !== this.watchedTicks;
    this.watchedTicks = raw;
    if (moved) this.tickedSinceSpawn = true;
    // This check came late: the whole process was paused (SIGSTOP, a VM pause, CPU throttling), so
    // nothing was watched and the pacer may not have had a chance to tick either.
    const late = now - this.lastCheckAt > 3 * this.monitorMs;
    this.lastCheckAt = now;
    // The clock runs only while a running worker has audio waiting and its ticks stand still.
    if (
      stallMs === 0 ||
      !worker ||
      !this.workerOnline ||
      this.stopping ||
      this.hungWorker === worker ||
      moved ||
      late ||
      !this.lanes.audioQueued()
    ) {
      this.lastProgressAt = now;
      this.stallSched = null;
      return;
    }
    const tid = this.statsReader.tid;
    this.stallSched ??= threadSchedstat(tid);
    const stalledMs = now - this.lastProgressAt;
    // A worker that has not ticked yet is still loading its modules: give it ten times as long.
    if (stalledMs < (this.tickedSinceSpawn ? stallMs : stallMs * 10)) return;
    const sched = threadSchedstat(tid);
    if (sched && this.stallSched && (sched.waitNs - this.stallSched.waitNs) / 1e6 > stalledMs / 2) {
      // Most of the time went waiting for a CPU: the machine is overloaded, the pacer is not stuck.
      // Killing it would only add a restart to the overload.
      this.starvedCount++;
      this.emit('starved', { stalledMs, waitMs: (sched.waitNs - this.stallSched.waitNs) / 1e6 });
      this.lastProgressAt = now;
      this.stallSched = sched;
      return;
    }
    this.hangCount++;
    this.hungWorker = worker;
    this.emit('hung', { stalledMs });
    void worker.terminate();
  }

  /** Times the watchdog found the ticks standing still but the thread waiting for a CPU (not restarted). */
  get starved(): number {
    return this.starvedCount;
  }
}
