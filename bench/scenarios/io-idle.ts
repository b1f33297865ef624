// Sockets on main or on the I/O thread (io: 'worker') with nothing else running: 500 and 1000
// echo calls. Worker mode must cost no more than main mode here to be the default.
import { runScenarioFile } from '../lib/scenario-file.js';

const MODES = [
  { pacer: 'ptime' as const, lead: 3 },
  { pacer: 'ptime' as const, lead: 3, io: 'worker' as const },
];
await runScenarioFile('io-idle', [
  ...MODES.map((p) => ({ ...p, scenario: 'idle 500 calls', calls: 500, seconds: 20, rampPerSec: 100 })),
  ...MODES.map((p) => ({ ...p, scenario: 'idle 1000 calls', calls: 1000, seconds: 20, rampPerSec: 100 })),
]);
