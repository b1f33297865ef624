import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { HistogramFigures, PacerLoopFigures, PacerStats } from '../pacer/pacer-layout.js';
import { threadSchedstat } from '../pacer/pacer-stats-reader.js';
import type { CallLine } from './call-line.js';
import type { Logger } from 'pino';

/** What the reporter reads from its engine (the engine depends on this file, not the other way). */
export interface FiguresSource {
  readonly logger: Logger;
  readonly pacerStats: PacerStats | null;
  ioFigures(): { cpuPct: number | null; loopDelayP99Ms: number } | null;
  stats(): { framesSent: number };
  tickRejections(now: number): void;
}

/** The once-a-second process line (also emitted as the engine's 'figures' event). */
export interface EngineFigures {
  calls: number;
  framesSentPerSec: number;
  drops: number;
  underruns: number;
  maxQueueDepth: number;
  loopDelayP99Ms: number;
  /** Pacer tick |error| in µs over the period, and since the pacer started. */
  pacerTickErrorUs: HistogramFigures | null;
  pacerTickErrorTotalUs: HistogramFigures | null;
  pacerCpuPct: number | null;
  /** The pacer's last period as a histogram (hdr-histogram-js compressed base64), to add periods up exactly. */
  pacerTickErrorHistogram: string | null;
  /** How far the pacer's Atomics.wait overslept, µs, over its last period. */
  pacerOvershootUs: HistogramFigures | null;
  /** Where the pacer thread's time went in its last period (wakes/s, µs per wake in step, post, spin). */
  pacerLoop: PacerLoopFigures | null;
  /** Hand-back buffers the pacer has allocated since it started (flat once warm: main returns them). */
  pacerBatchAllocations: number | null;
  /** Process CPU over the period, % of one core (main + pacer + everything else). */
  cpuPct: number;
  /** The main thread's own CPU over the period, % of one core (null where /proc is not readable). */
  mainCpuPct: number | null;
  /** io: 'worker': the I/O thread's CPU, % of one core, and its event-loop delay p99 (null with io: 'main'). */
  ioCpuPct: number | null;
  ioLoopDelayP99Ms: number | null;
  rssMb: number;
  /** V8 heap in use now, garbage not yet collected included: its lows track live data, where a leak shows before it shows in RSS. */
  heapUsedMb: number;
  /** V8 heap reserved (used + free pages V8 keeps): part of RSS that heapUsed does not show. */
  heapTotalMb: number;
  /** Memory outside the V8 heap that V8 knows of: ArrayBuffers (frame batches, socket buffers) and native add-ons. */
  externalMb: number;
  /** The pacer thread's V8 heap in use, MB (null before its first report, or with a replacement pacer). */
  pacerHeapMb: number | null;
  /** Totals since the engine started, so a reader can check counts across runs. */
  framesSentTotal: number;
  dropsTotal: number;
}

const LOOP_RESOLUTION_MS = 10;

interface Seen {
  sent: number;
  drops: number;
  underruns: number;
}

/**
 * Once a period: an info line for the process and, at debug, one per call. Per-call figures are
 * computed only when debug is enabled, so a quiet engine pays a few counter reads per call.
 */
export class FiguresReporter {
  private timer: NodeJS.Timeout | null = null;
  private loopDelay: IntervalHistogram | null = null;
  private readonly seen = new WeakMap<CallLine, Seen>();
  private last = 0;
  private lastCpu = process.cpuUsage();
  /** The main thread's scheduler CPU time (its kernel id is the process id). */
  private lastMainNs = threadSchedstat(process.pid)?.cpuNs ?? null;
  private dropsTotal = 0;

  constructor(
    private readonly engine: FiguresSource,
    private readonly calls: () => Iterable<CallLine>,
    private readonly periodMs: number,
    /** Where each period's figures go (the engine's 'figures' event). */
    private readonly publish: (figures: EngineFigures) => void,
    /** Also as an info log line (the CLI's default; opt-in for the library). */
    private readonly logLine: boolean,
  ) {}

