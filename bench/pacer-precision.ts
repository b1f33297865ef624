/**
 * Pacer precision at scale: `ptime serve` in its own process under N echo calls (generator in
 * this process), once per configuration, in one run, so the rows compare like with like. For each:
 * the pacer's tick |error| over the whole run (all periods' histograms added), its CPU, and where
 * its time went (wakes/s, µs per wake in step, postMessage and spin, frames per wake, how far
 * Atomics.wait overslept). `--compare DIR` adds a row for another built ptime checkout (an older
 * commit) under the same load, as the before.
 *
 *   node dist/bench/pacer-precision.js [--calls 1000] [--secs 20] [--configs "default;--spin-max-us 2000"] [--compare DIR]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import type { EngineFigures } from '../src/index.js';
import { runLoad } from '../src/loadtest/load-generator.js';
import { machineInfo } from '../src/loadtest/machine-info.js';
import { BENCH_SERVE } from './lib/run-scenario.js';
import { ServerProcess } from './lib/server-process.js';
import { commandLine } from './lib/command-line.js';

const values = commandLine({
  usage: 'node dist/bench/pacer-precision.js',
  purpose: 'Pacer precision at scale under real echo calls, one row per ptime serve configuration in the same run.',
  options: {
    calls: { type: 'string', default: '1000' },
    secs: { type: 'string', default: '20' },
    ramp: { type: 'string', default: '200' },
    configs: { type: 'string', default: 'default;--spin-max-us 2000' },
    compare: { type: 'string' },
    out: { type: 'string', default: 'bench/out' },
  },
  help: {
    calls: 'simultaneous calls',
    secs: 'seconds per configuration',
    ramp: 'new calls per second',
    configs: 'configurations separated by ";": default, or ptime serve flags',
    compare: 'another built checkout as a row of its own (the before)',
    out: 'where the JSON goes',
  },
  numbers: ['calls', 'secs', 'ramp'],
});
const calls = Number(values.calls);
const secs = Number(values.secs);
const ramp = Number(values.ramp);

interface Row {
  name: string;
  tick: { p50: number; p99: number; p999: number; max: number; count: number };
  pacerCpuPct: number;
  serverCpuPct: number;
  loop: EngineFigures['pacerLoop'];
  overshootP99: number | null;
  framesSent: number;
  drops: number;
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

async function measure(name: string, script: string, args: string[]): Promise<Row> {
  const server = await ServerProcess.start(script, [...args, '--max-calls', String(calls + 10)]);
  try {
    const result = await runLoad({
      url: server.url(),
      calls,
      seconds: secs,
      rampPerSec: ramp,
      mode: 'echo',
      dtmfEverySec: 0,
    });
    await server.stop();
    // Steady state only: the periods with (nearly) every call up.
    const steady = server.figures.filter((f) => f.calls >= calls * 0.95);
    const total = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60_000_000,
      numberOfSignificantValueDigits: 3,
    });
    const withHist = steady.filter((f) => typeof f.pacerTickErrorHistogram === 'string');
    for (const f of withHist) total.add(hdr.decodeFromCompressedBase64(f.pacerTickErrorHistogram!));
    // An older build has no per-period histogram: fall back to its since-start figures.
    const last = server.figures.at(-1);
    const tick = withHist.length
      ? {
          p50: total.getValueAtPercentile(50),
          p99: total.getValueAtPercentile(99),
          p999: total.getValueAtPercentile(99.9),
          max: total.maxValue,
          count: total.totalCount,
        }
      : (last?.pacerTickErrorTotalUs ?? { p50: 0, p99: 0, p999: 0, max: 0, count: 0 });
    const loops = steady.map((f) => f.pacerLoop).filter((l): l is NonNullable<typeof l> => !!l);
    const loop = loops.length
      ? {
          wakesPerSec: mean(loops.map((l) => l.wakesPerSec)),
          stepUs: mean(loops.map((l) => l.stepUs)),
          postUs: mean(loops.map((l) => l.postUs)),
          spinUs: mean(loops.map((l) => l.spinUs)),
          framesPerWake: mean(loops.map((l) => l.framesPerWake)),
          visitsPerWake: mean(loops.map((l) => l.visitsPerWake)),
          spinSettingUs: mean(loops.map((l) => l.spinSettingUs)),
          clockReadsPerWake: mean(loops.map((l) => l.clockReadsPerWake ?? 0)),
        }
      : null;
    const over = steady.map((f) => f.pacerOvershootUs?.p99).filter((v): v is number => typeof v === 'number');
    return {
      name,
      tick,
      pacerCpuPct: mean(steady.map((f) => f.pacerCpuPct ?? 0)),
      serverCpuPct: mean(steady.map((f) => f.cpuPct)),
      loop,
      overshootP99: over.length ? mean(over) : null,
      framesSent: result.calls.reduce((n, c) => n + c.arrivals.length, 0),
      drops: server.dropsByEndedCalls,
    };
  } finally {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  }
}

const m = machineInfo();
console.log(`ptime pacer precision: ${calls} echo calls × ${secs} s per row — ${m.cpu} × ${m.cores}, Node ${m.node}`);
const rows: Row[] = [];
if (values.compare) {
  const script = join(resolve(values.compare), 'dist/bench/bench-serve.js');
  if (!existsSync(script)) throw new Error(`--compare: ${script} not found (build that checkout first)`);
  rows.push(await measure(`before (${values.compare})`, script, []));
}
for (const config of values.configs.split(';').map((c) => c.trim())) {
  const args = config === 'default' ? [] : config.split(/\s+/);
  rows.push(await measure(config, BENCH_SERVE, args));
}

const f1 = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : n.toFixed(1));
const lines = [
  '| config | tick \\|error\\| p50 / p99 / p99.9 / max µs | pacer CPU % | server CPU % | wakes/s | step µs/wake | post µs/wake | spin µs/wake | frames/wake | lanes visited/wake | spin setting µs | wait overshoot p99 µs | drops |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.tick.p50} / ${r.tick.p99} / ${r.tick.p999} / ${r.tick.max} | ${f1(r.pacerCpuPct)} | ${f1(r.serverCpuPct)} | ${f1(r.loop?.wakesPerSec)} | ${f1(r.loop?.stepUs)} | ${f1(r.loop?.postUs)} | ${f1(r.loop?.spinUs)} | ${f1(r.loop?.framesPerWake)} | ${f1(r.loop?.visitsPerWake)} | ${f1(r.loop?.spinSettingUs)} | ${f1(r.overshootP99)} | ${r.drops} |`,
  ),
];
const base = rows[0]!;
const ratios = rows
  .slice(1)
  .map(
    (r) =>
      `${r.name}: tick p99 ${(r.tick.p99 / Math.max(1, base.tick.p99)).toFixed(2)}× and p99.9 ${(r.tick.p999 / Math.max(1, base.tick.p999)).toFixed(2)}× of "${base.name}", pacer CPU ${(r.pacerCpuPct / Math.max(0.01, base.pacerCpuPct)).toFixed(2)}×`,
  );
const text = [...lines, '', ...ratios].join('\n');
console.log(text);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'pacer-precision.json'), JSON.stringify({ machine: m, calls, secs, rows }, null, 2));
