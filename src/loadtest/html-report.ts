/**
 * The load-test report as one self-contained HTML page: tables plus hand-drawn SVG plots. No
 * scripts, fonts or URLs of any kind (a CSP meta tag forbids loading them too), so the page opens
 * from disk or a mail attachment with no network, and a report full of user-chosen scenario names
 * cannot turn into a page that runs code: every piece of text goes through `esc`.
 */
import type { LoadReport, ScenarioReport } from './report-types.js';

const COLORS = ['#1c6fb8', '#d9480f', '#2b8a3e', '#862e9c', '#c2255c', '#5c940d', '#495057'];
/** Every plot is drawn on this viewBox width; CSS scales it down on narrow screens. */
const W = 1100;
const PAD = { l: 64, r: 16, t: 30, b: 46 };

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

const fmt = (n: number | null | undefined, digits = 2): string =>
  n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits);
/** Tick labels without float noise (0.30000000000000004 -> 0.3). */
const short = (v: number): string => String(Number(v.toPrecision(6)));
const px = (v: number): string => v.toFixed(1);

const isOurs = (r: ScenarioReport): boolean => r.pacer.startsWith('ptime');
/** The lead tells two ptime rows apart, unless the pacer name already carries it. */
const label = (r: ScenarioReport): string =>
  r.lead !== null && !r.pacer.includes(String(r.lead)) ? `${r.pacer} lead ${r.lead}` : r.pacer;
const latePct = (r: ScenarioReport, bufferMs: number): number | undefined =>
  r.aggregate.late.find((l) => l.bufferMs === bufferMs)?.latePct;

/**
 * ptime ÷ baseline. A zero baseline has no ratio ("n/a"), and a zero on our side is spelled out
 * as "0 vs X" because a bare "0×" reads like a rounding artefact.
 */
function ratioText(ours: number | undefined, base: number | undefined, digits: number): string {
  if (ours === undefined || base === undefined) return 'n/a';
  if (base === 0) return `n/a (${fmt(ours, digits)} vs 0)`;
  if (ours === 0) return `0 (0 vs ${fmt(base, digits)})`;
  return `${(ours / base).toFixed(3)}× (${fmt(ours, digits)} vs ${fmt(base, digits)})`;
}

interface Scale {
  at: (v: number) => number;
  ticks: number[];
  label: (v: number) => string;
}

/**
 * A linear scale from [min, max] onto pixels [from, to] with round 1/2/5 ticks. The domain widens
 * to the outer ticks (value axes), or with `tight` stays exactly [min, max] (a zoomed time window).
 */
function linear(min: number, max: number, from: number, to: number, tight = false): Scale {
  const raw = (max > min ? max - min : 1) / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = p * ([1, 2, 5].find((m) => m * p >= raw) ?? 10);
  const lo = Math.floor(min / step) * step;
  const n = Math.max(1, Math.ceil((max - lo) / step - 1e-9));
  const [d0, d1] = tight && max > min ? [min, max] : [lo, lo + n * step];
  const ticks = Array.from({ length: n + 1 }, (_, i) => lo + i * step).filter((v) => v >= d0 - 1e-9 && v <= d1 + 1e-9);
  return { at: (v) => from + ((v - d0) / (d1 - d0)) * (to - from), ticks, label: short };
}

/** log10(count + 1), so empty buckets sit on the axis and one stall still shows above it. */
function logCount(max: number, from: number, to: number): Scale {
  const top = Math.log10(Math.max(10, max) + 1);
  const ticks = [0];
  for (let t = 1; t <= Math.max(10, max); t *= 10) ticks.push(t);
  const label = (v: number): string => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v));
  return { at: (v) => from + (Math.log10(v + 1) / top) * (to - from), ticks, label };
}

