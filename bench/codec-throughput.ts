/**
 * Codec cost, and where a piscina pool starts to pay for itself.
 *
 *   npm run build && node dist/bench/codec-throughput.js [--secs 10] [--rates 24000,48000]
 *
 * Part 1, throughput: × real time on one core (audio seconds per CPU-bound wall second, one
 * thread) for PCM16 at each rate → 8 kHz mu-law, streamed in 20 ms chunks as TTS delivers it and
 * one-shot; STT mu-law 8 k → PCM16 16 k; and, as the in-run baseline for the encoder, the
 * per-sample reference algorithm the tables replace.
 * Part 2, crossover: one stream's chunk of N ms handled inline (Resampler.process + encode on
 * main) versus posted to a 1-thread pool with its state (snapshot → job → restore), the real pool
 * path. Per size: inline time (= main-thread time), pool latency, and main-thread time the pool
 * path still costs (event-loop active time across the round trip). The pool wins at a size when
 * the main-thread time it saves exceeds the latency it adds.
 * Every row group runs in a fresh process so JIT and GC state never leak between them.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import {
  type CodecJob,
  type CodecReply,
  type MulawResult,
  transferListOf,
  unwrapCodecReply,
} from '../src/codec/codec-job.js';
import { mulawEncode } from '../src/codec/g711.js';
import { mulawEncodeReference } from '../src/codec/g711-tables.js';
import { Resampler } from '../src/codec/resampler.js';
import { SUPPORTED_RATES } from '../src/codec/sample-rates.js';
import { mulaw8kToPcm16, pcm16ToMulaw8k } from '../src/codec/telephony.js';
import { machineInfo } from '../src/loadtest/machine-info.js';
import { seeded } from '../test/helpers/seeded.js';
import { commandLine } from './lib/command-line.js';

const SIZES_MS = [20, 50, 100, 250, 500, 2000, 10000];

/** Speech-like test signal: a few drifting partials plus noise, about −12 dBFS. */
function speechish(rate: number, n: number): Int16Array {
  const rnd = seeded(rate);
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    x[i] = Math.round(
      5000 * Math.sin(2 * Math.PI * (180 + 40 * Math.sin(3 * t)) * t) +
        2500 * Math.sin(2 * Math.PI * 1100 * t) +
        1500 * (rnd() - 0.5),
    );
  }
  return x;
}

