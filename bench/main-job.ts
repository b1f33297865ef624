/**
 * ptime's main job (`npm start`): start `ptime serve` in its own process, run a 200-call, 20 s
 * Twilio-style load test against it with a live progress line, print the table, and write the
 * JSON and the self-contained HTML report.
 *
 *   npm start                       (builds first)
 *   node dist/bench/main-job.js [--calls 200] [--secs 20] [--mode echo|tone|silence] [--lead N] [--io main|worker] [--out bench/out]
 *                               [--compare DIR [--before-first]]
 *
 * Without --lead and --io the server runs with `ptime serve`'s own defaults (no flags).
 *
 * `--compare DIR` runs the same scenario again, in the same run, against another built ptime
 * checkout in DIR (its dist/bench/bench-serve.js), as the before: both rows in one table.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderHtmlReport } from '../src/loadtest/html-report.js';
import { renderTable, TABLE_LEGEND } from '../src/loadtest/report-table.js';
import { verdict } from './lib/main-job-verdict.js';
import type { LoadReport } from '../src/loadtest/report-types.js';
import { machineInfo } from '../src/loadtest/machine-info.js';
import { endProgressLine, progressLine } from './lib/progress-line.js';
import { runScenario } from './lib/run-scenario.js';
import { commandLine } from './lib/command-line.js';

const values = commandLine({
  usage: 'npm start --',
  purpose:
    "ptime's main job: ptime serve (its defaults unless --lead/--io) in its own process, a Twilio-style load test against it with a live progress line, the table, the JSON and the HTML report.",
  options: {
    calls: { type: 'string', default: '200' },
    secs: { type: 'string', default: '20' },
    mode: { type: 'string', default: 'echo' },
    lead: { type: 'string' },
    io: { type: 'string' },
    out: { type: 'string', default: 'bench/out' },
    compare: { type: 'string' },
    'before-first': { type: 'boolean', default: false },
  },
  help: {
    calls: 'simultaneous calls',
    secs: 'seconds each call streams',
    mode: 'the demo mode: echo, tone, silence or file',
    lead: "ptime serve's --lead (with --io: main when not given)",
    io: "ptime serve's --io: main or worker",
    out: 'where the JSON and HTML reports go',
    compare: 'another built checkout run as the before, in the same run',
    'before-first': 'run the --compare checkout first',
  },
  numbers: ['calls', 'secs', 'lead'],
});
const calls = Number(values.calls);
const seconds = Number(values.secs);
const m = machineInfo();
if (values.io !== undefined && values.io !== 'main' && values.io !== 'worker') {
  process.stderr.write(`main-job: --io must be main or worker (got ${values.io})\n`);
  process.exit(2);
}
const io = values.io;
const defaults = io === undefined && values.lead === undefined;
console.log(
  `ptime main job: ${calls} calls × ${seconds} s, mode ${values.mode}, ${defaults ? "ptime serve's defaults" : `lead ${values.lead ?? 3}, io ${io ?? 'main'}`} — ${m.cpu} × ${m.cores}, Node ${m.node}`,
);
console.log('server: ptime serve in its own process; generator: this process (1 generator process)');
const compareServe =
  values.compare === undefined ? undefined : join(resolve(values.compare), 'dist/bench/bench-serve.js');
if (compareServe !== undefined && !existsSync(compareServe)) {
  process.stderr.write(`main-job: --compare ${values.compare}: no ${compareServe} (build that checkout first)\n`);
  process.exit(2);
}
const run = async (label: string, serveScript?: string) => {
  const report = await runScenario({
    scenario: label,
    pacer: 'ptime',
    ...(defaults ? { defaults } : {}),
    ...(values.lead === undefined ? {} : { lead: Number(values.lead) }),
    ...(io === undefined ? {} : { io }),
    calls,
    seconds,
    rampPerSec: 50,
    mode: values.mode,
    onProgress: progressLine('load', calls),
    ...(serveScript === undefined ? {} : { serveScript }),
  });
  endProgressLine();
  return report;
};
// The first run in a process warms the generator up: --before-first puts the compared checkout there.
const runBefore = () =>
  compareServe === undefined ? null : run(`main ${calls} calls (--compare ${values.compare})`, compareServe);
const beforeFirst = values['before-first'] ? await runBefore() : null;
const report = await run(compareServe === undefined ? `main ${calls} calls` : `main ${calls} calls (this checkout)`);
const before = values['before-first'] ? beforeFirst : await runBefore();
const { check, ...scenario } = report;
const scenarios = [scenario];
if (before) {
  const { check: beforeCheck, ...beforeScenario } = before;
  scenarios.push(beforeScenario);
  console.log(
    `before (--compare): frames received ${beforeScenario.aggregate.framesReceived} / sent ${beforeCheck.serverFramesSent}; server exit code ${beforeCheck.serverExit}`,
  );
}
console.log('');
console.log(renderTable(scenarios));
console.log('');
console.log(TABLE_LEGEND);
console.log('');
const a = scenario.aggregate;
console.log(
  `frames received ${a.framesReceived} / frames the server sent ${check.serverFramesSent}  (${a.framesReceived === check.serverFramesSent ? 'match' : 'MISMATCH'})`,
);
console.log(`calls that failed to connect: ${check.failedToConnect}; server exit code ${check.serverExit}`);
console.log(verdict(scenario, check));
const full: LoadReport = { machine: m, scenarios };
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const jsonPath = resolve(out, 'main-job.json');
const htmlPath = resolve(out, 'main-job.html');
writeFileSync(jsonPath, JSON.stringify(full));
writeFileSync(htmlPath, renderHtmlReport(full));
console.log(`JSON report: ${jsonPath}`);
console.log(`HTML report: ${htmlPath}`);
const ok = check.failedToConnect === 0 && check.serverExit === 0 && a.framesReceived === check.serverFramesSent;
process.exit(ok ? 0 : 1);