/** The frame, grid, ticks and titles around `marks`; `x` null means the caller labels categories. */
function plot(h: number, x: Scale | null, y: Scale, titles: [string, string, string], marks: string): string {
  const [x0, x1, y0, y1] = [PAD.l, W - PAD.r, h - PAD.b, PAD.t];
  const out = [`<svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${esc(titles[0])}">`];
  out.push(`<text x="${x0}" y="18" class="t">${esc(titles[0])}</text>`);
  for (const v of y.ticks) {
    const py = px(y.at(v));
    out.push(
      `<line x1="${x0}" x2="${x1}" y1="${py}" y2="${py}" class="g"/><text x="${x0 - 6}" y="${py}" class="yl">${y.label(v)}</text>`,
    );
  }
  if (x) {
    for (const v of x.ticks) {
      const pv = px(x.at(v));
      out.push(
        `<line x1="${pv}" x2="${pv}" y1="${y0}" y2="${y0 + 5}" class="ax"/><text x="${pv}" y="${y0 + 17}" class="xl">${x.label(v)}</text>`,
      );
    }
  }
  out.push(marks, `<path d="M${x0} ${y1}V${y0}H${x1}" class="ax"/>`);
  out.push(`<text x="${(x0 + x1) / 2}" y="${h - 6}" class="xl">${esc(titles[1])}</text>`);
  out.push(`<text transform="translate(16 ${(y0 + y1) / 2}) rotate(-90)" class="xl">${esc(titles[2])}</text></svg>`);
  return out.join('');
}

type ColorOf = (r: ScenarioReport) => string;

function legend(rows: ScenarioReport[], colorOf: ColorOf): string {
  const seen = [...new Map(rows.map((r) => [label(r), r])).values()];
  return `<p class="key">${seen.map((r) => `<span><i style="background:${colorOf(r)}"></i>${esc(label(r))}</span>`).join('')}</p>`;
}

/** (a) Each pacer's inter-arrival histogram as a step line over a log count axis. */
function histogramPlot(rows: ScenarioReport[], colorOf: ColorOf): string {
  const hs = rows.filter((r) => r.aggregate.intervalHistogram.length > 0);
  if (hs.length === 0) return '';
  const all = hs.flatMap((r) => r.aggregate.intervalHistogram);
  const h = 260;
  const top = Math.max(...all.map(([b]) => b));
  const x = linear(0, top, PAD.l, W - PAD.r);
  const y = logCount(Math.max(...all.map(([, c]) => c)), h - PAD.b, PAD.t);
  const lines = hs.map((r) => {
    let prev = 0;
    const d = r.aggregate.intervalHistogram.map(([b, c], i) => {
      const seg = `${i ? 'L' : 'M'}${px(x.at(prev))} ${px(y.at(c))}H${px(x.at(b))}`;
      prev = b;
      return seg;
    });
    return `<path d="${d.join('')}" fill="none" stroke="${colorOf(r)}" stroke-width="1.6"><title>${esc(label(r))}</title></path>`;
  });
  const xTitle = `interval between frames, ms (the last bucket, ${short(top)}, also holds everything longer)`;
  return plot(h, x, y, ['Inter-arrival interval histogram, all calls', xTitle, 'frames (log)'], lines.join(''));
}

/** (b) Late % with a `bufferMs` jitter buffer: one group per scenario, one bar per pacer. */
function latePlot(bufferMs: number, groups: [string, ScenarioReport[]][], colorOf: ColorOf): string {
  const h = 230;
  const vals = groups.flatMap(([, rs]) => rs.map((r) => latePct(r, bufferMs) ?? 0));
  const y = linear(0, Math.max(0, ...vals) || 1, h - PAD.b, PAD.t);
  const gw = (W - PAD.l - PAD.r) / groups.length;
  const marks = groups.map(([name, rs], gi) => {
    const bw = Math.min(48, (gw * 0.8) / rs.length);
    const left = PAD.l + gi * gw + (gw - bw * rs.length) / 2;
    const bars = rs.map((r, i) => {
      const v = latePct(r, bufferMs);
      const [bx, by] = [left + i * bw, y.at(v ?? 0)];
      const text = v === undefined ? 'n/a' : v === 0 ? '0' : short(Number(v.toPrecision(2)));
      const tip = `${name} · ${label(r)}: ${text} % late`;
      return (
        `<rect x="${px(bx + 1)}" y="${px(by)}" width="${px(bw - 2)}" height="${px(y.at(0) - by)}" fill="${colorOf(r)}"><title>${esc(tip)}</title></rect>` +
        (bw >= 18 ? `<text x="${px(bx + bw / 2)}" y="${px(by - 3)}" class="v">${esc(text)}</text>` : '')
      );
    });
    return (
      bars.join('') + `<text x="${px(PAD.l + (gi + 0.5) * gw)}" y="${h - PAD.b + 16}" class="xl">${esc(name)}</text>`
    );
  });
  return plot(h, null, y, [`Late frames with a ${bufferMs} ms jitter buffer`, 'scenario', 'late %'], marks.join(''));
}

