import type { MessagePort } from 'node:worker_threads';
/**
 * What the main thread and the pacer worker share besides the lanes: the control block and the
 * format of the hand-back batches. Both sides import only this file for it.
 *
 * Control block (one SharedArrayBuffer; offsets in Int32 words unless named *_BYTE):
 *
 *   byte 0    +--- line 0: changed by MAIN (Atomics.add + notify) ---------------------+
 *             | WAKE  (bumped to wake the pacer out of Atomics.wait)                     |
 *   byte 64   +--- line 1: written by the PACER only ------------------------------------+
 *             | TICKS | STALLS | TID | HEAP_KB | TICKLOG_WR | ATTN_RD | BATCH_ALLOCS |
 *             | BATCHES | SPIN_US                                                      |
 *   byte 128  +--- line 2: written by MAIN only ---------------------------------------+
 *             | ACKED (batches main has dispatched) | ATTN_WR                            |
 *   byte 192  +--- loop profile: Float64 sums written by the PACER only ---------------+
 *   byte 320  +--- tick log: TICKLOG_SIZE int32 (tick |error| µs, then overshoot µs) ---+
 *             +--- attention ring: ATTN slots of int32 lane indices (main → pacer) ------+
 *
 * Every int32 counter is free-running and compared only by difference, `(a - b) | 0`, so they
 * wrap after 2^31 (124 days of batches at 4 phases) without harm. Main extends the ones it
 * reports (TICKS) to full numbers by adding those differences up.
 *
 * The block outlives a worker: when PacerHost restarts a crashed pacer, the new worker takes the
 * same block and carries TICKS on from where the old one stopped, and starts counting its batches
 * at ACKED (every batch the old worker posted was dispatched before its exit event, and one it
 * never posted is owed by no one), so the hand-back backlog starts at zero.
 *
 * The timing thread does no I/O and encodes nothing: it writes each tick's |error| and its
 * Atomics.wait overshoot into the tick log, and main turns them into histograms, reads the
 * thread's CPU time from /proc and emits the stats once a second.
 *
 * A hand-back batch is one transferred ArrayBuffer: an 8-byte header whose first word is the
 * number of bytes used (header included), then records, each 4-byte aligned:
 *
 *   | LANE u32 | GEN u32 | KIND u32 | VALUE u32 | OWNER u32 | VALUE bytes of WebSocket frame, padded to 4 |
 *
 * For a frame VALUE is the byte length of the whole WebSocket frame that carries the message
 * (header included, see ws-frame.ts: e.g. the complete Twilio `media` JSON as one text frame); for a
 * mark VALUE is the mark id and no bytes follow (main sends the mark message it built at mark()).
 * OWNER is the lane owner the pacer built the record for; main drops a record whose owner is not
 * the lane's current one. Main returns a batch's buffer for reuse once no socket holds a view
 * into it, so in steady state the pacer allocates none.
 */
export const C_WAKE = 0;
export const C_TICKS = 16;
export const C_STALLS = 17;
export const C_TID = 18;
export const C_HEAP_KB = 19;
export const C_TICKLOG_WR = 20;
export const C_ATTN_RD = 21;
export const C_BATCH_ALLOCS = 22;
export const C_BATCHES = 23;
export const C_SPIN_US = 24;
export const C_ACKED = 32;
export const C_ATTN_WR = 33;

/** Loop profile sums (Float64 index into the block at PROFILE_BYTE). */
export const PROFILE_BYTE = 192;
export const P_WAKES = 0;
export const P_STEP_MS = 1;
export const P_POST_MS = 2;
export const P_SPIN_MS = 3;
export const P_OVERSHOOT_MS = 4;
export const P_FRAMES = 5;
export const P_VISITS = 6;
export const P_CLOCK_READS = 7;
export const PROFILE_FIELDS = 16;

export const TICKLOG_BYTE = PROFILE_BYTE + PROFILE_FIELDS * 8;
/** Entries in the tick log: 2 per tick, so 8192 ticks, 10 s at 4 phases, before main must read. */
export const TICKLOG_SIZE = 16384;
export const ATTN_BYTE = TICKLOG_BYTE + TICKLOG_SIZE * 4;

/** Attention ring slots for `maxLanes` lanes: each lane is in it at most once (H_ATTN). */
export function attentionSlots(maxLanes: number): number {
  let n = 16;
  while (n < maxLanes) n *= 2;
  return n;
}

export function controlBytes(attnSlots: number): number {
  return ATTN_BYTE + attnSlots * 4;
}

export const BATCH_HEADER_BYTES = 8;
export const R_LANE = 0;
export const R_GEN = 1;
export const R_KIND = 2;
export const R_VALUE = 3;
export const R_OWNER = 4;
export const RECORD_HEADER_BYTES = 20;
/**
 * A frame record's KIND word also carries how many 20 ms frames its message holds (above 1 only
 * for batching carriers), so the sender counts frames, not messages.
 */
export const FRAMES_SHIFT = 8;

