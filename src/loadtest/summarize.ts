import type { LoadResult } from './load-generator.js';
import { finalDrift, histogram, intervals, lateFrames, percentiles, scheduleErrors } from './playout-model.js';
import type { CallFigures, LateFigures, ScenarioReport, ServerFigures } from './report-types.js';

export const JITTER_BUFFERS_MS = [0, 20, 60] as const;

export interface ScenarioMeta {
  scenario: string;
  pacer: string;
  lead: number | null;
  seconds: number;
  generatorProcesses: number;
  /** Stall windows [start, end] in ms on the generator's clock (offsets from its start). */
  stallsMs?: [number, number][];
  /** Echo mode: report how long each inbound frame took to come back. */
  echo?: boolean;
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function lateFigures(bufferMs: number, frames: number, late: number): LateFigures {
  return { bufferMs, frames, late, latePct: frames ? (100 * late) / frames : 0 };
}

/** Turn raw arrivals into the report's figures: per call, then aggregated over all calls. */
export function summarize(load: LoadResult, server: ServerFigures, meta: ScenarioMeta): ScenarioReport {
  const perCall: CallFigures[] = [];
  const allIntervals: Float64Array[] = [];
  const allErrors: Float64Array[] = [];
  const lateTotals = JITTER_BUFFERS_MS.map(() => ({ frames: 0, late: 0 }));
  let maxDrift = 0;
  let framesReceived = 0;
  const echoLatencies: Float64Array[] = [];
  for (const c of load.calls) {
    const a = c.arrivals;
    if (meta.echo && c.sends) {
      // Echoed frames come back in order, one for one, while nothing is dropped or cleared.
      const n = Math.min(a.length, c.sends.length);
      const lat = new Float64Array(n);
      for (let k = 0; k < n; k++) lat[k] = a[k]! - c.sends[k]!;
      echoLatencies.push(lat);
    }
    framesReceived += a.length;
    const iv = intervals(a, c.spurtStarts);
    const err = scheduleErrors(a, c.spurtStarts);
    allIntervals.push(iv);
    allErrors.push(err);
    const late = JITTER_BUFFERS_MS.map((b, i) => {
      const r = lateFrames(a, c.spurtStarts, b);
      lateTotals[i]!.frames += r.frames;
      lateTotals[i]!.late += r.late;
      return lateFigures(b, r.frames, r.late);
    });
    const drift = a.length ? finalDrift(a, c.spurtStarts) : 0;
    maxDrift = Math.max(maxDrift, Math.abs(drift));
    const span = a.length > 1 ? (a[a.length - 1]! - a[0]!) / 1000 : 0;
    perCall.push({
      index: c.index,
      streamSid: c.streamSid,
      framesReceived: a.length,
      framesPerSec: span > 0 ? (a.length - 1) / span : 0,
      intervalMs: percentiles(iv),
      scheduleErrorMs: percentiles(err),
      late,
      finalDriftMs: drift,
    });
  }
  const iv = concat(allIntervals);
  const timelineCall = load.calls.find((c) => c.arrivals.length > 0) ?? null;
  return {
    scenario: meta.scenario,
    pacer: meta.pacer,
    lead: meta.lead,
    calls: load.calls.length,
    seconds: meta.seconds,
    generatorProcesses: meta.generatorProcesses,
    aggregate: {
      framesReceived,
      framesPerSecPerCall: percentiles(perCall.map((c) => c.framesPerSec)),
      intervalMs: percentiles(iv),
      scheduleErrorMs: percentiles(concat(allErrors)),
      late: JITTER_BUFFERS_MS.map((b, i) => lateFigures(b, lateTotals[i]!.frames, lateTotals[i]!.late)),
      maxFinalDriftMs: maxDrift,
      ...(meta.echo ? { echoLatencyMs: percentiles(concat(echoLatencies)) } : {}),
      intervalHistogram: histogram(iv, 1, 100),
    },
    server,
    timeline: timelineCall
      ? { streamSid: timelineCall.streamSid, arrivalsMs: timelineCall.arrivals, stallsMs: meta.stallsMs ?? [] }
      : null,
    calls_detail: perCall,
  };
}