/** (c) One call's inter-arrival interval over time, zoomed on its first stall, stalls shaded. */
function timelinePlot(r: ScenarioReport): string {
  const t = r.timeline;
  if (!t || t.arrivalsMs.length < 2) return '';
  const a = t.arrivalsMs;
  const stall = t.stallsMs[0];
  const pad = stall ? Math.max(500, stall[1] - stall[0]) : 0;
  let [lo, hi] = stall
    ? [Math.max(a[0]!, stall[0] - pad), Math.min(a[a.length - 1]!, stall[1] + pad)]
    : [a[0]!, a[a.length - 1]!];
  if (!(hi > lo)) [lo, hi] = [a[0]!, Math.max(a[a.length - 1]!, a[0]! + 1)]; // stall outside the call: show it all
  // Keep the longest interval per pixel column: a long call would otherwise be megabytes of SVG,
  // and the spikes are what the plot is for.
  const cols = new Map<number, [number, number]>();
  for (let k = 1; k < a.length; k++) {
    if (a[k]! < lo || a[k]! > hi) continue;
    const c = Math.floor(((a[k]! - lo) / (hi - lo)) * (W - PAD.l - PAD.r));
    const iv = a[k]! - a[k - 1]!;
    const seen = cols.get(c);
    if (!seen || iv > seen[1]) cols.set(c, [a[k]!, iv]);
  }
  const pts = [...cols.values()];
  const h = 240;
  const x = linear(lo, hi, PAD.l, W - PAD.r, true);
  const y = linear(0, Math.max(40, ...pts.map(([, iv]) => iv)), h - PAD.b, PAD.t);
  const shades = t.stallsMs
    .filter(([s, e]) => e >= lo && s <= hi)
    .map(([s, e]) => {
      const [sx, ex] = [x.at(Math.max(lo, s)), x.at(Math.min(hi, e))];
      return `<rect x="${px(sx)}" y="${PAD.t}" width="${px(Math.max(1, ex - sx))}" height="${h - PAD.t - PAD.b}" class="stall"><title>${esc(`stall ${fmt(s, 0)}–${fmt(e, 0)} ms`)}</title></rect>`;
    });
  const ref = `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${px(y.at(20))}" y2="${px(y.at(20))}" class="ref"/>`;
  // Each interval is drawn as a step spanning the gap it measures, (arrival − interval, arrival]:
  // a stall shows as a plateau over its own duration rather than a ramp into the next frame.
  const steps = pts.map(
    ([tx, iv], i) => `${i ? 'L' : 'M'}${px(x.at(Math.max(lo, tx - iv)))} ${px(y.at(iv))}H${px(x.at(tx))}`,
  );
  const line = `<path d="${steps.join('')}" class="tl"/>`;
  const where = stall
    ? `around the stall at ${fmt(stall[0], 0)}–${fmt(stall[1], 0)} ms (shaded)`
    : 'whole call, no stall';
  const title = `${label(r)} · call ${t.streamSid}: interval per frame, ${where}; dashed = 20 ms`;
  return plot(h, x, y, [title, "ms since the call's first frame", 'interval ms'], shades.join('') + ref + line);
}

