import type { CallData, LoadResult } from './load-generator.js';
import { percentiles } from './playout-model.js';
import type { EchoSummary } from './report-types.js';

/** Frames spoken in the first second of a call are left out: the ramp and the first lead. */
export const WARM_UP_MS = 1000;
/** Frames spoken this close before the cut may have their echo caught by it: not "before". */
export const BEFORE_CUT_MARGIN_MS = 1000;
/** "After recovery": frames spoken from this long after the cut ended. */
export const RECOVERY_MS = 3000;

/** A hold of all traffic, ms on the generator's clock (from its start). */
export interface CutWindow {
  fromMs: number;
  untilMs: number;
}

/** What numbered echoes say about one load run, as raw values so runs can be merged. */
export interface EchoFigures {
  calls: number;
  /** Echo delay (arrival of a frame's echo − the tick the frame was spoken at), ms. */
  delayBeforeMs: number[];
  delayAfterMs: number[];
  /** Frames echoed. */
  echoed: number;
  /** Echoes that came after the echo of a later frame. */
  outOfOrder: number;
  /** Frames echoed more than once. */
  duplicatesEchoed: number;
  /**
   * Gaps in what came back: frames older than the newest echoed that never came back (dropped on
   * the way, or by the server); what was still queued when the call hung up is not counted.
   */
  missing: number;
  /** Echoes whose number could not be read. */
  unreadable: number;
  /** Inbound frames sent after newer ones, and sent twice (disordered calls). */
  sentLate: number;
  duplicated: number;
  /** Calls the server closed before the generator hung up, by close code. */
  closedEarly: Record<string, number>;
}

function callFigures(c: CallData, cut: CutWindow | null, out: EchoFigures): void {
  const stamps = c.stamps ?? [];
  const sends = c.sends ?? [];
  const start = sends[0] ?? 0;
  const seen = new Uint8Array(sends.length + 1);
  let newest = 0;
  for (let i = 0; i < stamps.length; i++) {
    const chunk = stamps[i]!;
    const tick = sends[chunk - 1];
    if (chunk < 1 || tick === undefined) {
      out.unreadable++;
      continue;
    }
    out.echoed++;
    if (seen[chunk]) out.duplicatesEchoed++;
    else if (chunk < newest) out.outOfOrder++;
    seen[chunk] = 1;
    newest = Math.max(newest, chunk);
    if (tick < start + WARM_UP_MS) continue;
    const delay = c.arrivals[i]! - tick;
    if (cut === null || tick < cut.fromMs - BEFORE_CUT_MARGIN_MS) out.delayBeforeMs.push(delay);
    else if (tick >= cut.untilMs + RECOVERY_MS) out.delayAfterMs.push(delay);
  }
  for (let chunk = 1; chunk < newest; chunk++) if (!seen[chunk]) out.missing++;
  out.sentLate += c.disorder?.sentLate ?? 0;
  out.duplicated += c.disorder?.duplicated ?? 0;
  if (c.closedBeforeStop) {
    const code = String(c.closeCode ?? 'none');
    out.closedEarly[code] = (out.closedEarly[code] ?? 0) + 1;
  }
}

/**
 * Read one run's numbered echoes (LoadOptions.stampFrames): the echo delay before a cut and after
 * recovery from it, and whether the frames came back in order, once each, all of them.
 */
export function echoFigures(load: LoadResult, cut: CutWindow | null): EchoFigures {
  const out: EchoFigures = {
    calls: load.calls.length,
    delayBeforeMs: [],
    delayAfterMs: [],
    echoed: 0,
    outOfOrder: 0,
    duplicatesEchoed: 0,
    missing: 0,
    unreadable: 0,
    sentLate: 0,
    duplicated: 0,
    closedEarly: {},
  };
  for (const c of load.calls) callFigures(c, cut, out);
  return out;
}

/** The counts and delay percentiles of one or more runs' echo figures, for a report. */
export function summarizeEchoes(parts: EchoFigures[]): EchoSummary {
  const sum = (
    k: 'calls' | 'echoed' | 'outOfOrder' | 'duplicatesEchoed' | 'missing' | 'unreadable' | 'sentLate' | 'duplicated',
  ) => parts.reduce((n, p) => n + p[k], 0);
  const closedEarly: Record<string, number> = {};
  for (const p of parts)
    for (const [code, n] of Object.entries(p.closedEarly)) closedEarly[code] = (closedEarly[code] ?? 0) + n;
  return {
    calls: sum('calls'),
    delayBeforeMs: percentiles(parts.flatMap((p) => p.delayBeforeMs)),
    delayAfterMs: percentiles(parts.flatMap((p) => p.delayAfterMs)),
    echoed: sum('echoed'),
    outOfOrder: sum('outOfOrder'),
    duplicatesEchoed: sum('duplicatesEchoed'),
    missing: sum('missing'),
    unreadable: sum('unreadable'),
    sentLate: sum('sentLate'),
    duplicated: sum('duplicated'),
    closedEarly,
  };
}
