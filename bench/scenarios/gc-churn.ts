// Allocation churn on the server's main thread (GC pressure), 100 tone calls.
import { ALL_PACERS, runScenarioFile } from '../lib/scenario-file.js';

await runScenarioFile(
  'gc-churn',
  ALL_PACERS.map((p) => ({
    ...p,
    scenario: 'gc churn 200 MB/s',
    calls: 100,
    seconds: 20,
    mode: 'tone',
    churnMBps: 200,
  })),
);
