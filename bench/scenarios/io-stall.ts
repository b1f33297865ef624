// Application stalls with the sockets on main and on the I/O thread (io: 'worker'), beside the
// best main-thread design (an absolute clock with a 160 ms lead) and a naive setTimeout loop:
// 100 tone calls under 200@2000 and 500@5000 (the queue holds 1 s), and 100 echo calls under
// 50@500 (in echo mode the application produces nothing while it is stalled).
import type { ScenarioSpec } from '../lib/run-scenario.js';
import { runScenarioFile } from '../lib/scenario-file.js';

const TONE: Pick<ScenarioSpec, 'pacer' | 'lead' | 'io'>[] = [
  { pacer: 'ptime', lead: 3 },
  { pacer: 'ptime', lead: 3, io: 'worker' },
  { pacer: 'absolute' },
  { pacer: 'timeout' },
];
const ECHO: Pick<ScenarioSpec, 'pacer' | 'lead' | 'io'>[] = [
  { pacer: 'ptime', lead: 3 },
  { pacer: 'ptime', lead: 3, io: 'worker' },
  { pacer: 'absolute' },
];

await runScenarioFile('io-stall', [
  ...TONE.map((p) => ({
    ...p,
    scenario: 'tone stall 200@2000',
    calls: 100,
    seconds: 30,
    mode: 'tone',
    injectStall: '200@2000',
  })),
  ...TONE.map((p) => ({
    ...p,
    scenario: 'tone stall 500@5000',
    calls: 100,
    seconds: 30,
    mode: 'tone',
    injectStall: '500@5000',
  })),
  ...ECHO.map((p) => ({
    ...p,
    scenario: 'echo stall 50@500',
    calls: 100,
    seconds: 20,
    mode: 'echo',
    injectStall: '50@500',
  })),
]);
