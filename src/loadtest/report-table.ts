import type { EchoSummary, ScenarioReport } from './report-types.js';

const f = (n: number | null | undefined, digits = 2): string =>
  n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits);

/** ptime / baseline, or a clear text when the baseline is zero. */
export function ratio(ours: number, theirs: number): string {
  if (theirs === 0) return ours === 0 ? '1 (both 0)' : `${f(ours)} vs 0`;
  return `${(ours / theirs).toFixed(3)}`;
}

/** What each column of TABLE_HEAD means, as printed beside the table (npm start, bench/RESULTS.md). */
export const TABLE_LEGEND = `Columns: fps/call = frames per second per call (p50 over calls); interval = time between two
frames' arrivals at the receiver; sched |err| = how far arrivals are from each call's ideal 20 ms
schedule (p99); late@N = % of frames that reach the far end after their play time with an N ms
jitter buffer (the playout model on kernel packet timestamps); echo = time from a caller's frame to
its echo; drift max = the worst call's final lag against real time; CPU % of one core, whole process
and per thread (main / pacer / I/O); RSS; loop p99 = the worst per-second event-loop delay p99
(main / I/O thread); tick err = the pacer's wake-up |error| over the run, µs.`;

export const TABLE_HEAD =
  '| scenario | pacer | lead | calls | fps/call p50 | interval p50/p99/p99.9/max ms | sched |err| p99 ms | late@0 % | late@20 % | late@60 % | echo ms p50/p99 | drift max ms | CPU % | main / pacer / I/O CPU % | RSS MB | loop p99 ms main / I/O | tick err p99/p99.9 µs |';
export const TABLE_RULE = '|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---|---:|---|---|';

export function tableRow(r: ScenarioReport): string {
  const a = r.aggregate;
  const s = r.server;
  const late = (b: number) => f(a.late.find((l) => l.bufferMs === b)?.latePct, 3);
  const tick = s.pacerTickErrorUs ? `${s.pacerTickErrorUs.p99}/${s.pacerTickErrorUs.p999}` : 'n/a';
  return `| ${r.scenario} | ${r.pacer} | ${r.lead ?? 'n/a'} | ${r.calls} | ${f(a.framesPerSecPerCall.p50)} | ${f(a.intervalMs.p50)}/${f(a.intervalMs.p99)}/${f(a.intervalMs.p999)}/${f(a.intervalMs.max)} | ${f(a.scheduleErrorMs.p99)} | ${late(0)} | ${late(20)} | ${late(60)} | ${a.echoLatencyMs ? `${f(a.echoLatencyMs.p50, 1)}/${f(a.echoLatencyMs.p99, 1)}` : 'n/a'} | ${f(a.maxFinalDriftMs, 1)} | ${f(s.cpuPct, 1)} | ${f(s.mainCpuPct, 1)} / ${f(s.pacerCpuPct, 2)} / ${f(s.ioCpuPct, 1)} | ${f(s.rssMb, 0)} | ${f(s.loopDelayP99Ms)} / ${f(s.ioLoopDelayP99Ms)} | ${tick} |`;
}

/** Ratios of ptime rows against each baseline row of the same scenario. */
export function ratioRows(reports: ScenarioReport[]): string[] {
  const out: string[] = [];
  for (const ours of reports.filter((r) => r.pacer.startsWith('ptime'))) {
    for (const base of reports.filter((r) => r.scenario === ours.scenario && !r.pacer.startsWith('ptime'))) {
      const l0 = (r: ScenarioReport) => r.aggregate.late.find((l) => l.bufferMs === 0)?.latePct ?? 0;
      out.push(
        `| ${ours.scenario} | ${ours.pacer} / ${base.pacer} | ${ratio(l0(ours), l0(base))} | ${ratio(ours.aggregate.intervalMs.p99, base.aggregate.intervalMs.p99)} | ${ratio(ours.aggregate.scheduleErrorMs.p99, base.aggregate.scheduleErrorMs.p99)} | ${ratio(ours.server.cpuPct ?? 0, base.server.cpuPct ?? 0)} |`,
      );
    }
  }
  return out;
}

export const RATIO_HEAD =
  '| scenario | ptime / baseline | late@0 ratio | interval p99 ratio | sched |err| p99 ratio | CPU ratio |';
export const RATIO_RULE = '|---|---|---:|---:|---:|---:|';

/**
 * CPU per frame sent, per thread: a thread's CPU share over the frames per second the server sent
 * (calls × the median frames/s per call). What one frame of a dialect costs, comparable across
 * carriers whose messages differ in size and shape.
 */
