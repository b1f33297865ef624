import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { renderHtmlReport } from '../../src/loadtest/html-report.js';
import {
  finalDrift,
  histogram,
  intervals,
  lateFrames,
  percentiles,
  scheduleErrors,
} from '../../src/loadtest/playout-model.js';
import type { LoadReport, ScenarioReport, ServerFigures } from '../../src/loadtest/report-types.js';
import { seeded } from '../helpers/seeded.js';

const FRAMES = 500; // 10 s of one call
const STALL: [number, number] = [4000, 4300];

const NULL_SERVER: ServerFigures = {
  cpuPct: null,
  pacerCpuPct: null,
  rssMb: null,
  loopDelayP99Ms: null,
  pacerTickErrorUs: null,
  framesSent: null,
  drops: null,
  underruns: null,
};

/** ptime keeps pace through the stall: every frame a little early, never late. */
function ptimeArrivals(): number[] {
  const rnd = seeded(1);
  return Array.from({ length: FRAMES }, (_, k) => (k === 0 ? 0 : k * 20 - 0.4 * rnd()));
}

/** A main-thread pacer: up to 3 ms late each tick, and frames due during the stall burst out after it. */
function baselineArrivals(): number[] {
  const rnd = seeded(2);
  return Array.from({ length: FRAMES }, (_, k) => {
    const due = k * 20;
    return due >= STALL[0] && due < STALL[1] ? STALL[1] + (0.05 * (due - STALL[0])) / 20 : due + 3 * rnd();
  });
}

/** One scenario row computed the way the generator does, from a single call's arrivals. */
function row(
  scenario: string,
  pacer: string,
  arrivals: number[],
  server: ServerFigures,
  stalls: [number, number][],
): ScenarioReport {
  const iv = intervals(arrivals, [0]);
  const late = [0, 20, 60].map((bufferMs) => {
    const r = lateFrames(arrivals, [0], bufferMs);
    return { bufferMs, ...r, latePct: (100 * r.late) / r.frames };
  });
  return {
    scenario,
    pacer,
    lead: pacer === 'ptime' ? 3 : null,
    calls: 1,
    seconds: 10,
    generatorProcesses: 1,
    aggregate: {
      framesReceived: arrivals.length,
      framesPerSecPerCall: percentiles([50]),
      intervalMs: percentiles(iv),
      scheduleErrorMs: percentiles(scheduleErrors(arrivals, [0])),
      late,
      maxFinalDriftMs: Math.abs(finalDrift(arrivals, [0])),
      intervalHistogram: histogram(iv, 1, 100),
    },
    server,
    timeline: { streamSid: `MZ-${pacer}`, arrivalsMs: arrivals, stallsMs: stalls },
  };
}

const PTIME_SERVER: ServerFigures = {
  cpuPct: 12.5,
  pacerCpuPct: 3.25,
  rssMb: 88,
  loopDelayP99Ms: 310.2,
  pacerTickErrorUs: { p50: 40, p99: 180, p999: 420, max: 900, count: 500 },
  framesSent: 500,
  drops: 0,
  underruns: 0,
};

function sample(): LoadReport {
  const ours = row('stall-300ms', 'ptime', ptimeArrivals(), PTIME_SERVER, [STALL]);
  const theirs = row('stall-300ms', 'setInterval', baselineArrivals(), NULL_SERVER, [STALL]);
  // Both pacers with no late frames: the ratio must not divide by zero.
  const calm = (pacer: string): ScenarioReport => ({
    ...row('quiet', pacer, ptimeArrivals(), PTIME_SERVER, []),
    timeline: null,
  });
  const hostile = { ...row('a<b&c', 'setInterval', baselineArrivals(), NULL_SERVER, [STALL]), timeline: null };
  return {
    machine: { cpu: 'Test CPU @ 3.0GHz', cores: 8, node: 'v20.0.0', when: '2024-01-01T00:00:00Z' },
    scenarios: [ours, theirs, calm('ptime'), calm('worker-baseline'), hostile],
  };
}

