// The other core kept busy by a spinning process, 100 tone calls.
import { ALL_PACERS, runScenarioFile } from '../lib/scenario-file.js';

await runScenarioFile(
  'busy-core',
  ALL_PACERS.map((p) => ({ ...p, scenario: 'other core busy', calls: 100, seconds: 20, mode: 'tone', busyCore: true })),
);