function scenarioTable(rows: ScenarioReport[], buffers: number[]): string {
  const ref = rows.find(isOurs);
  const head = [
    'pacer',
    'lead',
    'calls',
    'fps/call p50',
    'interval p50 ms',
    'int p99',
    'int p99.9',
    'int max',
    'sched |err| p99',
    ...buffers.map((b) => `late % @${b}`),
    'CPU %',
    'pacer CPU %',
    'RSS MB',
    'loop p99 ms',
    'tick err p99 µs',
    'tick p99.9 µs',
    'ptime ÷ this',
  ];
  const body = rows.map((r) => {
    const a = r.aggregate;
    const s = r.server;
    const vs = !ref
      ? 'n/a (no ptime row)'
      : isOurs(r)
        ? r === ref
          ? 'reference'
          : '—'
        : `late@0: ${esc(ratioText(latePct(ref, 0), latePct(r, 0), 3))}<br>int p99: ${esc(ratioText(ref.aggregate.intervalMs.p99, a.intervalMs.p99, 2))}`;
    const cells = [
      r.calls,
      fmt(a.framesPerSecPerCall.p50),
      fmt(a.intervalMs.p50),
      fmt(a.intervalMs.p99),
      fmt(a.intervalMs.p999),
      fmt(a.intervalMs.max),
      fmt(a.scheduleErrorMs.p99),
      ...buffers.map((b) => fmt(latePct(r, b), 3)),
      fmt(s.cpuPct, 1),
      fmt(s.pacerCpuPct, 2),
      fmt(s.rssMb, 0),
      fmt(s.loopDelayP99Ms),
      fmt(s.pacerTickErrorUs?.p99, 0),
      fmt(s.pacerTickErrorUs?.p999, 0),
    ];
    return `<tr><th>${esc(r.pacer)}</th><td>${r.lead ?? '—'}</td>${cells.map((c) => `<td>${c}</td>`).join('')}<td class="vs">${vs}</td></tr>`;
  });
  const note = ref
    ? `<p class="meta">ptime ÷ this: the ${esc(label(ref))} row over this row, for late % at 0 ms and interval p99; n/a when this row's figure is 0.</p>`
    : '';
  return `<div class="scroll"><table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${body.join('')}</table></div>${note}`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;color:#222;margin:20px auto;max-width:1160px;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ccc}
.machine,.meta{color:#555;margin:4px 0 8px;font-size:13px}.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:2px 4px;text-align:right;vertical-align:top}tr:first-child th{background:#f3f3f3;text-align:center}
tr th:first-child{text-align:left}td.vs{text-align:left;white-space:nowrap}
svg{display:block;max-width:100%;height:auto;margin:10px 0;font-family:system-ui,sans-serif}
.t{font-size:13px;font-weight:600}.xl{font-size:11px;text-anchor:middle}.yl{font-size:11px;text-anchor:end;dominant-baseline:middle}
.v{font-size:10px;text-anchor:middle}.g{stroke:#eee}.ax{stroke:#444;fill:none}.ref{stroke:#888;stroke-dasharray:4 3}
.tl{fill:none;stroke:#1c6fb8;stroke-width:1.2}.stall{fill:#f03e3e;opacity:.16}
.key span{margin-right:14px;font-size:12px}.key i{display:inline-block;width:10px;height:10px;margin-right:4px}`;

/** The whole report as one HTML page; see the file comment for what it may not contain. */
export function renderHtmlReport(report: LoadReport): string {
  const groups = new Map<string, ScenarioReport[]>();
  for (const r of report.scenarios) groups.set(r.scenario, [...(groups.get(r.scenario) ?? []), r]);
  const entries = [...groups.entries()];
  const labels = [...new Set(report.scenarios.map(label))];
  const colorOf: ColorOf = (r) => COLORS[labels.indexOf(label(r)) % COLORS.length]!;
  const buffers = [...new Set(report.scenarios.flatMap((r) => r.aggregate.late.map((l) => l.bufferMs)))].sort(
    (p, q) => p - q,
  );
  const m = report.machine;
  const out = [
    '<h1>ptime load test</h1>',
    `<p class="machine">${esc(`${m.cpu} · ${m.cores} cores · Node ${m.node} · ${m.when}`)}</p>`,
  ];
  if (entries.length === 0) out.push('<p>No scenarios in this report.</p>');
  else {
    out.push('<h2>Late frames under Twilio-like playout</h2>', legend(report.scenarios, colorOf));
    out.push(...buffers.map((b) => latePlot(b, entries, colorOf)));
  }
  for (const [name, rows] of entries) {
    const meta = rows.map(
      (r) => `${label(r)}: ${r.calls} calls × ${fmt(r.seconds, 0)} s, ${r.generatorProcesses} generator process(es)`,
    );
    out.push(`<h2>${esc(name)}</h2>`, `<p class="meta">${esc(meta.join('; '))}</p>`, scenarioTable(rows, buffers));
    out.push(legend(rows, colorOf), histogramPlot(rows, colorOf), ...rows.map((r) => timelinePlot(r)));
  }
  const csp = `default-src 'none'; style-src 'unsafe-inline'`;
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>ptime load test</title><style>${CSS}</style></head>
<body>\n${out.join('\n')}\n</body></html>\n`;
}
