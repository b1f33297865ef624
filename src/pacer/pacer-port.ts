import type { EventEmitter } from 'node:events';
import type { PtimeError } from '../errors.js';
import type { LaneWire, PacerOptions, PacerStats } from './pacer-layout.js';

/**
 * Where one lane's handed-back records go on the sending thread: the call's egress (its socket), or
 * a test's recorder.
 */
export interface LaneSink {
  /**
   * A due frame. A Buffer is the carrier's complete media message as one whole WebSocket frame,
   * header included (ws-frame.ts), written to the socket as it is; it is a view into a batch that
   * goes back to the pacer for reuse: return true if something still holds the view afterwards (a
   * socket that queued it without copying). A string is the message alone (the main-thread
   * baselines of bench/ build theirs that way), sent through `ws`.
   */
  onFrame(gen: number, wire: Buffer | string, frames: number): boolean;
  onMark(gen: number, markId: number): void;
  /**
   * After onFrame returned true: whether the view may still be read. With it, the batch goes back
   * to the pacer once every holder says false; without it, a held batch is left to the GC.
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
  /** Start pacing a lane; its frames go out as `wire` says, to the sink bound to the lane for the sending thread. */
  open(lane: number, sab: SharedArrayBuffer, wire: LaneWire): void;
  close(lane: number): void;
  /** Lane `lane` needs the pacer now: a parked lane got audio, or the lane was cleared. */
  wake(lane: number): void;
  stop(): Promise<void>;
}

/**
 * A replacement pacer (main thread only): `sinks(lane)` is where that lane's frames and marks go,
 * the same sinks the hand-back consumer gives the pacer worker's batches to.
 */
export type PacerFactory = (options: PacerOptions, sinks: (lane: number) => LaneSink | undefined) => PacerPort;
