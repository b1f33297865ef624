// What recording costs: the same load (200 calls, tone mode, a DTMF barge-in every 3 s per call)
// against `ptime serve` at its defaults (lead 8, io worker) with and without --record-dir, in the
// same run, rounds interleaved, each in a fresh server process. Afterwards every recording is
// checked: one file per call, a valid stereo 16-bit header whose sizes match the file.
//
//   node dist/bench/scenarios/record-cost.js [--calls N] [--secs N] [--rounds N]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineInfo } from '../../src/loadtest/machine-info.js';
import type { ScenarioReport } from '../../src/loadtest/report-types.js';
import { commandLine } from '../lib/command-line.js';
import { runScenario, type ScenarioSpec } from '../lib/run-scenario.js';

const values = commandLine({
  usage: 'node dist/bench/scenarios/record-cost.js',
  purpose:
    'What recording costs: the same load against ptime serve with and without --record-dir, in the same run, rounds interleaved; every recording checked afterwards.',
  options: {
    calls: { type: 'string', default: '200' },
    secs: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    modes: { type: 'string', default: 'tone,echo' },
  },
  help: {
    calls: 'simultaneous calls',
    secs: 'seconds each call streams',
    rounds: 'rounds, each with and without recording',
    modes: 'demo modes to run: tone, echo',
  },
  numbers: ['calls', 'secs', 'rounds'],
});
const calls = Number(values.calls);
const seconds = Number(values.secs);
const rounds = Number(values.rounds);

interface Row {
  label: string;
  report: ScenarioReport;
  files: string;
}

/** One file per call, each a valid stereo 16-bit WAV whose header sizes match the file. */
function checkFiles(dir: string): string {
  const names = readdirSync(dir).filter((n) => n.endsWith('.wav'));
  let valid = 0;
  let seconds = 0;
  for (const n of names) {
    const b = readFileSync(join(dir, n));
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const ok =
      b.toString('latin1', 0, 4) === 'RIFF' &&
      v.getUint32(4, true) === b.length - 8 &&
      v.getUint16(22, true) === 2 &&
      v.getUint16(34, true) === 16 &&
      v.getUint32(40, true) === b.length - 44;
    if (ok) valid++;
    seconds += (b.length - 44) / 4 / v.getUint32(24, true);
  }
  return `${names.length} files, ${valid} valid, ${(seconds / Math.max(1, names.length)).toFixed(1)} s each`;
}

const rows: Row[] = [];
for (let round = 0; round < rounds; round++) {
  for (const mode of values.modes.split(','))
    for (const record of [false, true]) {
      const dir = mkdtempSync(join(tmpdir(), 'ptime-rec-bench-'));
      const spec: ScenarioSpec = {
        scenario: `${calls} calls ${mode}, barge-in every 3 s`,
        pacer: 'ptime',
        lead: 8,
        io: 'worker',
        calls,
        seconds,
        mode,
        rampPerSec: 100,
        dtmfEverySec: 3,
        ...(record ? { serveFlags: ['--record-dir', dir] } : {}),
      };
      try {
        const { check, ...report } = await runScenario(spec);
        if (check.framesReceived !== check.serverFramesSent)
          console.error(`received ${check.framesReceived} but the server sent ${check.serverFramesSent}`);
        rows.push({
          label: `${mode}, ${record ? '--record-dir' : 'no recording'}`,
          report,
          files: record ? checkFiles(dir) : '—',
        });
        console.log(`round ${round + 1} ${mode} ${record ? 'recording' : 'plain'}: done`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
}

const m = machineInfo();
console.log(
  `\n${m.cpu} × ${m.cores}, Node ${m.node}, ${m.when}; ${calls} calls × ${seconds} s, ${rounds} round(s), modes ${values.modes}\n`,
);
console.log('| run | process CPU % | vs no recording | late@60 % | pacer tick error p50 / p99 µs | RSS MB | files |');
console.log('|---|---:|---:|---:|---|---:|---|');
for (let i = 0; i < rows.length; i++) {
  const { label, report: r, files } = rows[i]!;
  const base = rows[i - (i % 2)]!.report.server.cpuPct ?? 0;
  const cpu = r.server.cpuPct ?? 0;
  const late60 = r.aggregate.late.find((l) => l.bufferMs === 60)?.latePct ?? 0;
  const tick = r.server.pacerTickErrorUs;
  console.log(
    `| ${label} | ${cpu.toFixed(1)} | ${i % 2 === 0 ? '—' : `${(((cpu - base) / base) * 100).toFixed(1)} %`} | ${late60.toFixed(3)} | ${tick ? `${tick.p50.toFixed(0)} / ${tick.p99.toFixed(0)}` : '—'} | ${r.server.rssMb?.toFixed(0) ?? '—'} | ${files} |`,
  );
}
