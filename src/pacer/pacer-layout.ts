/**
 * What the main thread and the pacer worker share besides the lanes: the control block and the
 * format of the hand-back batches. Both sides import only this file for it.
 *
 * Control block (Int32 words, one SharedArrayBuffer):
 *
 *   byte 0    +--- line 0: changed by MAIN (Atomics.add + notify) ---------+
 *             | WAKE  (bumped to wake the pacer out of Atomics.wait)         |
 *   byte 64   +--- line 1: written by the PACER only ------------------------+
 *             | TICKS | POSTED (batches handed back)                         |
 *   byte 128  +--- line 2: written by MAIN only ----------------------------+
 *             | ACKED (batches main has finished sending)                    |
 *             +-------------------------------------------------------------+
 *
 * The block outlives a worker: when PacerHost restarts a crashed pacer, the new worker takes the
 * same block and carries TICKS on from where the old one stopped, and starts POSTED at ACKED
 * (every batch the old worker posted was dispatched before its exit event, and one it never
 * posted is owed by no one), so the hand-back backlog starts at zero.
 *
 * A hand-back batch is one transferred ArrayBuffer of records, each 4-byte aligned:
 *
 *   | LANE u32 | GEN u32 | KIND u32 | VALUE u32 | VALUE bytes of wire message, padded to 4 |
 *
 * For a frame VALUE is the wire message's byte length (the complete Twilio `media` JSON); for a
 * mark VALUE is the mark id and no bytes follow (main sends the mark message it built at mark()).
 */
export const C_WAKE = 0;
export const C_TICKS = 16;
export const C_POSTED = 17;
export const C_ACKED = 32;
export const CONTROL_BYTES = 192;

export const R_LANE = 0;
export const R_GEN = 1;
export const R_KIND = 2;
export const R_VALUE = 3;
export const RECORD_HEADER_BYTES = 16;

export interface PacerOptions {
  /** Frames kept ahead of real time (Twilio buffers them; `clear` flushes them). */
  lead: number;
  /** Busy-wait before each deadline, in microseconds. */
  spinUs: number;
  /** Lane start times snap to a grid of 20/phases ms, spreading calls over the period. */
  phases: number;
  /** Frames the pacer sends to catch up after waking late before it re-bases instead. */
  catchUpFrames: number;
  /** A frame sent more than this after its due time counts as a late tick. */
  lateMs: number;
  /** Unacknowledged batches after which the pacer stops taking frames (main is stuck). */
  maxInflightBatches: number;
  /** Nice value for the pacer thread alone (Linux: setpriority on the calling thread); null = leave. */
  nice: number | null;
}

export type PacerCommand =
  | { op: 'open'; lane: number; sab: SharedArrayBuffer; prefix: Uint8Array; suffix: Uint8Array }
  | { op: 'close'; lane: number }
  | { op: 'stop' }
  /** Diagnostics only (PacerHost.crashForDiagnostics): fail the way a bug or an abort would. */
  | { op: 'crash'; kind: 'throw' | 'exit' };

export interface PacerStats {
  type: 'stats';
  /** Timed wakes since start (advances while the main thread is blocked). */
  ticks: number;
  /** Tick |error| in microseconds over the last period and since start. */
  tickErrorUs: HistogramFigures;
  tickErrorUsTotal: HistogramFigures;
  /** The last period's tick |error| histogram (hdr-histogram-js compressed base64), so a reader
   * can add periods together for exact percentiles over any window. */
  tickErrorHistogram: string;
  /** CPU time the pacer thread used in the last period, in ns; null where the OS does not say. */
  cpuNs: number | null;
  /** The pacer thread's own V8 heap in use (its isolate's; main's heap figure does not include it). */
  heapUsedBytes: number;
  periodMs: number;
  /** Times the pacer held frames back because main had not drained earlier batches. */
  handbackStalls: number;
  /** The pacer thread's nice value, and why setting it failed (null when it did not). */
  nice: number | null;
  niceError: string | null;
}

export interface HistogramFigures {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}
