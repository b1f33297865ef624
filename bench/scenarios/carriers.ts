// The cost of each carrier's dialect: 500 echo calls through each carrier's route, same server,
// same generator (playing that carrier's side), one run each; then CPU per frame sent per thread.
import { CARRIER_NAMES } from '../../src/protocol/carrier-adapter.js';
import { runScenarioFile } from '../lib/scenario-file.js';

await runScenarioFile(
  'carriers',
  CARRIER_NAMES.map((carrier) => ({
    scenario: '500 calls',
    pacer: 'ptime' as const,
    lead: 3,
    carrier,
    calls: 500,
    seconds: 20,
    rampPerSec: 100,
  })),
  { costPerFrame: true },
);
