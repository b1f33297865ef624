// io-stall in `file` mode: 100 calls playing a WAV (looped), under 200@2000 and 500@5000, sockets
// on main and on the I/O thread, beside the absolute-clock baseline. The WAV (5 s, 16 kHz mono,
// a modulated two-tone signal) is written to a temporary file first, so the scenario needs no asset.
import type { ScenarioSpec } from '../lib/run-scenario.js';
import { runScenarioFile } from '../lib/scenario-file.js';
import { speechLikeWavFile } from '../lib/speech-like-wav.js';

const { audioFile, remove } = speechLikeWavFile(5);
const PACERS: Pick<ScenarioSpec, 'pacer' | 'lead' | 'io'>[] = [
  { pacer: 'ptime', lead: 3 },
  { pacer: 'ptime', lead: 3, io: 'worker' },
  { pacer: 'absolute' },
];
try {
  await runScenarioFile('io-stall-file', [
    ...PACERS.map((p) => ({
      ...p,
      scenario: 'file stall 200@2000',
      calls: 100,
      seconds: 30,
      mode: 'file',
      injectStall: '200@2000',
      audioFile,
    })),
    ...PACERS.map((p) => ({
      ...p,
      scenario: 'file stall 500@5000',
      calls: 100,
      seconds: 30,
      mode: 'file',
      injectStall: '500@5000',
      audioFile,
    })),
  ]);
} finally {
  remove();
}
