/**
 * The pacer thread: one for all calls. It sleeps in Atomics.wait until just before the next
 * deadline, spins the last stretch, runs PacerCore.step and hands the batch back to main.
 * Commands arrive on a MessagePort that is polled synchronously (receiveMessageOnPort), because
 * this thread never returns to its event loop while it paces.
 */
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { PacerCore } from '../src/pacer/pacer-core.js';
import {
  C_ACKED,
  C_POSTED,
  C_TICKS,
  C_WAKE,
  type HistogramFigures,
  type PacerCommand,
  type PacerOptions,
  type PacerStats,
} from '../src/pacer/pacer-layout.js';

interface PacerWorkerData {
  control: SharedArrayBuffer;
  commands: MessagePort;
  options: PacerOptions;
}

const STATS_PERIOD_MS = 1000;

const { control, commands, options } = workerData as PacerWorkerData;
const ctl = new Int32Array(control);
const port = parentPort!;
const core = new PacerCore(options);
const spinMs = options.spinUs / 1000;

// Raise (or lower) only this thread's priority: on Linux, setpriority(PRIO_PROCESS, 0) from a
// thread applies to that thread, so main and the rest of the process keep theirs. Lowering the
// nice value needs CAP_SYS_NICE; without it the pacer runs on and the stats say why.
let niceError: string | null = null;
if (options.nice !== null) {
  try {
    setPriority(0, options.nice);
  } catch (err) {
    niceError = (err as Error).message;
  }
}
const nice = ((): number | null => {
  try {
    return getPriority(0);
  } catch {
    return null;
  }
})();

const histogramOptions = { lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 } as const;
const tickError = hdr.build(histogramOptions);
const tickErrorTotal = hdr.build(histogramOptions);

function figures(h: hdr.Histogram): HistogramFigures {
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

/** CPU time of this thread in ns, from the kernel's scheduler accounting (Linux only). */
function threadCpuNs(): number | null {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
  } catch {
    return null;
  }
}

let running = true;

function drainCommands(): void {
  for (;;) {
    const msg = receiveMessageOnPort(commands);
    if (!msg) return;
    const cmd = msg.message as PacerCommand;
    if (cmd.op === 'open') core.open(cmd.lane, cmd.sab, cmd.prefix, cmd.suffix);
    else if (cmd.op === 'close') core.close(cmd.lane);
    else if (cmd.op === 'crash') crash(cmd.kind);
    else running = false;
  }
}

/** PacerHost.crashForDiagnostics: die from inside the pacing loop, as a bug or an abort would. */
function crash(kind: 'throw' | 'exit'): void {
  if (kind === 'exit') process.exit(1); // ends this thread only, with exit code 1
  throw new Error('pacer crash requested for diagnostics');
}

// A replacement worker (after a crash) shares the control block: ticks carry on, and the
// hand-back backlog starts at zero because main has dispatched everything the old one posted.
let posted = Atomics.load(ctl, C_ACKED);
let ticks = Atomics.load(ctl, C_TICKS);
let handbackStalls = 0;
let lastStats = performance.now();
let lastCpu = threadCpuNs();

function postStats(now: number): void {
  const cpu = threadCpuNs();
  const stats: PacerStats = {
    type: 'stats',
    ticks,
    tickErrorUs: figures(tickError),
    tickErrorUsTotal: figures(tickErrorTotal),
    tickErrorHistogram: hdr.encodeIntoCompressedBase64(tickError),
    cpuNs: cpu !== null && lastCpu !== null ? cpu - lastCpu : null,
    heapUsedBytes: getHeapStatistics().used_heap_size,
    periodMs: now - lastStats,
    handbackStalls,
    nice,
    niceError,
  };
  port.postMessage(stats);
  tickError.reset();
  lastCpu = cpu;
  lastStats = now;
}

while (running) {
  const wakeSeq = Atomics.load(ctl, C_WAKE);
  drainCommands();
  if (!running) break;
  let now = performance.now();
  let next: number;
  if (posted - Atomics.load(ctl, C_ACKED) > options.maxInflightBatches) {
    // Main is not draining: frames stay in their lanes, where drop-oldest bounds them.
    handbackStalls++;
    next = now + 5;
  } else {
    next = core.step(now);
    const batch = core.batch.take();
    if (batch) {
      port.postMessage(batch, [batch]);
      posted++;
      Atomics.store(ctl, C_POSTED, posted);
    }
  }
  if (now - lastStats >= STATS_PERIOD_MS) postStats(now);
  const until = Math.min(next, lastStats + STATS_PERIOD_MS);
  const sleepMs = until - now - spinMs;
  if (sleepMs > 0 && Atomics.wait(ctl, C_WAKE, wakeSeq, sleepMs) !== 'timed-out') continue; // main woke us
  if (until !== next) continue;
  while ((now = performance.now()) < next) {
    // spin: Atomics.wait overshoots by tens of microseconds, so the last stretch is a busy wait
  }
  const errUs = Math.round((now - next) * 1000);
  tickError.recordValue(errUs);
  tickErrorTotal.recordValue(errUs);
  Atomics.store(ctl, C_TICKS, ++ticks);
}

commands.close();
