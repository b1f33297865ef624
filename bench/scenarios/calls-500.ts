// 500 simultaneous echo calls, ramped at 100/s.
import { ALL_PACERS, runScenarioFile } from '../lib/scenario-file.js';

await runScenarioFile(
  'calls-500',
  ALL_PACERS.map((p) => ({ ...p, scenario: '500 calls', calls: 500, seconds: 20, rampPerSec: 100 })),
);
