/**
 * The pacer thread alone at scale: the real PacerHost and worker with N lanes that main keeps
 * topped up (a producer ahead of real time) and sinks that only count, with no sockets and no
 * load generator. So the pacer gets the core the server's I/O would otherwise take, and this
 * shows what the pacer itself costs and how precisely it wakes at N calls, apart from how
 * busy the machine is (pacer-precision.ts measures it under real echo calls).
 *
 * Each configuration runs in a fresh process, one after another in one run, so the rows compare
 * like with like. The process runs under --trace-gc, and the pacer thread's collections in the
 * measured window (each one stops the timing thread) are counted with their pauses. `--compare DIR` adds a row for another built checkout's pacer (the before).
 *
 *   node dist/bench/pacer-alone.js [--lanes 1000] [--secs 15] [--configs "default;spinUs=100;phases=2"] [--compare DIR]
 *
 * A config is `default` or space-separated key=number pairs of engine options (EngineOptions):
 * spinUs, spinMinUs, spinMaxUs, phases, lanesPerWake, lead, pacerTimerSlackUs, pacerRealtime…
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { resolveOptions, type EngineOptions } from '../src/engine/engine-options.js';
import { pacerOptionsOf } from '../src/engine/pacer-options.js';
import { machineInfo } from '../src/loadtest/machine-info.js';
import type { LaneSink } from '../src/handback/handback-consumer.js';
import type { LaneWire } from '../src/pacer/pacer-layout.js';
import { commandLine } from './lib/command-line.js';

const HERE_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const WARMUP_MS = 3000;

interface Row {
  name: string;
  lanes: number;
  tick: { p50: number; p99: number; p999: number; max: number; count: number };
  pacerCpuPct: number;
  mainCpuPct: number;
  wakesPerSec: number;
  stepUs: number;
  postUs: number;
  spinUs: number;
  framesPerWake: number;
  stepUsPerFrame: number;
  pacerCpuUsPerFrame: number;
  overshootP99: number;
  spinSettingUs: number;
  framesPerSec: number;
  stalls: number;
  /** The measured window, ms on the child's clock (to pick the pacer's GCs out of --trace-gc). */
  windowMs: [number, number];
  /** The pacer thread's garbage collections in that window (from V8's --trace-gc). */
  gc?: GcFigures;
}

interface GcFigures {
  scavenges: number;
  markCompacts: number;
  pauseMsTotal: number;
  pauseMsMax: number;
}

