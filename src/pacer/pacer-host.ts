import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { ErrorCodes, PtimeError } from '../errors.js';
import { readBatch, type BatchVisitor } from './batch-reader.js';
import type { PacerPort } from './pacer-port.js';
import {
  C_ACKED,
  C_TICKS,
  C_WAKE,
  CONTROL_BYTES,
  type PacerCommand,
  type PacerOptions,
  type PacerStats,
} from './pacer-layout.js';
import { RestartPolicy, type RestartLimits } from './restart-policy.js';

/** Receives the records the pacer hands back for one lane. */
export interface LaneSink {
  /** A due frame: `wire` is the complete Twilio `media` message, ready for ws.send. */
  onFrame(gen: number, wire: Buffer | string): void;
  onMark(gen: number, markId: number): void;
}

/** A crashed pacer worker was replaced and is pacing every open lane again. */
export interface PacerRestart {
  /** Restart number in the current streak (1 = the first since the pacer last ran healthily). */
  attempt: number;
  /** Why the previous worker ended: its uncaught error's message, or its exit code. */
  reason: string;
  /** From noticing the failure to the replacement running, backoff delay included. */
  downMs: number;
}

export interface PacerHostEvents {
  stats: [PacerStats];
  /** A crashed worker was replaced; the lanes kept their queues. */
  restart: [PacerRestart];
  /** The restart limit was hit: no pacer runs any more (PTIME_ERR_PACER_FAILED). Then 'error'. */
  fatal: [PtimeError];
  /** Only the fatal failure, after 'fatal', and only when someone listens to either event. */
  error: [Error];
  /** The pacer is gone for good (stop() or fatal), with the last worker's exit code. */
  exit: [number];
}

/** How crashForDiagnostics kills the worker. */
export type PacerCrashKind = 'throw' | 'exit' | 'terminate';

export type PacerHostState = 'running' | 'restarting' | 'stopped' | 'failed';

/** What a replacement worker needs to take an open lane over. */
interface OpenLane {
  readonly sab: SharedArrayBuffer;
  readonly prefix: Uint8Array;
  readonly suffix: Uint8Array;
  readonly sink: LaneSink;
}

const WORKER_URL = new URL('../../workers/pacer.js', import.meta.url);
const STOP_GRACE_MS = 2000;

/**
 * Main-thread side of the pacer worker: starts it, sends lane commands, and dispatches each
 * handed-back batch to the lane sinks. Main never blocks on Atomics: it only notifies.
 *
 * Supervision: if the worker throws or exits without being asked to, it is replaced. The lanes
 * are main's SharedArrayBuffers, so their queues survive; the host remembers every open lane and
 * the new worker gets an `open` for each (which parks the lane, so its schedule starts afresh on
 * the first step and main's `pacerIdle()` wake logic holds). The control block is reused (see
 * pacer-layout.ts). Frames lost: only those the dead worker had taken from a lane but not yet
 * posted — none when it dies between steps. Restarts back off and stop at a limit
 * (RestartPolicy); stop() never restarts.
 */
export class PacerHost extends EventEmitter<PacerHostEvents> implements PacerPort {
  private readonly control = new SharedArrayBuffer(CONTROL_BYTES);
  private readonly ctl = new Int32Array(this.control);
  private readonly lanes: (OpenLane | undefined)[] = [];
  private readonly policy: RestartPolicy;
  private worker: Worker | null = null;
  private commands: MessagePort | null = null;
  private workerError: Error | null = null;
  private hostState: PacerHostState = 'running';
  private stopping: Promise<void> | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  /** The outage in progress: when it was noticed, why, and the restart it is waiting for. */
  private outage: { at: number; reason: string; attempt: number } | null = null;
  private restartCount = 0;
  private lastExitCode = 0;
  private failureWaiters: (() => void)[] = [];
  private readonly visitor: BatchVisitor = {
    frame: (lane, gen, wire) => this.lanes[lane]?.sink.onFrame(gen, wire),
    mark: (lane, gen, markId) => this.lanes[lane]?.sink.onMark(gen, markId),
  };
  private resolveEnded!: (code: number) => void;
  private readonly ended = new Promise<number>((resolve) => (this.resolveEnded = resolve));

  constructor(
    private readonly options: PacerOptions,
    restartLimits: Partial<RestartLimits> = {},
  ) {
    super();
    this.policy = new RestartPolicy(restartLimits, () => performance.now());
    this.spawn();
  }

