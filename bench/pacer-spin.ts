/**
 * Pacer cost per spin setting: CPU of the pacer thread and its tick |error|, with N calls playing
 * (demo 'silence' mode, so the producer never runs dry) and with none. Each (spin, calls) runs in
 * a fresh process; the Twilio-side clients live in that process too, which loads main, not the
 * pacer thread being measured.
 *
 *   npm run build && node dist/bench/pacer-spin.js [--spins 0,100,300,1000] [--calls 0,10,200] [--secs 6] [--nice=-10]
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { attachDemoApp } from '../src/demo/demo-app.js';
import { createEngine, type PacerStats } from '../src/index.js';
import { TwilioClient } from '../test/helpers/twilio-client.js';
import { commandLine } from './lib/command-line.js';

const WARMUP_S = 2;

interface Row {
  spinUs: number;
  calls: number;
  cpuPct: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  ticks: number;
}

async function child(spinUs: number, calls: number, secs: number, nice: number | undefined): Promise<void> {
  const engine = await createEngine({
    port: 0,
    host: '127.0.0.1',
    spinUs,
    logLevel: 'silent',
    ...(nice === undefined ? {} : { pacerNice: nice }),
  });
  attachDemoApp(engine);
  const url = `ws://127.0.0.1:${engine.address()!.port}/media`;
  const clients: TwilioClient[] = [];
  for (let i = 0; i < calls; i++) {
    const c = await TwilioClient.connect(url);
    c.start({ mode: 'silence' });
    clients.push(c);
  }
  const total = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let cpuNs = 0;
  let ms = 0;
  let ticks = 0;
  let seen = 0;
  const done = new Promise<void>((resolve) => {
    engine.on('pacerStats', (s: PacerStats) => {
      seen++;
      if (seen <= WARMUP_S) return;
      total.add(hdr.decodeFromCompressedBase64(s.tickErrorHistogram));
      cpuNs += s.cpuNs ?? 0;
      ms += s.periodMs;
      ticks += s.tickErrorUs.count;
      if (seen >= WARMUP_S + secs) resolve();
    });
  });
  await done;
  const row: Row = {
    spinUs,
    calls,
    cpuPct: (cpuNs / 1e6 / ms) * 100,
    p50: total.getValueAtPercentile(50),
    p99: total.getValueAtPercentile(99),
    p999: total.getValueAtPercentile(99.9),
    max: total.maxValue,
    ticks,
  };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  for (const c of clients) c.ws.terminate();
  await engine.close();
}

function main(): void {
  const values = commandLine({
    usage: 'node dist/bench/pacer-spin.js',
    purpose: "Pacer thread CPU and tick error per busy-wait setting (the engine's spinUs) and call count.",
    options: {
      nice: { type: 'string' },
      spins: { type: 'string', default: '0,100,300,1000' },
      calls: { type: 'string', default: '0,10,200' },
      secs: { type: 'string', default: '6' },
      child: { type: 'string' },
    },
    help: {
      nice: 'the pacer thread nice value (e.g. -10)',
      spins: 'spin settings to try, µs',
      calls: 'call counts to try',
      secs: 'seconds per row',
      child: 'internal: SPIN,CALLS of a child process',
    },
    numbers: ['nice', 'spins', 'calls', 'secs'],
  });
  if (values.child) {
    const [spin, calls] = values.child.split(',').map(Number) as [number, number];
    void child(spin, calls, Number(values.secs), values.nice === undefined ? undefined : Number(values.nice)).then(() =>
      process.exit(0),
    );
    return;
  }
  const self = fileURLToPath(import.meta.url);
  console.log(
    `# pacer cost per spin setting — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}, ${values.secs} s per row after ${WARMUP_S} s warm-up, pacer nice ${values.nice ?? 'unchanged'}`,
  );
  console.log('spin µs | calls | pacer CPU % of a core | ticks/s | tick |error| µs p50 | p99 | p99.9 | max');
  console.log('---:|---:|---:|---:|---:|---:|---:|---:');
  for (const calls of values.calls.split(',').map(Number)) {
    for (const spin of values.spins.split(',').map(Number)) {
      const niceArgs = values.nice === undefined ? [] : [`--nice=${values.nice}`];
      const r = spawnSync(process.execPath, [self, '--child', `${spin},${calls}`, '--secs', values.secs, ...niceArgs], {
        encoding: 'utf8',
      });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !line.startsWith('{')) {
        console.log(`${spin} | ${calls} | failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
        continue;
      }
      const row = JSON.parse(line) as Row;
      const perSec = row.ticks / Number(values.secs);
      console.log(
        `${row.spinUs} | ${row.calls} | ${row.cpuPct.toFixed(2)} | ${perSec.toFixed(0)} | ${row.p50} | ${row.p99} | ${row.p999} | ${row.max}`,
      );
    }
  }
}

main();