interface ChildJob {
  root: string;
  name: string;
  lanes: number;
  secs: number;
  options: Record<string, number>;
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

async function child(job: ChildJob): Promise<Row> {
  const load = (p: string): Promise<Record<string, unknown>> =>
    import(pathToFileURL(join(job.root, p)).href) as Promise<Record<string, unknown>>;
  const hdr = (await import('hdr-histogram-js')) as typeof import('hdr-histogram-js');
  // Typed against this checkout; an older checkout's classes have the same shape where used here.
  const { PacerHost } = (await load(
    'dist/src/pacer/pacer-host.js',
  )) as unknown as typeof import('../src/pacer/pacer-host.js');
  const { LaneRing } = (await load(
    'dist/src/ring/lane-ring.js',
  )) as unknown as typeof import('../src/ring/lane-ring.js');
  const o = job.options;
  // The engine's own mapping, so a row paces exactly as `ptime serve` with those options would.
  const options = pacerOptionsOf(resolveOptions({ port: 0, ...(o as EngineOptions) }));
  // Batches are taken on this thread as with io: 'main'. A checkout from before the hand-back
  // consumer existed dispatched them inside PacerHost, to the sink given to open().
  const consumerModule = (await load('dist/src/handback/handback-consumer.js').catch(() => null)) as unknown as
    typeof import('../src/handback/handback-consumer.js') | null;
  const consumer = consumerModule ? new consumerModule.HandbackConsumer({ failed: () => undefined }) : null;
  const hostOptions = { maxLanes: job.lanes + 8, statsPeriodMs: 1000, realtimePriority: o['pacerRealtime'] ?? null };
  const host = new PacerHost(options, { ...hostOptions, handbackTo: (port, control) => consumer?.use(port, control) });
  const frame = new Uint8Array(160).fill(0xff);
  let framesOut = 0;
  const rings: InstanceType<typeof LaneRing>[] = [];
  // Exact-size bytes as the engine passes them (a pooled Buffer would clone an 8 KB slab per lane).
  const utf8 = new TextEncoder();
  const suffix = utf8.encode('"}}');
  const sink = {
    onFrame: (): boolean => {
      framesOut++;
      return false;
    },
    onMark: (): void => undefined,
  };
  // A producer ahead of real time: every lane always has a few frames queued, as a TTS stream would.
  const topUp = (): void => {
    for (let i = 0; i < rings.length; i++) {
      const ring = rings[i]!;
      while (ring.depth() < 8) {
        ring.pushFrame(frame, 0);
        if (ring.pacerIdle()) host.wake(i);
      }
    }
  };
  const feeder = setInterval(topUp, 20);
  // Calls arrive over a second (a 7 ms step does not line up with the phase grid), as real calls
  // do: lanes opened all at once would all start on one phase.
  const perStep = Math.ceil(job.lanes / 143);
  while (rings.length < job.lanes) {
    for (let k = 0; k < perStep && rings.length < job.lanes; k++) {
      const i = rings.length;
      const ring = new LaneRing(120);
      rings.push(ring);
      const prefix = utf8.encode(
        `{"event":"media","streamSid":"MZ${String(i).padStart(32, '0')}","media":{"payload":"`,
      );
      consumer?.bind(i, ring.owner, sink);
      // The older checkout's open() takes the sink as a fourth argument.
      (host.open as (lane: number, sab: SharedArrayBuffer, wire: LaneWire, sink: LaneSink) => void)(
        i,
        ring.sab,
        { prefix, suffix, binary: false, framesPerMessage: 1 },
        sink,
      );
    }
    topUp();
    await new Promise((r) => setTimeout(r, 7));
  }
  const stats: import('../src/pacer/pacer-layout.js').PacerStats[] = [];
  const t0 = performance.now();
  let cpu0 = process.cpuUsage();
  let framesAtWarm = 0;
  let warmAt = 0;
  host.on('stats', (s) => {
    if (performance.now() - t0 < WARMUP_MS) return;
    if (stats.length === 0) {
      cpu0 = process.cpuUsage();
      framesAtWarm = framesOut;
      warmAt = performance.now();
    }
    stats.push(s);
  });
  await new Promise((r) => setTimeout(r, WARMUP_MS + job.secs * 1000));
  clearInterval(feeder);
  const elapsedMs = performance.now() - warmAt;
  const cpu = process.cpuUsage(cpu0);
  const frames = framesOut - framesAtWarm;
  await host.stop();
  consumer?.close();
  const measured = stats.slice(1); // the first period straddles the warm-up
  const total = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const s of measured) total.add(hdr.decodeFromCompressedBase64(s.tickErrorHistogram));
  const pacerCpuNs = measured.reduce((n, s) => n + (s.cpuNs ?? 0), 0);
  const periodMs = measured.reduce((n, s) => n + s.periodMs, 0);
  const pacerCpuPct = (pacerCpuNs / 1e6 / periodMs) * 100;
  const processPct = ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100;
  const loop = (k: keyof import('../src/pacer/pacer-layout.js').PacerLoopFigures): number =>
    mean(measured.map((s) => s.loop[k]));
  const framesPerSec = (frames / elapsedMs) * 1000;
  return {
    name: job.name,
    lanes: job.lanes,
    tick: {
      p50: total.getValueAtPercentile(50),
      p99: total.getValueAtPercentile(99),
      p999: total.getValueAtPercentile(99.9),
      max: total.maxValue,
      count: total.totalCount,
    },
    pacerCpuPct,
    mainCpuPct: processPct - pacerCpuPct,
    wakesPerSec: loop('wakesPerSec'),
    stepUs: loop('stepUs'),
    postUs: loop('postUs'),
    spinUs: loop('spinUs'),
    framesPerWake: loop('framesPerWake'),
    stepUsPerFrame: loop('stepUs') / Math.max(1e-9, loop('framesPerWake')),
    pacerCpuUsPerFrame: pacerCpuNs / 1000 / Math.max(1, (framesPerSec * periodMs) / 1000),
    overshootP99: mean(measured.map((s) => s.overshootUs.p99)),
    spinSettingUs: loop('spinSettingUs'),
    framesPerSec,
    stalls: measured.at(-1)?.handbackStalls ?? 0,
    windowMs: [warmAt, warmAt + elapsedMs],
  };
}

function parseConfig(config: string): Record<string, number> {
  if (config === 'default') return {};
  const out: Record<string, number> = {};
  for (const pair of config.split(/\s+/)) {
    const [k, v] = pair.split('=');
    if (!k || v === undefined || !Number.isFinite(Number(v))) throw new Error(`--configs: "${pair}" is not key=number`);
    out[k] = Number(v);
  }
  return out;
}

if (process.argv[2] === '--child') {
  const row = await child(JSON.parse(process.argv[3]!) as ChildJob);
  process.stdout.write(`${JSON.stringify(row)}\n`);
  process.exit(0);
}

const values = commandLine({
  usage: 'node dist/bench/pacer-alone.js',
  purpose:
    'The pacer thread alone with N lanes kept topped up and sinks that only count: tick error, CPU, where its time goes and its GCs, one fresh process per configuration.',
  options: {
    lanes: { type: 'string', default: '1000' },
    secs: { type: 'string', default: '15' },
    configs: { type: 'string', default: 'default' },
    compare: { type: 'string' },
    out: { type: 'string', default: 'bench/out' },
  },
  help: {
    lanes: 'lanes (calls)',
    secs: 'measured seconds per configuration',
    configs: 'configurations separated by ";": default, or engine options as key=number pairs',
    compare: 'another built checkout whose pacer runs as a row of its own (the before)',
    out: 'where the JSON goes',
  },
  numbers: ['lanes', 'secs'],
});
const lanes = Number(values.lanes);
const secs = Number(values.secs);
if (!Number.isInteger(lanes) || lanes < 1 || !Number.isFinite(secs) || secs < 1) {
  process.stderr.write('pacer-alone: --lanes must be an integer >= 1 and --secs a number >= 1\n');
  process.exit(2);
}

