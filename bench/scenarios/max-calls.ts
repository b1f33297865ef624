// The largest call count that keeps late@60ms at 0 for ptime (lead 3, echo): step up until a run
// has late frames at a 60 ms jitter buffer, then report every step.
import { runScenarioFile } from '../lib/scenario-file.js';

const steps = (process.env['PTIME_MAX_CALLS_STEPS'] ?? '400,700,1000,1300,1600').split(',').map(Number);
await runScenarioFile(
  'max-calls',
  steps.map((calls) => ({
    scenario: `search ${calls} calls`,
    pacer: 'ptime' as const,
    lead: 3,
    calls,
    seconds: 10,
    rampPerSec: 200,
  })),
);
