import type { EventEmitter } from 'node:events';
import type { PacerHostEvents, LaneSink } from './pacer-host.js';
import type { PacerOptions } from './pacer-layout.js';

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
  open(lane: number, sab: SharedArrayBuffer, prefix: Uint8Array, suffix: Uint8Array, sink: LaneSink): void;
  close(lane: number): void;
  /** Lane `lane` needs the pacer now: a parked lane got audio, or the lane was cleared. */
  wake(lane: number): void;
  stop(): Promise<void>;
}

export type PacerFactory = (options: PacerOptions) => PacerPort;