export interface PacerOptions {
  /** Frames kept ahead of real time (Twilio buffers them; `clear` flushes them). */
  lead: number;
  /** Busy-wait before each deadline, in microseconds (where the adaptive spin starts). */
  spinUs: number;
  /** Size the busy-wait from the measured Atomics.wait overshoot, between spinMinUs and spinMaxUs. */
  adaptiveSpin?: boolean;
  /** Floor of the adaptive spin, µs. Default spinUs (it only grows). */
  spinMinUs?: number;
  /** Ceiling of the adaptive spin, µs. Default 2000. */
  spinMaxUs?: number;
  /** Lane start times snap to a grid of 20/phases ms, spreading calls over the period. */
  phases: number;
  /** Above 0: use only as many of those phases as keep each wake under this many lanes. */
  lanesPerWake?: number;
  /** Frames the pacer sends to catch up after waking late before it re-bases instead. */
  catchUpFrames: number;
  /** A frame sent more than this after its due time counts as a late tick. */
  lateMs: number;
  /**
   * Unacknowledged batches after which the pacer stops taking frames (main is stuck). It also
   * bounds the batch buffers that exist: the pacer keeps every one that comes back (up to this plus
   * MAX_PARKED_BATCHES), so after the first long stall it allocates none.
   */
  maxInflightBatches: number;
  /** Nice value for the pacer thread alone (Linux: setpriority on the calling thread); null = leave. */
  nice: number | null;
  /**
   * The pacer thread's timer slack, ns (Linux: its own /proc/TID/timerslack_ns). The kernel may
   * fire a timed Atomics.wait up to this late so it can batch wake-ups, 50 µs by default, and the
   * spin has to cover that. Unset or null = leave the OS default.
   */
  timerSlackNs?: number | null;
}

/**
 * How the pacer builds one call's outbound media messages. Text carriers: `prefix + base64(audio)
 * + suffix`, the carrier's JSON around the payload. Binary carriers (`binary`): the raw frame,
 * prefix and suffix empty. `framesPerMessage` above 1 puts up to that many consecutive frames in
 * one message (Exotel's minimum message size); the schedule still advances 20 ms per frame.
 */
export interface LaneWire {
  readonly prefix: Uint8Array;
  readonly suffix: Uint8Array;
  readonly binary: boolean;
  readonly framesPerMessage: number;
}

export type PacerCommand =
  /** `sab` only when this worker has not been sent this lane's buffer yet: it keeps each one it got. */
  | { op: 'open'; lane: number; owner: number; sab?: SharedArrayBuffer; wire: LaneWire }
  | { op: 'close'; lane: number }
  /** Post batches to this port from now on (the I/O thread that received them was replaced). */
  | { op: 'handback'; port: MessagePort }
  | { op: 'stop' }
  /** Diagnostics only (PacerHost.crashForDiagnostics): fail the way a bug or an abort would. */
  | { op: 'crash'; kind: PacerWorkerCrashKind };

/** Failures the worker can be asked to stage (diagnostics and tests): 'hang' is an endless loop. */
export type PacerWorkerCrashKind = 'throw' | 'exit' | 'hang';

/** The worker's first message: who it is, for main's /proc reads and logs. */
export interface PacerHello {
  type: 'hello';
  /** Kernel thread id (Linux), for /proc/self/task/TID/schedstat; 0 where unknown. */
  tid: number;
  nice: number | null;
  niceError: string | null;
  /** The thread's timer slack as read back after setting it (null where unknown), and why setting failed. */
  timerSlackNs: number | null;
  timerSlackError: string | null;
}

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
  /** The pacer thread's timer slack, ns (null where the OS does not say), and why setting it failed. */
  timerSlackNs: number | null;
  timerSlackError: string | null;
  /** How far Atomics.wait overslept its timeout, µs, over the last period. */
  overshootUs: HistogramFigures;
  /** Where the pacer thread's time went over the last period. */
  loop: PacerLoopFigures;
  /** Hand-back buffers the pacer has allocated since start (flat in steady state: main returns them). */
  batchAllocations: number;
  /** Tick samples main could not read in time (the tick log wrapped while main was stalled). */
  samplesLost: number;
}

export interface PacerLoopFigures {
  wakesPerSec: number;
  /** Mean per wake, µs: PacerCore.step (visiting lanes and building messages), postMessage, spin. */
  stepUs: number;
  postUs: number;
  spinUs: number;
  framesPerWake: number;
  /** Lanes the pacer looked at per wake (the ones due, and the ones main flagged). */
  visitsPerWake: number;
  /** The spin the pacer uses now, µs (it follows the measured overshoot when spin is adaptive). */
  spinSettingUs: number;
  /** Clock reads per wake (each allocates on the pacer thread's heap: SpinWait keeps them few). */
  clockReadsPerWake: number;
}

export interface HistogramFigures {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * Batches the sending thread parks while sockets still hold views into them (held-batches.ts);
 * past this the oldest is left to the GC. The pacer's pool has room for these too.
 */
export const MAX_PARKED_BATCHES = 64;
