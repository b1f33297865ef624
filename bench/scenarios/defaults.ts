// ptime with no flags against the careful main-thread loop (`absolute`: an absolute clock, 160 ms
// lead) and ptime in each I/O mode at the default lead, in the same run: 100/300/500 idle calls
// (tone: a producer faster than real time; echo) and application stalls 50@500, 200@2000 and
// 500@5000 (tone and file) at 100 calls. CPU per frame per thread below the main table.
//
//   node dist/bench/scenarios/defaults.js [--only SUBSTRING[,SUBSTRING…]] [--secs N]
//
// --only keeps the rows whose scenario name contains one of the substrings (e.g. "300 tone").
import { parseArgs } from 'node:util';
import type { ScenarioSpec } from '../lib/run-scenario.js';
import { runScenarioFile } from '../lib/scenario-file.js';
import { speechLikeWavFile } from '../lib/speech-like-wav.js';

const { values } = parseArgs({ options: { only: { type: 'string' }, secs: { type: 'string', default: '20' } } });
const seconds = Number(values.secs);
const PACERS: Pick<ScenarioSpec, 'pacer' | 'lead' | 'io' | 'defaults'>[] = [
  { pacer: 'absolute' },
  { pacer: 'ptime', defaults: true },
  { pacer: 'ptime', lead: modeLead(), io: 'main' },
  { pacer: 'ptime', lead: modeLead(), io: 'worker' },
];

/** The lead the rows per mode run at: serve's default, so they differ from "no flags" by the mode only. */
function modeLead(): number {
  return Number(process.env['PTIME_BENCH_LEAD'] ?? 8);
}

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
try {
  await runScenarioFile(
    'defaults',
    wanted.flatMap((r) => PACERS.map((p) => ({ ...r, ...p }))),
    { costPerFrame: true },
  );
} finally {
  remove();
}