  start(): void {
    this.loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.loopDelay.enable();
    this.last = performance.now();
    this.timer = setInterval(() => this.report(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.loopDelay?.disable();
    this.loopDelay = null;
  }

  /** The last reading that worked: without a free descriptor /proc cannot be read (EMFILE). */
  private lastMemory: NodeJS.MemoryUsage = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };

  /**
   * process.memoryUsage() reads /proc and throws when the process is out of descriptors: a
   * figures line must not end the process (and every call with it) then.
   */
  private memory(): NodeJS.MemoryUsage {
    try {
      this.lastMemory = process.memoryUsage();
    } catch {
      // Out of descriptors for now: the last reading stands until one is free again.
    }
    return this.lastMemory;
  }

  private report(): void {
    const now = performance.now();
    const secs = (now - this.last) / 1000;
    this.last = now;
    const debug = this.engine.logger.isLevelEnabled('debug');
    let frames = 0;
    let drops = 0;
    let underruns = 0;
    let maxQueueDepth = 0;
    let calls = 0;
    for (const call of this.calls()) {
      calls++;
      call.tick(now);
      const s = call.stats();
      const prev = this.seen.get(call) ?? { sent: 0, drops: 0, underruns: 0 };
      const sent = s.framesSent - prev.sent;
      frames += sent;
      drops += s.drops - prev.drops;
      underruns += s.underruns - prev.underruns;
      maxQueueDepth = Math.max(maxQueueDepth, s.queueDepth);
      this.seen.set(call, { sent: s.framesSent, drops: s.drops, underruns: s.underruns });
      if (debug) {
        call.logger.debug(
          { frames_sent_per_s: round(sent / secs), tx_q: s.queueDepth, drops: s.drops, underruns: s.underruns },
          'call figures',
        );
      }
    }
    this.engine.tickRejections(now);
    this.dropsTotal += drops;
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();
    const pacer = this.engine.pacerStats;
    const mem = this.memory();
    const mainNs = threadSchedstat(process.pid)?.cpuNs ?? null;
    const mainCpuPct =
      mainNs !== null && this.lastMainNs !== null
        ? round(((mainNs - this.lastMainNs) / 1e6 / (secs * 1000)) * 100)
        : null;
    this.lastMainNs = mainNs;
    const io = this.engine.ioFigures();
    const figures: EngineFigures = {
      calls,
      framesSentPerSec: round(frames / secs),
      drops,
      underruns,
      maxQueueDepth,
      // The histogram records whole timer intervals, so the resolution itself is not delay.
      loopDelayP99Ms: round(Math.max(0, (this.loopDelay?.percentile(99) ?? 0) / 1e6 - LOOP_RESOLUTION_MS)),
      pacerTickErrorUs: pacer ? pacer.tickErrorUs : null,
      pacerTickErrorTotalUs: pacer ? pacer.tickErrorUsTotal : null,
      pacerCpuPct: pacer && pacer.cpuNs !== null ? round((pacer.cpuNs / 1e6 / pacer.periodMs) * 100) : null,
      pacerTickErrorHistogram: pacer ? pacer.tickErrorHistogram : null,
      pacerOvershootUs: pacer?.overshootUs ?? null,
      pacerLoop: pacer?.loop ?? null,
      pacerBatchAllocations: pacer?.batchAllocations ?? null,
      cpuPct: round(((cpu.user + cpu.system) / 1000 / (secs * 1000)) * 100),
      mainCpuPct,
      ioCpuPct: io?.cpuPct ?? null,
      ioLoopDelayP99Ms: io?.loopDelayP99Ms ?? null,
      rssMb: round(mem.rss / 1048576),
      heapUsedMb: round(mem.heapUsed / 1048576),
      heapTotalMb: round(mem.heapTotal / 1048576),
      externalMb: round(mem.external / 1048576),
      pacerHeapMb: pacer ? round(pacer.heapUsedBytes / 1048576) : null,
      framesSentTotal: this.engine.stats().framesSent,
      dropsTotal: this.dropsTotal,
    };
    this.loopDelay?.reset();
    if (this.logLine) this.engine.logger.info(figures, 'figures');
    this.publish(figures);
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
