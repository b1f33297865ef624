// 10 calls, echo, nothing else running: the floor every pacer starts from.
import { ALL_PACERS, runScenarioFile } from '../lib/scenario-file.js';

await runScenarioFile(
  'idle',
  ALL_PACERS.map((p) => ({ ...p, scenario: 'idle 10 calls', calls: 10, seconds: 20 })),
);
