import type { ScenarioReport } from '../../src/loadtest/report-types.js';

/** What the main job checks its own run against. */
export interface RunCheck {
  serverFramesSent: number;
  failedToConnect: number;
  serverExit: number | null;
}

/**
 * One line: each target the main job holds a run to, met or missed, with the figure. The exit code
 * follows the correctness checks (frames, calls, exit); late@60 is a timing figure of a shared
 * machine, so it is reported, not failed on.
 */
export function verdict(r: ScenarioReport, check: RunCheck): string {
  const late60 = r.aggregate.late.find((l) => l.bufferMs === 60)?.latePct ?? 0;
  const targets: [boolean, string][] = [
    [late60 === 0, `late@60 ${late60.toFixed(3)} % (target 0)`],
    [
      r.aggregate.framesReceived === check.serverFramesSent,
      `frames received ${r.aggregate.framesReceived} = sent ${check.serverFramesSent}`,
    ],
    [check.failedToConnect === 0, `${check.failedToConnect} calls failed to connect (target 0)`],
    [check.serverExit === 0, `server exit ${check.serverExit} (target 0)`],
  ];
  const missed = targets.filter(([ok]) => !ok).length;
  const all = targets.map(([ok, text]) => `${ok ? 'met' : 'MISSED'}: ${text}`).join('; ');
  return `verdict: ${missed === 0 ? 'every target met' : `${missed} of ${targets.length} targets missed`} — ${all}`;
}
