import { readdirSync } from 'node:fs';

/** The server process once a second during a soak. */
export interface SoakSample {
  tSec: number;
  calls: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  /** The pacer thread's own V8 heap (null before its first report). */
  pacerHeapMb: number | null;
  /** Batch buffers the pacer has allocated since it started (pool misses: a socket held one). */
  pacerBatchAllocations?: number | null;
  /** Open file descriptors of the server process (Linux /proc; null elsewhere): sockets, pipes, epoll. */
  fds: number | null;
  churned: number;
  framesSentTotal: number;
  dropsTotal: number;
}

export function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Least-squares slope of y over time, per minute, or null with fewer than 2 points. */
export function slopePerMin(samples: readonly SoakSample[], y: (s: SoakSample) => number): number | null {
  const n = samples.length;
  if (n < 2) return null;
  const mt = samples.reduce((a, s) => a + s.tSec, 0) / n;
  const my = samples.reduce((a, s) => a + y(s), 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.tSec - mt) * (y(s) - my);
    den += (s.tSec - mt) ** 2;
  }
  return den === 0 ? null : (num / den) * 60;
}

/**
 * The lowest value of each `windowSec` window, at its time. Heap in use read without a forced GC
 * carries whatever garbage the young generation holds at that moment (it swings by MBs); the
 * trough after each collection is what is really live, so a leak shows as rising troughs.
 */
export function troughs(samples: readonly SoakSample[], windowSec: number, y: (s: SoakSample) => number): SoakSample[] {
  const out: SoakSample[] = [];
  for (const s of samples) {
    const w = Math.floor(s.tSec / windowSec);
    const prev = out.at(-1);
    if (!prev || Math.floor(prev.tSec / windowSec) !== w) out.push(s);
    else if (y(s) < y(prev)) out[out.length - 1] = s;
  }
  return out;
}

/** One table row every `everySec` seconds, and the last sample. */
export function renderSampleTable(samples: readonly SoakSample[], everySec: number): string {
  const rows = [
    '| t s | calls | RSS MB | heap MB | external MB | pacer heap MB | pacer batch buffers allocated | fds | churned | frames sent | drops |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  let next = 0;
  samples.forEach((s, i) => {
    if (s.tSec < next && i !== samples.length - 1) return;
    next = s.tSec + everySec;
    rows.push(
      `| ${s.tSec.toFixed(0)} | ${s.calls} | ${s.rssMb.toFixed(1)} | ${s.heapUsedMb.toFixed(1)} | ${s.externalMb.toFixed(1)} | ${s.pacerHeapMb?.toFixed(1) ?? 'n/a'} | ${s.pacerBatchAllocations ?? 'n/a'} | ${s.fds ?? 'n/a'} | ${s.churned} | ${s.framesSentTotal} | ${s.dropsTotal} |`,
    );
  });
  return rows.join('\n');
}

export interface SeriesSummary {
  name: string;
  startMb: number;
  endMb: number;
  slopeMbPerMin: number | null;
  /** Over the second half of the samples only: past start-up growth, what is still climbing. */
  secondHalfSlopeMbPerMin: number | null;
  /** Over the lowest sample of each window (see troughs). */
  troughSlopeMbPerMin: number | null;
}

const SERIES: [string, (s: SoakSample) => number][] = [
  ['RSS', (s) => s.rssMb],
  ['V8 heap in use', (s) => s.heapUsedMb],
  ['V8 heap reserved', (s) => s.heapTotalMb],
  ['external (ArrayBuffers, native)', (s) => s.externalMb],
  ['pacer thread heap', (s) => s.pacerHeapMb ?? 0],
];

/** Each memory series over the samples taken after warm-up. */
export function summarizeMemory(warm: readonly SoakSample[], windowSec: number): SeriesSummary[] {
  if (warm.length === 0) return [];
  const secondHalf = warm.slice(Math.floor(warm.length / 2));
  return SERIES.map(([name, y]) => ({
    name,
    startMb: y(warm[0]!),
    endMb: y(warm[warm.length - 1]!),
    slopeMbPerMin: slopePerMin(warm, y),
    secondHalfSlopeMbPerMin: slopePerMin(secondHalf, y),
    troughSlopeMbPerMin: slopePerMin(troughs(warm, windowSec, y), y),
  }));
}

export function renderMemoryTable(rows: readonly SeriesSummary[], windowSec: number): string {
  const f = (x: number | null, d: number): string => (x === null ? 'n/a' : x.toFixed(d));
  return [
    `| after warm-up | start MB | end MB | end / start | slope MB/min | second half MB/min | lowest per ${windowSec} s, MB/min |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.startMb.toFixed(1)} | ${r.endMb.toFixed(1)} | ${f(r.startMb > 0 ? r.endMb / r.startMb : null, 3)} | ${f(r.slopeMbPerMin, 3)} | ${f(r.secondHalfSlopeMbPerMin, 3)} | ${f(r.troughSlopeMbPerMin, 3)} |`,
    ),
  ].join('\n');
}
