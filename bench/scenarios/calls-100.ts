// 100 simultaneous echo calls, ramped at 100/s.
import { ALL_PACERS, runScenarioFile } from '../lib/scenario-file.js';

await runScenarioFile(
  'calls-100',
  ALL_PACERS.map((p) => ({ ...p, scenario: '100 calls', calls: 100, seconds: 20, rampPerSec: 100 })),
);
