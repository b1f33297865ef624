import type { EventEmitter } from 'node:events';
import type { PacerHostEvents, LaneSink } from './pacer-host.js';
import type { PacerOptions } from './pacer-layout.js';

/**
 * What the engine needs from a pacer. The pacer worker (PacerHost) is the one ptime ships; the
 * benchmark swaps in main-thread baselines through `EngineOptions.pacer` to compare designs behind
 * the same server and application.
 */
export interface PacerPort extends EventEmitter<PacerHostEvents> {
  /** Timed wakes so far. */
  readonly ticks: number;
  open(lane: number, sab: SharedArrayBuffer, prefix: Uint8Array, suffix: Uint8Array, sink: LaneSink): void;
  close(lane: number): void;
  /** A parked lane got audio, or a lane was cleared. */
  wake(): void;
  stop(): Promise<void>;
}

export type PacerFactory = (options: PacerOptions) => PacerPort;
