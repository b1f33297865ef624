/**
 * Regenerate bench/RESULTS.md: run every scenario file in bench/scenarios/ in its own fresh
 * process, then gather their JSON into one table per scenario (with ptime / baseline ratios) and
 * one self-contained HTML report.
 *
 *   npm run build && node dist/bench/regenerate-results.js [--only idle,calls-100]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderHtmlReport } from '../src/loadtest/html-report.js';
import { machineInfo } from '../src/loadtest/machine-info.js';
import { renderTable, TABLE_LEGEND } from '../src/loadtest/report-table.js';
import type { LoadReport, ScenarioReport } from '../src/loadtest/report-types.js';
import { commandLine } from './lib/command-line.js';
import { OUT_DIR } from './lib/scenario-file.js';

const ORDER = [
  'idle',
  'calls-100',
  'calls-500',
  'calls-1000',
  'max-calls',
  'stall-50-500',
  'stall-200-2000',
  'io-stall',
  'io-stall-file',
  'io-idle',
  'defaults',
  'carriers',
  'gc-churn',
  'busy-core',
  'impaired-network',
];
const values = commandLine({
  usage: 'node dist/bench/regenerate-results.js',
  purpose:
    'Run every scenario in bench/scenarios/ (each pacer in a fresh server process) and the codec benches, then write bench/RESULTS.md and bench/out/report.html.',
  options: { only: { type: 'string' }, 'no-run': { type: 'boolean', default: false } },
  help: {
    only: 'comma-separated scenario names to run (default: all, in order)',
    'no-run': 'run nothing: rebuild RESULTS.md from the JSON already in bench/out',
  },
});
const scenarioDir = fileURLToPath(new URL('./scenarios/', import.meta.url));
const resultsDir = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bench', 'results');
/** Codec benchmarks: no server, so they run here directly (each in its own process). */
const CODEC_BENCHES: [string, string[]][] = [
  ['codec-throughput', []],
  ['codec-main-thread', ['--calls', '500', '--secs', '5', '--chunks', '20,100,200,1000']],
];
const codecSections: string[] = [];
const available = readdirSync(scenarioDir)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3));
const wanted = values.only ? values.only.split(',') : ORDER.filter((n) => available.includes(n));

if (!values['no-run']) {
  for (const name of wanted) {
    console.log(`== ${name}`);
    const r = spawnSync(process.execPath, [resolve(scenarioDir, `${name}.js`)], {
      stdio: 'inherit',
      env: { ...process.env, PTIME_BENCH_OUT: OUT_DIR },
    });
    if (r.status !== 0) console.error(`scenario ${name} failed (exit ${r.status})`);
  }
  // The codec benches print markdown; keep each in bench/results/ and embed it below.
  for (const [name, args] of CODEC_BENCHES) {
    console.log(`== ${name}`);
    const r = spawnSync(process.execPath, [fileURLToPath(new URL(`./${name}.js`, import.meta.url)), ...args], {
      encoding: 'utf8',
      maxBuffer: 16 << 20,
    });
    if (r.status === 0) writeFileSync(resolve(resultsDir, `${name}.md`), r.stdout);
    else console.error(`${name} failed (exit ${r.status}): ${r.stderr.slice(-500)}`);
  }
}

for (const [name] of CODEC_BENCHES) {
  const file = resolve(resultsDir, `${name}.md`);
  if (!existsSync(file)) continue;
  // Their own headings become sub-headings of one section each.
  const body = readFileSync(file, 'utf8')
    .replace(/^# (.*)$/m, '')
    .replace(/^## /gm, '### ')
    .trim();
  codecSections.push(`## ${name}\n\n\`node dist/bench/${name}.js\`\n\n${body}\n`);
}

const m = machineInfo();
const sections: string[] = [];
const all: ScenarioReport[] = [];
for (const name of ORDER) {
  const file = resolve(OUT_DIR, `${name}.json`);
  if (!existsSync(file)) continue;
  const reports = JSON.parse(readFileSync(file, 'utf8')) as ScenarioReport[];
  all.push(...reports);
  sections.push(
    `## ${name}\n\n\`node dist/bench/scenarios/${name}.js\`\n\n${renderTable(reports, { costPerFrame: name === 'carriers' || name === 'defaults' })}\n`,
  );
}
const md = `# ptime benchmark results

Machine: ${m.cpu} × ${m.cores} cores, Node ${m.node}; generated ${m.when}.
Server and load generator share this machine. Every scenario runs each pacer with a fresh server
process, in the same run; ratios are ptime / baseline (below 1 is better for ptime).
Regenerate: \`npm run build && node dist/bench/regenerate-results.js\` (or \`--only NAME,…\`).

${TABLE_LEGEND}
Baselines: \`interval\` = one setInterval(20) per call; \`timeout\` = drift-corrected setTimeout loop
per call that re-bases when late; \`absolute\` = absolute-clock loop per call with a 160 ms lead.

${sections.join('\n')}
${codecSections.join('\n')}`;
writeFileSync(resolve(OUT_DIR, '..', 'RESULTS.md'), md);
const report: LoadReport = { machine: m, scenarios: all };
writeFileSync(resolve(OUT_DIR, 'report.html'), renderHtmlReport(report));
console.log(`wrote bench/RESULTS.md and ${resolve(OUT_DIR, 'report.html')}`);
