import type { EventEmitter } from 'node:events';
import type { PtimeError } from '../errors.js';
import type { LaneWire, PacerOptions, PacerStats } from './pacer-layout.js';

/** Receives the records the pacer hands back for one lane. */
export interface LaneSink {
  /**
   * A due frame: `wire` is the complete Twilio `media` message, ready for ws.send. A Buffer is a
   * view into a batch that is reused once every sink has returned: return true if something still
   * holds the view afterwards (a socket that queued it), and the batch is left to the GC instead.
   */
  onFrame(gen: number, wire: Buffer | string, frames: number): boolean;
  onMark(gen: number, markId: number): void;
  /**
   * After onFrame returned true: whether the view may still be read (the socket has not written
   * it out yet). With it, the batch goes back to the pacer once every holder says false; without
   * it, a held batch is left to the GC and the pacer allocates another.
   */
  holding?(): boolean;
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
  /** A lane's sink threw; the other lanes of the batch were still delivered. */
  sinkError: [{ lane: number; error: unknown }];
  /** The watchdog found the pacer hung and is terminating it (a 'restart' with reason 'hung' follows). */
  hung: [{ stalledMs: number }];
  /** The ticks stood still, but the pacer thread spent that time waiting for a CPU: not restarted. */
  starved: [{ stalledMs: number; waitMs: number }];
  /** A crashed worker was replaced; the lanes kept their queues. */
  restart: [PacerRestart];
  /** pacerRealtime: the pacer thread was put under SCHED_FIFO (error null), or could not be. */
  realtime: [{ priority: number; tid: number; error: string | null }];
  /** The restart limit was hit: no pacer runs any more (PTIME_ERR_PACER_FAILED). Then 'error'. */
  fatal: [PtimeError];
  /** Only the fatal failure, after 'fatal', and only when someone listens to either event. */
  error: [Error];
  /** The pacer is gone for good (stop() or fatal), with the last worker's exit code. */
  exit: [number];
}

/**
 * What the engine needs from a pacer. The pacer worker (PacerHost) is the one ptime ships; the
 * benchmark swaps in main-thread baselines through `EngineOptions.pacer` to compare designs behind
 * the same server and application.
 *
 * Events (PacerHostEvents): 'stats'; 'restart' when a crashed pacer was replaced (calls go on);
 * 'fatal' and then 'error' when it cannot be kept running (PTIME_ERR_PACER_FAILED); 'exit' once
 * it is gone for good. A pacer without a thread of its own never emits 'restart' or 'fatal'.
 */
export interface PacerPort extends EventEmitter<PacerHostEvents> {
  /** Timed wakes so far. */
  readonly ticks: number;
  open(lane: number, sab: SharedArrayBuffer, wire: LaneWire, sink: LaneSink): void;
  close(lane: number): void;
  /** Lane `lane` needs the pacer now: a parked lane got audio, or the lane was cleared. */
  wake(lane: number): void;
  stop(): Promise<void>;
}

export type PacerFactory = (options: PacerOptions) => PacerPort;