  /** Timed wakes of the pacer so far (advances even while main is blocked; carries on across restarts). */
  get ticks(): number {
    return Atomics.load(this.ctl, C_TICKS);
  }

  /** Crashed workers replaced so far. */
  get restarts(): number {
    return this.restartCount;
  }

  get state(): PacerHostState {
    return this.hostState;
  }

  /** Start pacing a lane; each frame goes out as `prefix + base64(frame) + suffix`. */
  open(lane: number, sab: SharedArrayBuffer, prefix: Uint8Array, suffix: Uint8Array, sink: LaneSink): void {
    this.lanes[lane] = { sab, prefix, suffix, sink };
    this.command({ op: 'open', lane, sab, prefix, suffix });
  }

  close(lane: number): void {
    this.lanes[lane] = undefined;
    this.command({ op: 'close', lane });
  }

  /** Wake the pacer out of Atomics.wait (a parked lane got audio, or a lane was cleared). */
  wake(): void {
    Atomics.add(this.ctl, C_WAKE, 1);
    Atomics.notify(this.ctl, C_WAKE);
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
   * would look); 'terminate' kills it from main with worker.terminate(), which can land mid-step.
   * Both in-worker kinds run between two steps, so no frame is lost. Resolves once the host has
   * handled the failure: a restart is scheduled, or the limit was hit (then 'fatal' has fired).
   */
  crashForDiagnostics(kind: PacerCrashKind): Promise<void> {
    const worker = this.worker;
    if (!worker || this.stopping || this.hostState === 'failed') {
      return Promise.reject(new PtimeError(ErrorCodes.PACER_FAILED, `no pacer worker is running to crash (state: ${this.hostState})`));
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

  private spawn(): void {
    this.restartTimer = null;
    const { port1, port2 } = new MessageChannel();
    let worker: Worker;
    try {
      worker = new Worker(WORKER_URL, {
        workerData: { control: this.control, commands: port2, options: this.options },
        transferList: [port2],
        name: 'ptime-pacer',
      });
    } catch (err) {
      port1.close();
      this.failed(`could not start the pacer worker: ${(err as Error).message}`);
      return;
    }
    this.worker = worker;
    this.commands = port1;
    this.workerError = null;
    this.policy.started();
    // Queued on the port before the worker runs: its first drain opens every lane, then it steps.
    for (let i = 0; i < this.lanes.length; i++) {
      const l = this.lanes[i];
      if (l) port1.postMessage({ op: 'open', lane: i, sab: l.sab, prefix: l.prefix, suffix: l.suffix } satisfies PacerCommand);
    }
    worker.on('message', (msg: ArrayBuffer | PacerStats) => {
      if (msg instanceof ArrayBuffer) this.dispatch(msg);
      else this.emit('stats', msg);
    });
    worker.on('error', (err) => {
      if (this.worker === worker) this.workerError ??= err;
    });
    worker.once('online', () => {
      const outage = this.outage;
      if (this.worker !== worker || !outage || this.stopping) return;
      this.outage = null;
      this.hostState = 'running';
      this.restartCount++;
      this.emit('restart', { attempt: outage.attempt, reason: outage.reason, downMs: performance.now() - outage.at });
    });
    // Node dispatches every message the worker posted before it emits 'exit', so by now each
    // batch of this worker has been handed to the sinks and acknowledged.
    worker.once('exit', (code) => this.exited(worker, code));
  }

  private exited(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.commands?.close();
    this.commands = null;
    this.lastExitCode = code;
    if (this.stopping) {
      this.end('stopped');
      this.emit('exit', code);
      return;
    }
    const err = this.workerError;
    this.failed(err ? `pacer worker threw: ${err.message}` : `pacer worker exited with code ${code}`);
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
    this.resolveEnded(this.lastExitCode);
    this.notifyFailureHandled();
  }

  private notifyFailureHandled(): void {
    const waiters = this.failureWaiters;
    this.failureWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private command(cmd: PacerCommand): void {
    // No worker (between a crash and its replacement): the lane table carries open/close over.
    if (!this.commands) return;
    this.commands.postMessage(cmd);
    this.wake();
  }

  private dispatch(batch: ArrayBuffer): void {
    // The batch was transferred to us and is never reused, so the frame views need no copy.
    try {
      readBatch(batch, this.visitor);
    } finally {
      Atomics.add(this.ctl, C_ACKED, 1); // a throwing sink must not leave the backlog owed forever
    }
  }
}
