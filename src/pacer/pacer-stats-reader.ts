import { readFileSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import {
  C_BATCH_ALLOCS,
  C_HEAP_KB,
  C_SPIN_US,
  C_STALLS,
  C_TICKLOG_WR,
  P_CLOCK_READS,
  P_FRAMES,
  P_VISITS,
  P_POST_MS,
  P_SPIN_MS,
  P_STEP_MS,
  P_WAKES,
  PROFILE_BYTE,
  PROFILE_FIELDS,
  TICKLOG_BYTE,
  TICKLOG_SIZE,
  type HistogramFigures,
  type PacerHello,
  type PacerStats,
} from './pacer-layout.js';

const HISTOGRAM = {
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000,
  numberOfSignificantValueDigits: 3,
} as const;

function figures(h: hdr.Histogram): HistogramFigures {
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

/** Thread `tid` of this process as the scheduler saw it: ns on a CPU, ns waiting for one (Linux only). */
export function threadSchedstat(tid: number): { cpuNs: number; waitNs: number } | null {
  if (tid <= 0) return null;
  try {
    const [cpu, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ');
    return { cpuNs: Number(cpu), waitNs: Number(wait) };
  } catch {
    return null;
  }
}

function threadCpuNs(tid: number): number | null {
  return threadSchedstat(tid)?.cpuNs ?? null;
}

/**
 * Main's half of the pacer's figures: the timing thread only stores numbers in the control block
 * (pacer-layout.ts); this reads the tick log into histograms, the thread's CPU from /proc and the
 * loop profile, and encodes, all on main, once a period.
 */
export class PacerStatsReader {
  private readonly ctl: Int32Array;
  private readonly log: Int32Array;
  private readonly profile: Float64Array;
  private readonly lastProfile = new Float64Array(PROFILE_FIELDS);
  private readonly tickError = hdr.build(HISTOGRAM);
  private readonly tickErrorTotal = hdr.build(HISTOGRAM);
  private readonly overshoot = hdr.build(HISTOGRAM);
  private rd: number;
  private samplesLost = 0;
  private readonly stallsAtStart: number;
  /** The pacer thread's kernel id (0 until its worker says hello, or where unknown). */
  tid = 0;
  private lastCpu: number | null = null;
  private nice: number | null = null;
  private niceError: string | null = null;
  private timerSlackNs: number | null = null;
  private timerSlackError: string | null = null;

  constructor(control: SharedArrayBuffer) {
    this.ctl = new Int32Array(control);
    this.log = new Int32Array(control, TICKLOG_BYTE, TICKLOG_SIZE);
    this.profile = new Float64Array(control, PROFILE_BYTE, PROFILE_FIELDS);
    this.rd = Atomics.load(this.ctl, C_TICKLOG_WR);
    this.stallsAtStart = Atomics.load(this.ctl, C_STALLS);
  }

  /** A (new) worker said who it is: CPU is read from its thread from now on. */
  hello(msg: PacerHello): void {
    this.tid = msg.tid;
    this.lastCpu = threadCpuNs(this.tid);
    this.nice = msg.nice;
    this.niceError = msg.niceError;
    this.timerSlackNs = msg.timerSlackNs;
    this.timerSlackError = msg.timerSlackError;
  }

  read(periodMs: number, ticks: number): PacerStats {
    this.drainLog();
    const cpu = threadCpuNs(this.tid);
    const p = this.profile;
    const d = (i: number): number => p[i]! - this.lastProfile[i]!;
    const wakes = d(P_WAKES);
    const per = (i: number): number => (wakes > 0 ? (d(i) * 1000) / wakes : 0);
    const stats: PacerStats = {
      type: 'stats',
      ticks,
      tickErrorUs: figures(this.tickError),
      tickErrorUsTotal: figures(this.tickErrorTotal),
      tickErrorHistogram: hdr.encodeIntoCompressedBase64(this.tickError),
      cpuNs: cpu !== null && this.lastCpu !== null && cpu >= this.lastCpu ? cpu - this.lastCpu : null,
      heapUsedBytes: Atomics.load(this.ctl, C_HEAP_KB) * 1024,
      periodMs,
      handbackStalls: (Atomics.load(this.ctl, C_STALLS) - this.stallsAtStart) | 0,
      nice: this.nice,
      niceError: this.niceError,
      timerSlackNs: this.timerSlackNs,
      timerSlackError: this.timerSlackError,
      overshootUs: figures(this.overshoot),
      loop: {
        wakesPerSec: periodMs > 0 ? (wakes * 1000) / periodMs : 0,
        stepUs: per(P_STEP_MS),
        postUs: per(P_POST_MS),
        spinUs: per(P_SPIN_MS),
        framesPerWake: wakes > 0 ? d(P_FRAMES) / wakes : 0,
        visitsPerWake: wakes > 0 ? d(P_VISITS) / wakes : 0,
        spinSettingUs: Atomics.load(this.ctl, C_SPIN_US),
        clockReadsPerWake: wakes > 0 ? d(P_CLOCK_READS) / wakes : 0,
      },
      batchAllocations: Atomics.load(this.ctl, C_BATCH_ALLOCS),
      samplesLost: this.samplesLost,
    };
    this.lastProfile.set(p);
    this.tickError.reset();
    this.overshoot.reset();
    this.lastCpu = cpu;
    return stats;
  }

  /**
   * Move the tick log into the histograms. Called often (every monitor check, not just once a
   * period), so the log never laps main unless main itself stalls for ~8,000 ticks. Entries come
   * in pairs: |error| µs, then the wait's overshoot µs.
   */
  drainLog(): void {
    const wr = Atomics.load(this.ctl, C_TICKLOG_WR);
    let n = (wr - this.rd) | 0;
    if (n > TICKLOG_SIZE) {
      // Main was away longer than the log holds: the oldest samples were overwritten.
      this.samplesLost += (n - TICKLOG_SIZE) / 2;
      this.rd = (wr - TICKLOG_SIZE) | 0;
      n = TICKLOG_SIZE;
    }
    const mask = TICKLOG_SIZE - 1;
    for (let k = 0; k < n; k += 2) {
      const err = this.log[(this.rd + k) & mask]!;
      const over = this.log[(this.rd + k + 1) & mask]!;
      this.tickError.recordValue(err);
      this.tickErrorTotal.recordValue(err);
      if (over > 0) this.overshoot.recordValue(over);
    }
    this.rd = wr;
  }
}