export function costRow(r: ScenarioReport): string {
  const fps = r.calls * r.aggregate.framesPerSecPerCall.p50;
  const us = (pct: number | null | undefined): string =>
    pct === null || pct === undefined || fps === 0 ? 'n/a' : (((pct / 100) * 1e6) / fps).toFixed(2);
  return `| ${r.scenario} | ${r.pacer} | ${f(fps, 0)} | ${us(r.server.mainCpuPct)} | ${us(r.server.pacerCpuPct)} | ${us(r.server.ioCpuPct)} | ${us(r.server.cpuPct)} |`;
}

export const COST_HEAD =
  '| scenario | pacer | frames/s sent | main µs/frame | pacer µs/frame | I/O µs/frame | process µs/frame |';
export const COST_RULE = '|---|---|---:|---:|---:|---:|---:|';

/** `code: n` pairs, or '0' when there are none. */
function counts(byKey: Record<string, number>): string {
  const parts = Object.entries(byKey)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}: ${n}`);
  return parts.length ? parts.join(', ') : '0';
}

/** What came back of disordered inbound media: sent late / twice → echoed out of order / twice, missing. */
function orderCell(e: EchoSummary | null): string {
  if (e === null) return 'n/a';
  return `${e.sentLate} / ${e.duplicated} → ${e.outOfOrder} / ${e.duplicatesEchoed}, ${e.missing} missing`;
}

/**
 * A run through the impairment proxy, per pacer: lateness at the far end, the server's drops by
 * reason, calls closed early (generator side) and the close codes the server ended calls with,
 * marks by outcome, the echo delay before the cut and after recovery, and what became of the
 * disordered (Telnyx) calls' inbound media.
 */
export function impairmentRow(r: ScenarioReport): string {
  const i = r.impairment!;
  const late = (b: number) => f(r.aggregate.late.find((l) => l.bufferMs === b)?.latePct, 3);
  const d = i.server.drops;
  const m = i.server.marks;
  const e = i.echoes;
  return `| ${r.pacer} | ${r.calls} | ${late(0)} / ${late(20)} / ${late(60)} | ${d.overflow} / ${d.slow} / ${d.stale} / ${d.latencyBound} | ${counts(e.closedEarly)} | ${counts(i.server.byCode)} | ${m.played} / ${m.cleared} / ${m.dropped} / ${m.closed} | ${f(e.delayBeforeMs.p50, 0)} → ${f(e.delayAfterMs.p50, 0)} (p99 ${f(e.delayAfterMs.p99, 0)}) | ${e.missing} of ${e.echoed + e.missing} | ${orderCell(i.disordered)} | ${counts(i.server.rejected)} |`;
}

export const IMPAIRMENT_HEAD =
  '| pacer | calls | late@0 / 20 / 60 % | drops overflow / slow / stale / latency bound | closed before hang-up | server close codes | marks played / cleared / dropped / closed | echo delay p50 ms before → after recovery | frames not echoed | Telnyx sent late / twice → echoed out of order / twice | refusals |';
export const IMPAIRMENT_RULE = '|---|---:|---|---|---|---|---|---|---:|---|---|';

/** The network the impairment rows ran through (the same for each), in one line. */
export function impairmentNetwork(rows: ScenarioReport[]): string {
  const n = rows[0]!.impairment!.network;
  const stalls = rows.map((r) => r.impairment!.network.stalls).join(' / ');
  const held = rows.map((r) => r.impairment!.network.maxHeldBytes).join(' / ');
  return `Network: ${n.delayMs} ms ± ${n.jitterMs} ms each way, ${n.stallChance * 100} % of 20 ms intervals stalled ${n.stallMs[0]}–${n.stallMs[1]} ms, all traffic held ${n.cutMs} ms mid-call; stalls drawn per row (${n.connections} connections): ${stalls}; most bytes one direction held: ${held}.`;
}

export function renderTable(reports: ScenarioReport[], options: { costPerFrame?: boolean } = {}): string {
  const lines = [TABLE_HEAD, TABLE_RULE, ...reports.map(tableRow)];
  const ratios = ratioRows(reports);
  if (ratios.length) lines.push('', RATIO_HEAD, RATIO_RULE, ...ratios);
  if (options.costPerFrame) lines.push('', COST_HEAD, COST_RULE, ...reports.map(costRow));
  const impaired = reports.filter((r) => r.impairment !== undefined);
  if (impaired.length) {
    lines.push('', IMPAIRMENT_HEAD, IMPAIRMENT_RULE, ...impaired.map(impairmentRow));
    lines.push('', impairmentNetwork(impaired));
  }
  return lines.join('\n');
}
