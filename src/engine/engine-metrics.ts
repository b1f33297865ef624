import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallTotals } from './call-totals.js';
import type { CallStats } from './call.js';
import type { EngineFigures } from './figures-reporter.js';
import type { PacerStats } from '../pacer/pacer-layout.js';

/** What the metrics read from an engine (the Engine itself). */
export interface MetricsSource {
  readonly totals: CallTotals;
  readonly calls: { readonly size: number };
  liveCallList(): readonly { readonly queueDepth: number; stats(): CallStats }[];
  stats(): { rejected: Partial<Record<string, number>>; pacer: PacerStats | null; pacerRestarts: number };
  on(event: 'figures', listener: (f: EngineFigures) => void): unknown;
}

/**
 * The engine's figures as Prometheus metrics (prom-client), named Prometheus style: `ptime_…`,
 * counters `_total`, seconds and bytes. Counters are read from the engine at scrape time (its
 * totals plus the live calls' figures), so nothing on the audio path touches prom-client; the
 * queue-depth histogram is sampled once per figures period. Merge `engine.metrics` into the app's
 * own registry with `Registry.merge`, or serve it (`ptime serve --metrics-port`).
 */
export function engineMetrics(engine: MetricsSource, options: { defaultMetrics?: boolean } = {}): Registry {
  const register = new Registry();
  let figures: EngineFigures | null = null;
  const queueDepth = new Histogram({
    name: 'ptime_queue_depth_frames',
    help: "Calls' outbound queue depth in 20 ms frames, sampled every figures period",
    buckets: [0, 1, 2, 3, 5, 10, 20, 40, 80, 120, 240],
    registers: [register],
  });
  new Histogram({
    name: 'ptime_first_audio_seconds',
    help: "Time from an utterance's beginUtterance()/speak() (or its first audio, if implicit) to the first of it the caller heard",
    buckets: [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    registers: [register],
    collect() {
      for (const ms of engine.totals.firstAudio.take()) this.observe(ms / 1000);
    },
  });
  new Histogram({
    name: 'ptime_barge_in_heard_seconds',
    help: 'How much of an utterance the caller had heard when a clear() (barge-in) cut it; the count is the barge-ins',
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60],
    registers: [register],
    collect() {
      for (const ms of engine.totals.bargeInHeard.take()) this.observe(ms / 1000);
    },
  });
  engine.on('figures', (f) => {
    figures = f;
    for (const c of engine.liveCallList()) queueDepth.observe(c.queueDepth);
  });
  const live = () => engine.liveCallList().map((c) => c.stats());
  const sum = (
    key:
      | 'framesSent'
      | 'drops'
      | 'slowPeerDrops'
      | 'latencyDrops'
      | 'staleDiscarded'
      | 'underruns'
      | 'lateTicks'
      | 'clears',
  ): number => engine.totals.ended[key] + live().reduce((s, c) => s + c[key], 0);
  const counter = (name: string, help: string, value: () => number): void => {
    new Counter({
      name,
      help,
      registers: [register],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  };
  const gauge = (name: string, help: string, value: () => number | null): void => {
    new Gauge({
      name,
      help,
      registers: [register],
      collect() {
        const v = value();
        if (v !== null) this.set(v);
      },
    });
  };

  gauge('ptime_active_calls', 'Calls with a lane now', () => engine.calls.size);
  counter('ptime_calls_started_total', 'Calls started', () => engine.totals.callsStarted);
  new Counter({
    name: 'ptime_calls_ended_total',
    help: 'Calls ended, by WebSocket close code',
    labelNames: ['code'],
    registers: [register],
    collect() {
      this.reset();
      for (const [code, n] of engine.totals.endedByCode) this.inc({ code: String(code) }, n);
    },
  });
  counter('ptime_frames_sent_total', 'Outbound 20 ms frames sent', () => sum('framesSent'));
  new Counter({
    name: 'ptime_frames_dropped_total',
    help: 'Outbound frames not sent: queue_full (drop-oldest at the bound), latency_bound (queued past maxQueuedMs), slow_peer (socket not draining), stale_after_clear',
    labelNames: ['reason'],
    registers: [register],
    collect() {
      this.reset();
      // A frame dropped for the latency bound leaves the queue the way drop-oldest does: told apart here.
      this.inc({ reason: 'queue_full' }, sum('drops') - sum('latencyDrops'));
      this.inc({ reason: 'latency_bound' }, sum('latencyDrops'));
      this.inc({ reason: 'slow_peer' }, sum('slowPeerDrops'));
      this.inc({ reason: 'stale_after_clear' }, sum('staleDiscarded'));
    },
  });
  counter(
    'ptime_underruns_total',
    'Utterances that ran dry at the carrier before their end (the producer fell behind)',
    () => sum('underruns'),
  );
  counter('ptime_late_ticks_total', 'Frames the pacer sent later than lateMs after their due time', () =>
    sum('lateTicks'),
  );
  counter('ptime_clears_total', 'clear() calls (barge-ins)', () => sum('clears'));
  new Counter({
    name: 'ptime_rejections_total',
    help: 'Refused upgrades and inbound messages, by PTIME_ERR_* code',
    labelNames: ['code'],
    registers: [register],
    collect() {
      this.reset();
      for (const [code, n] of Object.entries(engine.stats().rejected)) this.inc({ code }, n ?? 0);
    },
  });
  new Counter({
    name: 'ptime_marks_total',
    help: "The app's marks, by outcome",
    labelNames: ['outcome'],
    registers: [register],
    collect() {
      this.reset();
      for (const [outcome, n] of engine.totals.marks) this.inc({ outcome }, n);
    },
  });
  new Gauge({
    name: 'ptime_pacer_tick_error_seconds',
    help: "The pacer's tick |error| over the last figures period, by quantile (measured in an HDR histogram on the pacer thread)",
    labelNames: ['quantile'],
    registers: [register],
    collect() {
      const t = engine.stats().pacer?.tickErrorUs;
      if (!t) return;
      this.set({ quantile: '0.5' }, t.p50 / 1e6);
      this.set({ quantile: '0.99' }, t.p99 / 1e6);
      this.set({ quantile: '0.999' }, t.p999 / 1e6);
      this.set({ quantile: '1' }, t.max / 1e6);
    },
  });
  counter(
    'ptime_pacer_restarts_total',
    'Pacer threads replaced after a crash or hang',
    () => engine.stats().pacerRestarts,
  );
  gauge('ptime_pacer_cpu_ratio', "The pacer thread's CPU over the last period, in cores", () =>
    (figures?.pacerCpuPct ?? null) === null ? null : figures!.pacerCpuPct! / 100,
  );
  gauge('ptime_process_cpu_ratio', "The process's CPU over the last period, in cores", () =>
    figures ? figures.cpuPct / 100 : null,
  );
  gauge('ptime_event_loop_delay_p99_seconds', "The main thread's event-loop delay p99 over the last period", () =>
    figures ? figures.loopDelayP99Ms / 1000 : null,
  );
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register });
  return register;
}