/**
 * The pacer thread's GCs from V8's --trace-gc lines ("[pid:isolate]  T ms: Scavenge … MB, P / …
 * ms"). The child runs two isolates, main's and the pacer worker's; the worker's is the one
 * allocated by the thread's own allocator (an address from 0x7f…), main's is in the brk heap.
 */
function pacerGc(lines: string[], [from, to]: [number, number]): GcFigures {
  const gc: GcFigures = { scavenges: 0, markCompacts: 0, pauseMsTotal: 0, pauseMsMax: 0 };
  for (const line of lines) {
    const m = /^\[\d+:0x7f[0-9a-f]+\]\s+(\d+) ms: (Scavenge|Mark-Compact)\b.*?MB, ([\d.]+) \//.exec(line);
    if (!m) continue;
    const at = Number(m[1]);
    // The worker's clock starts a little after main's: a window edge is good to tens of ms.
    if (at < from || at > to) continue;
    if (m[2] === 'Scavenge') gc.scavenges++;
    else gc.markCompacts++;
    const pause = Number(m[3]);
    gc.pauseMsTotal += pause;
    gc.pauseMsMax = Math.max(gc.pauseMsMax, pause);
  }
  return gc;
}

function run(job: ChildJob): Row {
  const r = spawnSync(
    process.execPath,
    ['--trace-gc', fileURLToPath(import.meta.url), '--child', JSON.stringify(job)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 },
  );
  const lines = r.stdout.trim().split('\n');
  const line = lines.at(-1);
  if (r.status !== 0 || !line) throw new Error(`pacer-alone: the ${job.name} run failed (exit ${r.status})`);
  const row = JSON.parse(line) as Row;
  row.gc = pacerGc(lines, row.windowMs);
  return row;
}

const m = machineInfo();
console.log(
  `ptime pacer alone: ${lanes} lanes × ${secs} s per row (after ${WARMUP_MS / 1000} s warm-up) — ${m.cpu} × ${m.cores}, Node ${m.node}`,
);
const rows: Row[] = [];
if (values.compare) {
  const root = resolve(values.compare);
  if (!existsSync(join(root, 'dist/src/pacer/pacer-host.js')))
    throw new Error(`--compare: ${root}/dist/src/pacer/pacer-host.js not found (build that checkout first)`);
  // An older pacer knows neither the timer slack nor a spin below spinUs: what it ran with.
  rows.push(
    run({ root, name: `before (${values.compare})`, lanes, secs, options: { spinMinUs: 300, pacerTimerSlackUs: 0 } }),
  );
}
for (const config of values.configs
  .split(';')
  .map((c) => c.trim())
  .filter(Boolean)) {
  rows.push(run({ root: HERE_ROOT, name: config, lanes, secs, options: parseConfig(config) }));
}

const f1 = (n: number): string => n.toFixed(1);
const f2 = (n: number): string => n.toFixed(2);
const text = [
  '| config | tick \\|error\\| p50 / p99 / p99.9 / max µs | pacer CPU % | pacer CPU µs/frame | main CPU % | wakes/s | step µs/wake | step µs/frame | post µs/wake | spin µs/wake | frames/wake | spin setting µs | wait overshoot p99 µs | frames/s | hand-back stalls | pacer GCs: scavenges / mark-compacts | pacer GC pause ms: total / max |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.tick.p50} / ${r.tick.p99} / ${r.tick.p999} / ${r.tick.max} | ${f1(r.pacerCpuPct)} | ${f2(r.pacerCpuUsPerFrame)} | ${f1(r.mainCpuPct)} | ${f1(r.wakesPerSec)} | ${f1(r.stepUs)} | ${f2(r.stepUsPerFrame)} | ${f1(r.postUs)} | ${f1(r.spinUs)} | ${f1(r.framesPerWake)} | ${f1(r.spinSettingUs)} | ${f1(r.overshootP99)} | ${r.framesPerSec.toFixed(0)} | ${r.stalls} | ${r.gc ? `${r.gc.scavenges} / ${r.gc.markCompacts}` : 'n/a'} | ${r.gc ? `${f1(r.gc.pauseMsTotal)} / ${f2(r.gc.pauseMsMax)}` : 'n/a'} |`,
  ),
  '',
  ...rows
    .slice(1)
    .map(
      (r) =>
        `${r.name}: tick p99 ${(r.tick.p99 / Math.max(1, rows[0]!.tick.p99)).toFixed(2)}×, p99.9 ${(r.tick.p999 / Math.max(1, rows[0]!.tick.p999)).toFixed(2)}×, pacer CPU ${(r.pacerCpuPct / Math.max(0.01, rows[0]!.pacerCpuPct)).toFixed(2)}× of "${rows[0]!.name}"`,
    ),
].join('\n');
console.log(text);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'pacer-alone.json'), JSON.stringify({ machine: m, lanes, secs, rows }, null, 2));
