import type { ScenarioReport } from './report-types.js';

const f = (n: number | null | undefined, digits = 2): string =>
  n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits);

/** ptime / baseline, or a clear text when the baseline is zero. */
export function ratio(ours: number, theirs: number): string {
  if (theirs === 0) return ours === 0 ? '1 (both 0)' : `${f(ours)} vs 0`;
  return `${(ours / theirs).toFixed(3)}`;
}

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

export function renderTable(reports: ScenarioReport[], options: { costPerFrame?: boolean } = {}): string {
  const lines = [TABLE_HEAD, TABLE_RULE, ...reports.map(tableRow)];
  const ratios = ratioRows(reports);
  if (ratios.length) lines.push('', RATIO_HEAD, RATIO_RULE, ...ratios);
  if (options.costPerFrame) lines.push('', COST_HEAD, COST_RULE, ...reports.map(costRow));
  return lines.join('\n');
}
