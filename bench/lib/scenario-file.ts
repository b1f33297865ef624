import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderTable } from '../../src/loadtest/report-table.js';
import { commandLine } from './command-line.js';
import type { ScenarioReport } from '../../src/loadtest/report-types.js';
import { endProgressLine, progressLine } from './progress-line.js';
import { runScenario, type ScenarioSpec } from './run-scenario.js';

export const OUT_DIR = resolve(process.env['PTIME_BENCH_OUT'] ?? 'bench/out');

/** The pacers every comparison runs, in the same run: ptime at lead 0 and 3, and the baselines. */
export const ALL_PACERS: Pick<ScenarioSpec, 'pacer' | 'lead' | 'io'>[] = [
  { pacer: 'ptime', lead: 0 },
  { pacer: 'ptime', lead: 3 },
  { pacer: 'ptime', lead: 3, io: 'worker' },
  { pacer: 'interval' },
  { pacer: 'timeout' },
  { pacer: 'absolute' },
];

/** ptime with its pacer thread at nice -10 (os.setPriority from the worker: that thread only). */
export const PTIME_NICE: Pick<ScenarioSpec, 'pacer' | 'lead' | 'pacerNice'> = {
  pacer: 'ptime',
  lead: 3,
  pacerNice: -10,
};

/**
 * Run one scenario file's specs, each with a fresh server process, print the table and write
 * bench/out/<name>.json (bench/regenerate-results.js collects those into RESULTS.md).
 */
export async function runScenarioFile(
  name: string,
  specs: ScenarioSpec[],
  options: { costPerFrame?: boolean; ownFlags?: boolean } = {},
): Promise<ScenarioReport[]> {
  // A scenario file with no flags of its own still answers --help and refuses a flag it lacks.
  if (!options.ownFlags) scenarioCommandLine(name);
  const reports: ScenarioReport[] = [];
  for (const spec of specs) {
    const onProgress = progressLine(`${spec.scenario} ${spec.pacer}`, spec.calls);
    const { check, ...report } = await runScenario({ ...spec, ...(onProgress ? { onProgress } : {}) });
    endProgressLine();
    if (check.framesReceived !== check.serverFramesSent) {
      console.error(
        `${spec.scenario}/${spec.pacer}: received ${check.framesReceived} but the server sent ${check.serverFramesSent}`,
      );
    }
    delete report.calls_detail; // keep the JSON small; the aggregate holds the figures
    reports.push(report);
    console.log(`${spec.scenario} ${report.pacer}: done (${report.aggregate.framesReceived} frames)`);
  }
  console.log(renderTable(reports, options));
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(resolve(OUT_DIR, `${name}.json`), JSON.stringify(reports));
  return reports;
}

/** The command line of a scenario file that takes no flags: --help, or exit 2 on any flag. */
export function scenarioCommandLine(name: string): void {
  commandLine({
    usage: `node dist/bench/scenarios/${name}.js`,
    purpose: `The ${name} scenario: each pacer in a fresh server process, in the same run; prints the table and writes bench/out/${name}.json (bench/regenerate-results.js gathers them into bench/RESULTS.md).`,
    options: {},
    help: {},
  });
}
