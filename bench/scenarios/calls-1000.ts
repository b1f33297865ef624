// 1000 simultaneous echo calls, ramped at 100/s.
import { ALL_PACERS, PTIME_NICE, runScenarioFile } from '../lib/scenario-file.js';

await runScenarioFile(
  'calls-1000',
  [...ALL_PACERS, PTIME_NICE].map((p) => ({ ...p, scenario: '1000 calls', calls: 1000, seconds: 20, rampPerSec: 100 })),
);
