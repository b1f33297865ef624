// Main thread blocked 50 ms every 500 ms (ptime serve --inject-stall 50@500), 100 calls of tone
// (a producer that keeps the queue topped up), 60 s so cumulative drift would show.
import { ALL_PACERS, PTIME_NICE, runScenarioFile } from '../lib/scenario-file.js';

await runScenarioFile(
  'stall-50-500',
  [...ALL_PACERS, PTIME_NICE].map((p) => ({
    ...p,
    scenario: 'stall 50@500',
    calls: 100,
    seconds: 60,
    mode: 'tone',
    injectStall: '50@500',
  })),
);