function assertSelfContained(html: string): void {
  for (const banned of ['http://', 'https://', 'src=', '<script', 'url(', '@import']) {
    assert.ok(!html.toLowerCase().includes(banned), `page must not contain ${banned}`);
  }
  assert.ok(!/NaN|Infinity|undefined/.test(html), 'no unformatted numbers leak into the page');
  assert.equal(html.split('<svg').length, html.split('</svg>').length, 'every svg is closed');
}

test('the sample report has plots, scenario names, ratios and nothing from the network', () => {
  const report = sample();
  const html = renderHtmlReport(report);
  if (process.env.PTIME_REPORT_SAMPLE) writeFileSync(process.env.PTIME_REPORT_SAMPLE, html);
  assertSelfContained(html);
  assert.match(html, /^<!doctype html>/);
  assert.ok(html.includes('Test CPU @ 3.0GHz · 8 cores · Node v20.0.0'));
  for (const name of ['stall-300ms', 'quiet']) assert.ok(html.includes(`<h2>${name}</h2>`), name);
  // 3 late-% charts, 3 histograms, 2 timelines.
  assert.equal(html.split('<svg').length - 1, 8);
  assert.ok(html.includes('class="stall"'), 'the stall window is shaded');

  // ptime had no late frames at 0 ms, the baseline some: "0 vs X", not a bare 0.
  const baseLate0 = report.scenarios[1]!.aggregate.late[0]!.latePct;
  assert.ok(baseLate0 > 0);
  assert.ok(html.includes(`late@0: 0 (0 vs ${baseLate0.toFixed(3)})`));
  const [p, b] = [report.scenarios[0]!, report.scenarios[1]!].map((r) => r.aggregate.intervalMs.p99);
  assert.ok(html.includes(`int p99: ${(p! / b!).toFixed(3)}× (${p!.toFixed(2)} vs ${b!.toFixed(2)})`));
  // Both zero: no ratio.
  assert.ok(html.includes('late@0: n/a (0.000 vs 0)'));
  assert.ok(html.includes('reference'));
});

test('text from the report is escaped everywhere it appears', () => {
  const html = renderHtmlReport(sample());
  assert.ok(html.includes('<h2>a&lt;b&amp;c</h2>'));
  assert.ok(!html.includes('a<b&c'));
  const nasty = sample();
  nasty.machine.cpu = '"><script>alert(1)</script>';
  nasty.scenarios[0]!.pacer = "ptime'<img onerror=x>";
  const out = renderHtmlReport(nasty);
  assertSelfContained(out);
  assert.ok(!out.includes('<img'));
  assert.ok(out.includes('&quot;&gt;&lt;script&gt;'));
});

test('zero scenarios, null server figures and thin data render without throwing', () => {
  const empty = renderHtmlReport({ machine: { cpu: 'x', cores: 1, node: 'v20', when: 'now' }, scenarios: [] });
  assertSelfContained(empty);
  assert.ok(empty.includes('No scenarios in this report.'));
  assert.ok(!empty.includes('<svg'));

  const base = sample().scenarios[1]!;
  const thin: ScenarioReport[] = [
    // Nothing received at all, no late figures, no histogram.
    {
      ...base,
      scenario: 'silent',
      aggregate: { ...base.aggregate, late: [], intervalHistogram: [], intervalMs: percentiles([]) },
      timeline: { streamSid: 'MZ1', arrivalsMs: [], stallsMs: [] },
    },
    // A stall outside the call's frames, and a call of two frames arriving together.
    { ...base, scenario: 'odd', timeline: { streamSid: 'MZ2', arrivalsMs: [0, 0], stallsMs: [[90_000, 80_000]] } },
    {
      ...base,
      scenario: 'odd',
      pacer: 'other',
      timeline: { streamSid: 'MZ3', arrivalsMs: [0, 20, 40], stallsMs: [[90_000, 91_000]] },
    },
  ];
  const html = renderHtmlReport({ machine: { cpu: 'x', cores: 1, node: 'v20', when: 'now' }, scenarios: thin });
  assertSelfContained(html);
  assert.ok(html.includes('<h2>silent</h2>'));
  assert.ok(html.includes('n/a (no ptime row)'));
  assert.ok(html.includes('<td>n/a</td>'), 'null server figures show as n/a');
});
