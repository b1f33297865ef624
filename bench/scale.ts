/**
 * Scale on one machine, same run: the most echo calls with late@60 = 0 for `ptime serve` with 1
 * worker, with `--workers 2`, and as 2 processes behind nginx (WebSocket proxying, bench/nginx-ws.conf),
 * with the interval p99 and the CPU per call at that load (the whole process tree: primary,
 * workers, their threads; nginx counted apart). The generator runs in this process on the same
 * cores, as in every bench here.
 *
 *   npm run build && node dist/bench/scale.js [--ladder 100,200,300,400,500] [--secs 12]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from '../src/loadtest/load-generator.js';
import { machineInfo } from '../src/loadtest/machine-info.js';
import { summarize } from '../src/loadtest/summarize.js';
import { BENCH_SERVE } from './lib/run-scenario.js';
import { ServerProcess } from './lib/server-process.js';
import { commandLine } from './lib/command-line.js';

const values = commandLine({
  usage: 'node dist/bench/scale.js',
  purpose: 'The most calls with late@60 = 0 for one worker, --workers 2, and two processes behind nginx.',
  options: { ladder: { type: 'string', default: '100,200,300,400,500,600' }, secs: { type: 'string', default: '12' } },
  help: {
    ladder: 'call counts to climb',
    secs: 'seconds per step',
  },
  numbers: ['ladder', 'secs'],
});
const LADDER = values.ladder.split(',').map(Number);
const SECS = Number(values.secs);

if (spawnSync('nginx', ['-v']).error) {
  console.error('bench/scale.js needs nginx for its third configuration: apt-get install nginx');
  process.exit(1);
}

/** CPU seconds (user + system) of `pid` and every descendant, from /proc. */
function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  const visit = (p: number): void => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8')
          .trim()
          .split(/\s+/)
          .filter(Boolean))
          visit(Number(child));
      }
    } catch {
      // gone meanwhile
    }
  };
  visit(pid);
  return ticks / 100; // USER_HZ
}

interface Setup {
  name: string;
  url: string;
  pids: () => number[];
  nginxPid: number | null;
  stop: () => Promise<void>;
}

const MAX_CALLS = String(Math.max(...LADDER) + 50);

async function single(workers: number): Promise<Setup> {
  const s = await ServerProcess.start(BENCH_SERVE, ['--workers', String(workers), '--max-calls', MAX_CALLS]);
  await sleep(1500); // the other workers come up
  return {
    name: workers === 1 ? '1 worker' : `--workers ${workers}`,
    url: s.url(),
    pids: () => [s.child.pid!],
    nginxPid: null,
    stop: async () => void (await s.stop()),
  };
}

async function behindNginx(): Promise<Setup> {
  const a = await ServerProcess.start(BENCH_SERVE, ['--max-calls', MAX_CALLS]);
  const b = await ServerProcess.start(BENCH_SERVE, ['--max-calls', MAX_CALLS]);
  const prefix = mkdtempSync(join(tmpdir(), 'ptime-nginx-'));
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, d));
  const listen = 20000 + (process.pid % 20000);
  const conf = readFileSync(resolve('bench/nginx-ws.conf'), 'utf8')
    .replaceAll('{{PREFIX}}', prefix)
    .replaceAll('{{LISTEN}}', String(listen))
    .replace('{{UPSTREAMS}}', [a.port, b.port].map((p) => `    server 127.0.0.1:${p};`).join('\n'));
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const nginx: ChildProcess = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: 'inherit',
  });
  await sleep(500);
  return {
    name: '2 processes behind nginx',
    url: `ws://127.0.0.1:${listen}/media`,
    pids: () => [a.child.pid!, b.child.pid!],
    nginxPid: nginx.pid!,
    stop: async () => {
      nginx.kill('SIGTERM');
      await Promise.all([a.stop(), b.stop()]);
    },
  };
}

interface Row {
  setup: string;
  calls: number;
  late60: number;
  late0: number;
  p99: number;
  cpuPerCallPct: number;
  nginxPerCallPct: number | null;
  failed: number;
}

