// Main thread blocked 200 ms every 2 s: longer than ptime's default lead (60 ms) can hide.
import { ALL_PACERS, runScenarioFile } from '../lib/scenario-file.js';

await runScenarioFile(
  'stall-200-2000',
  ALL_PACERS.map((p) => ({
    ...p,
    scenario: 'stall 200@2000',
    calls: 100,
    seconds: 30,
    mode: 'tone',
    injectStall: '200@2000',
  })),
);
