// Echo calls through a userspace impairment proxy (this kernel has no netem): 40 ms ± 10 ms each
// way, 1 % of 20 ms intervals stalled 200–400 ms (a lost segment's retransmission timeout), and
// all traffic held 2 s mid-call. 100 Twilio calls and 20 Telnyx calls whose inbound media comes
// partly out of order and duplicated; ptime (both I/O modes, and with a latency bound) and the
// careful main-thread loop in the same run, each with fresh processes and the same seed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderTable } from '../../src/loadtest/report-table.js';
import type { ScenarioReport } from '../../src/loadtest/report-types.js';
import { runImpaired, type ImpairedSpec } from '../lib/run-impaired.js';
import { OUT_DIR, scenarioCommandLine } from '../lib/scenario-file.js';

scenarioCommandLine('impaired-network');
const base: Omit<ImpairedSpec, 'pacer'> = {
  scenario: 'impaired network',
  twilioCalls: 100,
  telnyxCalls: 20,
  disorder: { latePct: 2, duplicatePct: 1 },
  seconds: 20,
  cutAtMs: 8000,
  cutMs: 2000,
  seed: 26,
};
const specs: ImpairedSpec[] = [
  { ...base, pacer: 'ptime' },
  { ...base, pacer: 'ptime', io: 'main' },
  { ...base, pacer: 'ptime', maxQueuedMs: 200 },
  { ...base, pacer: 'absolute' },
];

const reports: ScenarioReport[] = [];
for (const spec of specs) {
  const { check, ...report } = await runImpaired(spec);
  if (check.serverFramesSent !== report.aggregate.framesReceived)
    console.error(
      `${report.pacer}: received ${report.aggregate.framesReceived} but the server sent ${check.serverFramesSent}`,
    );
  delete report.calls_detail;
  reports.push(report);
  console.log(`${report.pacer}: done (${report.aggregate.framesReceived} frames)`);
}
console.log(renderTable(reports));
mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(resolve(OUT_DIR, 'impaired-network.json'), JSON.stringify(reports));