const rows: Row[] = [];
const best: Row[] = [];
for (const make of [() => single(1), () => single(2), behindNginx]) {
  const setup = await make();
  let last: Row | null = null;
  for (const calls of LADDER) {
    const cpu0 = setup.pids().reduce((s, p) => s + treeCpuSeconds(p), 0);
    const ng0 = setup.nginxPid ? treeCpuSeconds(setup.nginxPid) : 0;
    const t0 = performance.now();
    const load = await runLoad({
      url: setup.url,
      calls,
      seconds: SECS,
      rampPerSec: 100,
      mode: 'echo',
      dtmfEverySec: 0,
    });
    const wall = (performance.now() - t0) / 1000;
    const cpu = setup.pids().reduce((s, p) => s + treeCpuSeconds(p), 0) - cpu0;
    const ng = setup.nginxPid ? treeCpuSeconds(setup.nginxPid) - ng0 : null;
    const r = summarize(
      load,
      {
        cpuPct: null,
        pacerCpuPct: null,
        mainCpuPct: null,
        ioCpuPct: null,
        ioLoopDelayP99Ms: null,
        rssMb: null,
        loopDelayP99Ms: null,
        pacerTickErrorUs: null,
        framesSent: 0,
        drops: 0,
        underruns: 0,
      },
      { scenario: setup.name, pacer: 'ptime', lead: 3, seconds: SECS, generatorProcesses: 1, echo: true },
    );
    const late = (b: number): number => r.aggregate.late.find((l) => l.bufferMs === b)?.latePct ?? 0;
    // CPU per call: the tree's CPU over the run's wall time, per call (calls ramp in and out, so this is a floor).
    const row: Row = {
      setup: setup.name,
      calls,
      late60: late(60),
      late0: late(0),
      p99: r.aggregate.intervalMs.p99,
      cpuPerCallPct: (cpu / wall / calls) * 100,
      nginxPerCallPct: ng === null ? null : (ng / wall / calls) * 100,
      failed: load.failedToConnect,
    };
    rows.push(row);
    console.log(
      `${setup.name} ${calls} calls: late@60 ${row.late60.toFixed(3)} % late@0 ${row.late0.toFixed(3)} % p99 ${row.p99.toFixed(2)} ms, CPU/call ${row.cpuPerCallPct.toFixed(2)} %${row.nginxPerCallPct !== null ? ` (+ nginx ${row.nginxPerCallPct.toFixed(2)} %)` : ''}${row.failed ? `, ${row.failed} failed to connect` : ''}`,
    );
    if (row.late60 > 0 || row.failed > 0) break;
    last = row;
    await sleep(1000);
  }
  best.push(
    last ?? {
      setup: setup.name,
      calls: 0,
      late60: 0,
      late0: 0,
      p99: 0,
      cpuPerCallPct: 0,
      nginxPerCallPct: null,
      failed: 0,
    },
  );
  await setup.stop();
}

const m = machineInfo();
const fmt = (r: Row): string =>
  r.calls === 0
    ? `| ${r.setup} | fewer than ${LADDER[0]} | — | — | — | — |`
    : `| ${r.setup} | ${r.calls} | ${r.late0.toFixed(3)} | ${r.p99.toFixed(2)} | ${r.cpuPerCallPct.toFixed(2)} | ${r.nginxPerCallPct === null ? '—' : r.nginxPerCallPct.toFixed(2)} |`;
const md = `# scale on one machine

\`node dist/bench/scale.js --ladder ${LADDER.join(',')} --secs ${SECS}\` — ${m.cpu} × ${m.cores}, Node ${m.node}, ${m.when.slice(0, 10)}; echo calls, lead 3, generator on the same cores.

Most calls with late@60 = 0 (the last step of the ladder before a late frame at a 60 ms jitter buffer):

| setup | calls | late@0 % | interval p99 ms | CPU per call, % of a core | nginx per call, % |
|---|---:|---:|---:|---:|---:|
${best.map(fmt).join('\n')}

Every step:

| setup | calls | late@0 % | interval p99 ms | CPU per call, % of a core | nginx per call, % |
|---|---:|---:|---:|---:|---:|
${rows.map(fmt).join('\n')}
`;
console.log(`\n${md}`);
mkdirSync(resolve('bench/results'), { recursive: true });
writeFileSync(resolve('bench/results/scale.md'), md);
process.exit(0);
