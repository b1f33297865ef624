// ptime with no flags against the careful main-thread loop (`absolute`: an absolute clock, 160 ms
// lead) and ptime in each I/O mode at the default lead, in the same run: 100/300/500 idle calls
// (tone: a producer faster than real time; echo) and application stalls 50@500, 200@2000 and
// 500@5000 (tone and file) at 100 calls. CPU per frame per thread below the main table.
//
//   node dist/bench/scenarios/defaults.js [--only SUBSTRING[,SUBSTRING…]] [--secs N] [--rounds N]
//                                         [--try "FLAGS"]…
//
// --only keeps the rows whose scenario name contains one of the substrings (e.g. "300 tone").
// --rounds runs the whole set N times, interleaved, and adds the median CPU per frame per pacer.
// --try adds a ptime row in each mode with these extra serve flags (to compare a candidate default).
import type { ScenarioReport } from '../../src/loadtest/report-types.js';
import type { ScenarioSpec } from '../lib/run-scenario.js';
import { runScenarioFile } from '../lib/scenario-file.js';
import { speechLikeWavFile } from '../lib/speech-like-wav.js';
import { commandLine } from '../lib/command-line.js';

const values = commandLine({
  usage: 'node dist/bench/scenarios/defaults.js',
  purpose:
    'ptime with no flags, ptime in each I/O mode and the careful main-thread loop in the same run: idle 100/300/500 calls (tone, echo) and stalls 50@500, 200@2000, 500@5000 (tone, file).',
  options: {
    only: { type: 'string' },
    secs: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '1' },
    try: { type: 'string', multiple: true, default: [] },
  },
  help: {
    only: 'keep the rows whose scenario contains one of these comma-separated substrings, e.g. "300 tone"',
    secs: 'seconds per row',
    rounds: 'run the whole set this many times, interleaved, and add medians',
    try: 'add a row per I/O mode with these extra serve flags (repeatable; --try="--phases 1")',
  },
  numbers: ['secs', 'rounds'],
});
const seconds = Number(values.secs);
/** The lead of the per-mode rows: serve's default, so they differ from "no flags" by the mode only. */
const LEAD = 8;
type Pacer = Pick<ScenarioSpec, 'pacer' | 'lead' | 'io' | 'defaults' | 'serveFlags'>;
const PACERS: Pacer[] = [
  { pacer: 'absolute' },
  { pacer: 'ptime', defaults: true },
  { pacer: 'ptime', lead: LEAD, io: 'main' },
  { pacer: 'ptime', lead: LEAD, io: 'worker' },
  ...values.try.flatMap((flags): Pacer[] =>
    (['main', 'worker'] as const).map((io) => ({ pacer: 'ptime', lead: LEAD, io, serveFlags: flags.split(' ') })),
  ),
];

const { audioFile, remove } = speechLikeWavFile(5);
const rows: Omit<ScenarioSpec, 'pacer'>[] = [];
for (const calls of [100, 300, 500])
  for (const mode of ['tone', 'echo'])
    rows.push({ scenario: `idle ${calls} ${mode}`, calls, seconds, mode, rampPerSec: 100 });
for (const stall of ['50@500', '200@2000', '500@5000'])
  for (const mode of ['tone', 'file'])
    rows.push({ scenario: `stall ${stall} ${mode}`, calls: 100, seconds, mode, injectStall: stall, audioFile });

const only = values.only?.split(',');
const wanted = rows.filter((r) => only === undefined || only.some((o) => r.scenario.includes(o)));
const rounds = Number(values.rounds);
try {
  const reports = await runScenarioFile(
    'defaults',
    wanted.flatMap((r) => Array.from({ length: rounds }, () => PACERS.map((p) => ({ ...r, ...p }))).flat()),
    { costPerFrame: true, ownFlags: true },
  );
  if (rounds > 1) console.log(`\n${medianTable(reports)}`);
} finally {
  remove();
}

/** Per scenario and pacer over the rounds: median process µs/frame and the worst late@0 / late@60. */
function medianTable(reports: ScenarioReport[]): string {
  const groups = new Map<string, ScenarioReport[]>();
  for (const r of reports) {
    const key = `${r.scenario} | ${r.pacer}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const perFrame = (r: ScenarioReport): number =>
    (((r.server.cpuPct ?? 0) / 100) * 1e6) / (r.calls * r.aggregate.framesPerSecPerCall.p50);
  const late = (r: ScenarioReport, b: number): number => r.aggregate.late.find((l) => l.bufferMs === b)?.latePct ?? 0;
  const lines = [
    '| scenario | pacer | runs | process µs/frame median (each) | late@0 % worst | late@60 % worst |',
    '|---|---|---:|---|---:|---:|',
  ];
  for (const [key, rs] of groups) {
    const us = rs.map(perFrame).sort((a, b) => a - b);
    const median = us[Math.floor(us.length / 2)]!;
    lines.push(
      `| ${key} | ${rs.length} | ${median.toFixed(1)} (${rs.map((r) => perFrame(r).toFixed(1)).join(', ')}) | ${Math.max(...rs.map((r) => late(r, 0))).toFixed(3)} | ${Math.max(...rs.map((r) => late(r, 60))).toFixed(3)} |`,
    );
  }
  return lines.join('\n');
}
