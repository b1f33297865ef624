/**
 * How exactly ptime knows what the caller heard at a barge-in: `ptime serve` in tone mode, 100
 * calls, each interrupted 10 times by a DTMF at a random moment 1–5 s into its utterance (1,000
 * barge-ins). The caller's side plays out at real time (RealtimeListener) and records how much of
 * the utterance it had really played when the clear arrived; the server logs its estimate (the
 * demo's `barge-in` line, heardMs). Reported per configuration: |heardMs − truth| p50/p99/max,
 * and the mark traffic it costs (marks per call per second, each echoed back).
 *
 *   npm run build && node dist/bench/barge-in-accuracy.js [--calls 100] [--per-call 10]
 *     [--mark-every 0,100,200,500] [--leads 0,3] [--stalls none,50@500]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';
import { machineInfo } from '../src/loadtest/machine-info.js';
import { ListeningPeer } from '../test/helpers/listening-peer.js';
import { seeded } from '../test/helpers/seeded.js';
import { BENCH_SERVE } from './lib/run-scenario.js';
import { ServerProcess } from './lib/server-process.js';
import { commandLine } from './lib/command-line.js';

const values = commandLine({
  usage: 'node dist/bench/barge-in-accuracy.js',
  purpose:
    'How exactly heard() knows what the caller heard at a barge-in: ptime serve in tone mode, each call interrupted by DTMF at random moments, against a caller side playing out at real time; one row per configuration.',
  options: {
    calls: { type: 'string', default: '100' },
    'per-call': { type: 'string', default: '10' },
    'mark-every': { type: 'string', default: '0,100,200,500' },
    leads: { type: 'string', default: '0,3' },
    stalls: { type: 'string', default: 'none,50@500' },
  },
  help: {
    calls: 'calls per configuration',
    'per-call': 'barge-ins per call',
    'mark-every': "the engine's mark intervals to try, ms (--mark-every-ms)",
    leads: 'the leads to try, frames',
    stalls: 'application stalls to try: none or BLOCK@EVERY ms',
  },
  numbers: ['calls', 'per-call', 'mark-every', 'leads'],
});
const CALLS = Number(values.calls);
const PER_CALL = Number(values['per-call']);

interface Row {
  markEveryMs: number;
  lead: number;
  stall: string;
  bargeIns: number;
  missing: number;
  errP50: number;
  errP99: number;
  errMax: number;
  /** heardMs − truth: above 0 the estimate ran ahead of the caller. */
  biasMean: number;
  marksPerCallSec: number;
}

async function one(markEveryMs: number, lead: number, stall: string): Promise<Row> {
  const args = ['--lead', String(lead), '--mark-every-ms', String(markEveryMs), '--max-calls', String(CALLS + 10)];
  if (stall !== 'none') args.push('--inject-stall', stall);
  const server = await ServerProcess.start(BENCH_SERVE, args);
  const rand = seeded(markEveryMs * 31 + lead * 7 + (stall === 'none' ? 0 : 1));
  const url = `ws://127.0.0.1:${server.port}/media`;
  const peers: ListeningPeer[] = [];
  const t0 = performance.now();
  const run = async (i: number): Promise<void> => {
    await sleep(i * 20); // ramp: 50 calls a second
    const peer = await ListeningPeer.connect(url);
    peers.push(peer);
    peer.start({ mode: 'tone' });
    await peer.waitFor(() => peer.frames > 0, 10_000, 'the tone');
    for (let k = 0; k < PER_CALL; k++) {
      await sleep(1000 + rand() * 4000);
      peer.dtmf('1');
      await peer.waitFor(() => peer.playedAtClear.length > k, 10_000, `clear ${k + 1}`);
      await peer.waitFor(() => peer.frames > 0 && peer.playedNow() > 0, 10_000, 'the tone again');
    }
  };
  await Promise.all(Array.from({ length: CALLS }, (_, i) => run(i)));
  const secs = (performance.now() - t0) / 1000;
  await sleep(300); // the last barge-in lines
  for (const p of peers) p.ws.close();
  await server.stop();

  const err = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000,
    numberOfSignificantValueDigits: 3,
  });
  let missing = 0;
  let bias = 0;
  let n = 0;
  let marks = 0;
  for (const peer of peers) {
    marks += peer.marksReceived;
    const lines = server.bargeIns.filter((b) => b.streamSid === peer.streamSid);
    peer.playedAtClear.forEach((truth, k) => {
      const est = lines[k]?.heardMs;
      if (est === null || est === undefined) {
        missing++;
        return;
      }
      // Recorded in tenths of a ms so sub-millisecond errors still show.
      err.recordValue(Math.max(1, Math.round(Math.abs(est - truth) * 10)));
      bias += est - truth;
      n++;
    });
  }
  return {
    markEveryMs,
    lead,
    stall,
    bargeIns: n,
    missing,
    errP50: err.getValueAtPercentile(50) / 10,
    errP99: err.getValueAtPercentile(99) / 10,
    errMax: err.maxValue / 10,
    biasMean: n ? bias / n : 0,
    marksPerCallSec: marks / CALLS / secs,
  };
}

const rows: Row[] = [];
for (const stall of values.stalls.split(',')) {
  for (const lead of values.leads.split(',').map(Number)) {
    for (const markEveryMs of values['mark-every'].split(',').map(Number)) {
      const row = await one(markEveryMs, lead, stall);
      rows.push(row);
      console.log(
        `markEveryMs ${markEveryMs} lead ${lead} stall ${stall}: p50 ${row.errP50} p99 ${row.errP99} max ${row.errMax} ms over ${row.bargeIns} (${row.missing} missing), ${row.marksPerCallSec.toFixed(2)} marks/call/s`,
      );
    }
  }
}

const table = [
  '| markEveryMs | lead | stall | barge-ins | \\|heardMs − truth\\| p50 / p99 / max ms | mean bias ms | marks per call per s |',
  '|---:|---:|---|---:|---|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.markEveryMs} | ${r.lead} | ${r.stall} | ${r.bargeIns}${r.missing ? ` (+${r.missing} missing)` : ''} | ${r.errP50.toFixed(1)} / ${r.errP99.toFixed(1)} / ${r.errMax.toFixed(1)} | ${r.biasMean.toFixed(1)} | ${r.marksPerCallSec.toFixed(2)} |`,
  ),
].join('\n');
const m = machineInfo();
const md = `# barge-in accuracy\n\n\`node dist/bench/barge-in-accuracy.js\` — ${CALLS} calls × ${PER_CALL} barge-ins per configuration, tone mode, ${m.cpu} × ${m.cores}, Node ${m.node}, ${m.when.slice(0, 10)}\n\n${table}\n`;
console.log(`\n${md}`);
const out = resolve('bench/results');
mkdirSync(out, { recursive: true });
writeFileSync(resolve(out, 'barge-in-accuracy.md'), md);
