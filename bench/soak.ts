/**
 * Soak: `ptime serve` in its own process with `--steady` echo calls streaming for the whole run
 * while short calls churn through it (opened and ended every way, some abruptly mid-send). Reports
 * the server's RSS, V8 heap and open file descriptors over time, their slope after warm-up, the
 * calls churned and the frames lost, and writes bench/out/soak.json.
 *
 *   node dist/bench/soak.js [--secs 600] [--steady 200] [--churn-per-sec 5] [--warmup-secs 60] [--row-secs 30] [--out bench/out]
 *
 * Exits 1 if a steady frame was lost or reordered, a steady call was closed, a churned call failed
 * to connect, a call was left open, the descriptors did not come back, or the server did not exit 0.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { machineInfo } from '../src/loadtest/machine-info.js';
import { BENCH_SERVE } from './lib/run-scenario.js';
import { ServerProcess } from './lib/server-process.js';
import { ChurnDriver } from './lib/soak-churn.js';
import { openFds, renderMemoryTable, renderSampleTable, summarizeMemory, type SoakSample } from './lib/soak-samples.js';
import { SteadyCalls } from './lib/soak-steady.js';
import { commandLine } from './lib/command-line.js';

// Its numbers are checked below, with the least value each may take named.
const values = commandLine({
  usage: 'node dist/bench/soak.js',
  purpose:
    'Memory soak: ptime serve with steady echo calls while short calls churn through it; RSS, heaps and descriptors over time and their slopes; exits 1 on a lost frame or a leak.',
  options: {
    secs: { type: 'string', default: '600' },
    steady: { type: 'string', default: '200' },
    'churn-per-sec': { type: 'string', default: '5' },
    'warmup-secs': { type: 'string' },
    'row-secs': { type: 'string' },
    out: { type: 'string', default: 'bench/out' },
  },
  help: {
    secs: 'length of the run, s',
    steady: 'steady echo calls for the whole run',
    'churn-per-sec': 'short calls opened per second',
    'warmup-secs': 'seconds before the slopes are measured (default: a fifth of --secs, at most 60)',
    'row-secs': 'seconds per row of the time table (default: a twentieth of --secs, at least 5)',
    out: 'where the JSON goes',
  },
});
const secs = Number(values.secs);
const steadyCount = Number(values.steady);
const churnPerSec = Number(values['churn-per-sec']);
const warmupSecs = values['warmup-secs'] !== undefined ? Number(values['warmup-secs']) : Math.min(60, secs / 5);
const rowSecs = values['row-secs'] !== undefined ? Number(values['row-secs']) : Math.max(5, Math.round(secs / 20));
for (const [name, v, min] of [
  ['secs', secs, 1],
  ['steady', steadyCount, 0],
  ['churn-per-sec', churnPerSec, 0],
  ['warmup-secs', warmupSecs, 0],
  ['row-secs', rowSecs, 1],
] as const) {
  if (!Number.isFinite(v) || v < min) {
    process.stderr.write(`soak: --${name} must be a number >= ${min} (got ${String(v)})\n`);
    process.exit(2);
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(100);
  }
  return true;
}

const m = machineInfo();
console.log(
  `ptime soak: ${steadyCount} steady echo calls + ${churnPerSec} churned calls/s for ${secs} s — ${m.cpu} × ${m.cores}, Node ${m.node}`,
);
const server = await ServerProcess.start(BENCH_SERVE, []);
const pid = server.child.pid!;
await until(() => server.figures.length > 0, 5000);
const fdsIdle = openFds(pid);
const rssIdleMb = server.figures.at(-1)?.rssMb ?? null;

const steady = await SteadyCalls.open(server.url(), steadyCount);
steady.startStreaming();
const churn = new ChurnDriver(server.url(), churnPerSec);
churn.start();

const samples: SoakSample[] = [];
const t0 = performance.now();
const tty = process.stdout.isTTY && !process.env['CI'];
for (let k = 1; k <= secs; k++) {
  await sleep(Math.max(0, t0 + k * 1000 - performance.now()));
  const f = server.figures.at(-1);
  if (!f) continue;
  const s: SoakSample = {
    tSec: (performance.now() - t0) / 1000,
    calls: f.calls,
    rssMb: f.rssMb,
    heapUsedMb: f.heapUsedMb,
    heapTotalMb: f.heapTotalMb,
    externalMb: f.externalMb,
    pacerHeapMb: f.pacerHeapMb,
    pacerBatchAllocations: f.pacerBatchAllocations,
    fds: openFds(pid),
    churned: churn.figures().churned,
    framesSentTotal: f.framesSentTotal,
    dropsTotal: f.dropsTotal,
  };
  samples.push(s);
  if (tty)
    process.stdout.write(
      `\r${s.tSec.toFixed(0).padStart(4)} s  calls ${String(s.calls).padStart(4)}  RSS ${s.rssMb.toFixed(1)} MB  heap ${s.heapUsedMb.toFixed(1)} MB  fds ${s.fds ?? 'n/a'}  churned ${s.churned}   `,
    );
}
if (tty) process.stdout.write('\n');

await churn.stop();
steady.stopStreaming();
await until(() => steady.echoed(), 10_000);
const steadyFigures = steady.figures();
const churnFigures = churn.figures();
await steady.close();
const lastCalls = (): number => server.figures.at(-1)?.calls ?? -1;
await until(() => lastCalls() === 0, 10_000);
const callsAtEnd = lastCalls();
await until(() => openFds(pid) === fdsIdle, 10_000);
const fdsAtEnd = openFds(pid);
const dropsTotal = server.figures.at(-1)?.dropsTotal ?? null;
const serverExit = await server.stop();

const warm = samples.filter((s) => s.tSec >= warmupSecs);
const memory = summarizeMemory(warm, rowSecs);
const fmt = (x: number | null | undefined, d = 2): string => (x === null || x === undefined ? 'n/a' : x.toFixed(d));

console.log('');
console.log(renderSampleTable(samples, rowSecs));
console.log('');
console.log(renderMemoryTable(memory, rowSecs));
console.log('');
console.log(
  `  server RSS before any call ${fmt(rssIdleMb, 1)} MB; fds idle ${fdsIdle ?? 'n/a'}, at the end ${fdsAtEnd ?? 'n/a'}`,
);
console.log(
  `churned ${churnFigures.churned} calls ${JSON.stringify(churnFigures.byEnding)}; connect failures ${churnFigures.connectFailures}`,
);
console.log(
  `steady: ${steadyFigures.calls} calls, ${steadyFigures.framesSent} frames sent, ${steadyFigures.framesEchoed} echoed, ` +
    `lost ${steadyFigures.framesLost}, sequence breaks ${steadyFigures.sequenceBreaks}, marks echoed ${steadyFigures.marksEchoed}, closed early ${steadyFigures.closedEarly}; server drops ${dropsTotal ?? 'n/a'}`,
);
console.log(`calls open at the end ${callsAtEnd}; server exit code ${serverExit}`);

const report = {
  machine: m,
  options: { secs, steady: steadyCount, churnPerSec, warmupSecs },
  samples,
  memory,
  idle: { rssMb: rssIdleMb, fds: fdsIdle },
  end: { fds: fdsAtEnd, callsOpen: callsAtEnd, serverDrops: dropsTotal, serverExit },
  steady: steadyFigures,
  churn: churnFigures,
};
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
writeFileSync(resolve(out, 'soak.json'), JSON.stringify(report));
console.log(`JSON report: ${resolve(out, 'soak.json')}`);

const ok =
  steadyFigures.framesLost === 0 &&
  steadyFigures.sequenceBreaks === 0 &&
  steadyFigures.closedEarly === 0 &&
  churnFigures.connectFailures === 0 &&
  callsAtEnd === 0 &&
  fdsAtEnd === fdsIdle &&
  serverExit === 0;
process.exit(ok ? 0 : 1);