/** Median wall ms of `fn` over `reps` runs after 2 warm-ups. */
function timeIt(reps: number, fn: () => unknown): number {
  fn();
  fn();
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

interface ThroughputRow {
  name: string;
  xrt: number;
  nsPerOutSample: number;
}

function throughput(rate: number, secs: number): ThroughputRow[] {
  const x = speechish(rate, rate * secs);
  const chunk = rate / 50; // 20 ms
  const outSamples = 8000 * secs;
  const rows: ThroughputRow[] = [];
  const row = (name: string, ms: number): void => {
    rows.push({ name, xrt: secs / (ms / 1000), nsPerOutSample: (ms * 1e6) / outSamples });
  };
  row(
    `${rate} → mu-law 8k, 20 ms chunks`,
    timeIt(5, () => {
      const r = new Resampler(rate, 8000);
      for (let i = 0; i < x.length; i += chunk) pcm16ToMulaw8k(x.subarray(i, i + chunk), rate, r);
      mulawEncode(r.flush());
    }),
  );
  row(
    `${rate} → mu-law 8k, one-shot ${secs} s`,
    timeIt(5, () => pcm16ToMulaw8k(x, rate)),
  );
  if (rate === 8000) {
    row(
      '8000 mu-law encode, reference per-sample (baseline)',
      timeIt(5, () => {
        const out = new Uint8Array(x.length);
        for (let i = 0; i < x.length; i++) out[i] = mulawEncodeReference(x[i]!);
        return out;
      }),
    );
    const mu = mulawEncode(x);
    const r = new Resampler(8000, 16000);
    row(
      'STT: mu-law 8k → 16k, 20 ms frames',
      timeIt(5, () => {
        for (let i = 0; i < mu.length; i += 160) mulaw8kToPcm16(mu.subarray(i, i + 160), 16000, r);
        r.flush();
      }),
    );
  }
  return rows;
}

interface CrossRow {
  ms: number;
  inline: number;
  poolLatency: number;
  poolMain: number;
  saved: number;
  added: number;
  wins: boolean;
}

async function crossover(rate: number): Promise<CrossRow[]> {
  const pool = new Piscina<CodecJob, CodecReply>({
    filename: new URL('../workers/codec.js', import.meta.url).href,
    maxThreads: 1,
    minThreads: 1,
  });
  const rows: CrossRow[] = [];
  try {
    for (const ms of SIZES_MS) {
      const n = (rate * ms) / 1000;
      const src = speechish(rate, n);
      const reps = Math.max(15, Math.min(300, Math.floor(20000 / ms)));
      const stream = new Resampler(rate, 8000);
      const inline = timeIt(reps, () => pcm16ToMulaw8k(src, rate, stream));
      const lat: number[] = [];
      const main: number[] = [];
      for (let r = -3; r < reps; r++) {
        const samples = src.slice(); // the caller owns a fresh buffer it can move (not timed)
        const e0 = performance.eventLoopUtilization();
        const t0 = performance.now();
        const job: CodecJob = { op: 'pcm16ToMulaw8k', samples, rate, state: stream.snapshot() };
        const reply = unwrapCodecReply(await pool.run(job, { transferList: transferListOf(job) })) as MulawResult;
        stream.restore(reply.state!);
        const t1 = performance.now();
        const active = performance.eventLoopUtilization(performance.eventLoopUtilization(), e0).active;
        if (r >= 0) {
          lat.push(t1 - t0);
          main.push(active);
        }
      }
      const poolLatency = median(lat);
      const poolMain = median(main);
      const saved = inline - poolMain;
      const added = poolLatency - inline;
      rows.push({ ms, inline, poolLatency, poolMain, saved, added, wins: saved > added });
    }
  } finally {
    await pool.destroy();
  }
  return rows;
}

async function child(kind: string, rate: number, secs: number): Promise<void> {
  const rows = kind === 'throughput' ? throughput(rate, secs) : await crossover(rate);
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}

function runChild<T>(self: string, kind: string, rate: number, secs: number): T | null {
  const r = spawnSync(process.execPath, [self, '--child', kind, '--rate', String(rate), '--secs', String(secs)], {
    encoding: 'utf8',
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('[')) {
    console.log(`${kind} ${rate}: failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
    return null;
  }
  return JSON.parse(line) as T;
}

const f = (v: number, d = 3): string => v.toFixed(d);

async function main(): Promise<void> {
  const values = commandLine({
    usage: 'node dist/bench/codec-throughput.js',
    purpose:
      'Codec cost (× real time on one core per rate, TTS and STT directions) and the chunk size where the codec pool starts to pay for itself.',
    options: {
      child: { type: 'string' },
      rate: { type: 'string', default: '24000' },
      rates: { type: 'string', default: '24000,48000' },
      secs: { type: 'string', default: '10' },
    },
    help: {
      child: 'internal: the row group a child process runs',
      rate: 'internal: the rate of a child process, Hz',
      rates: 'PCM sample rates to measure, Hz',
      secs: 'seconds per measurement',
    },
    numbers: ['rate', 'rates', 'secs'],
  });
  const secs = Number(values.secs);
  if (values.child) return child(values.child, Number(values.rate), secs);
  const self = fileURLToPath(import.meta.url);
  const m = machineInfo();
  console.log(`# codec throughput — ${m.cpu} × ${m.cores} cores, Node ${m.node}, ${m.when}\n`);
  console.log(`## × real time on one core (${secs} s of audio, median of 5)\n`);
  console.log('conversion | × real time | ns per 8 kHz sample');
  console.log('---|---:|---:');
  for (const rate of SUPPORTED_RATES) {
    for (const row of runChild<ThroughputRow[]>(self, 'throughput', rate, secs) ?? []) {
      console.log(`${row.name} | ${f(row.xrt, 0)} | ${f(row.nsPerOutSample, 1)}`);
    }
  }
  for (const rate of values.rates.split(',').map(Number)) {
    console.log(`\n## inline vs 1-thread piscina pool, one ${rate} Hz stream → mu-law 8k (medians, ms)\n`);
    console.log(
      'chunk | inline (all on main) | pool latency | pool main-thread | main saved | latency added | pool wins',
    );
    console.log('---:|---:|---:|---:|---:|---:|:---:');
    const rows = runChild<CrossRow[]>(self, 'crossover', rate, secs) ?? [];
    for (const r of rows) {
      console.log(
        `${r.ms} ms | ${f(r.inline)} | ${f(r.poolLatency)} | ${f(r.poolMain)} | ${f(r.saved)} | ${f(r.added)} | ${r.wins ? 'yes' : 'no'}`,
      );
    }
    const first = rows.find((r) => r.wins);
    console.log(
      `\ncrossover at ${rate} Hz: ${first ? `pool wins from ${first.ms} ms chunks` : 'pool never wins in this range'}`,
    );
  }
}

void main();
