import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { startMetricsServer } from './metrics-server.js';

/** What a worker reports to the primary, a few times a second. */
export interface WorkerHealth {
  ptimeHealth: { alive: boolean; ready: boolean; reason: string };
}

const HEALTH_FRESH_MS = 2000;
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5000;
/** A worker that lived this long had a healthy run: its next crash restarts without delay. */
const STABLE_MS = 10_000;

/**
 * `ptime serve --workers N`: N cluster workers, each a full engine (its own pacer thread, lanes and
 * --max-calls) on the same port; the kernel spreads connections over them. The primary only
 * supervises: it restarts a worker that dies (backoff 100 ms doubling to 5 s while crashes come
 * quickly) and exits 2 when a worker fails to start with exit 2 (a start error would repeat), on SIGTERM/SIGINT tells every worker to drain (each refuses new streams, plays out up to
 * --drain-ms, closes 1001) and exits 0 once all have, exits at once on a second signal, and serves
 * --metrics-port aggregated over the workers (prom-client's AggregatorRegistry) with the probes.
 */
export async function runPrimary(
  workers: number,
  metricsPort: number | undefined,
  host: string | undefined,
  logLevel: string,
): Promise<void> {
  const logger = pino({ level: logLevel, name: 'ptime-primary' });
  const health = new Map<number, { h: WorkerHealth['ptimeHealth']; at: number }>();
  const startedAt = new Map<number, number>();
  /** Workers that have reported health once: they started, so a later exit is a crash to restart. */
  const started = new Set<number>();
  let stopping = false;
  let restarts = 0;
  let backoff = RESTART_MIN_MS;

  const fork = (): Worker => {
    const w = cluster.fork();
    startedAt.set(w.id, performance.now());
    w.on('message', (msg: Partial<WorkerHealth>) => {
      if (!msg.ptimeHealth) return;
      started.add(w.id);
      health.set(w.id, { h: msg.ptimeHealth, at: performance.now() });
    });
    return w;
  };

  const metrics = metricsPort === undefined ? null : await serveMetrics(metricsPort, host, () => stopping, health);
  cluster.on('exit', (w, code, signal) => {
    health.delete(w.id);
    const lived = performance.now() - (startedAt.get(w.id) ?? 0);
    startedAt.delete(w.id);
    const hadStarted = started.delete(w.id);
    if (code === 2 && !hadStarted && !stopping) {
      // Exit 2 is a start error (a bad flag, a port that cannot be listened on): every new worker
      // would fail the same way, so the primary fails as one process would, and says so once.
      stopping = true;
      logger.fatal({ worker: w.id, code }, 'a worker could not start (exit 2, its error above); stopping every worker');
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGKILL');
      metrics?.close();
      process.exit(2);
    }
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        logger.info('every worker has drained; exiting');
        metrics?.close();
        process.exit(0);
      }
      return;
    }
    restarts++;
    backoff = lived >= STABLE_MS ? RESTART_MIN_MS : Math.min(backoff * 2, RESTART_MAX_MS);
    const delay = lived >= STABLE_MS ? 0 : backoff;
    logger.error(
      { worker: w.id, pid: w.process.pid, code, signal, restarts, delayMs: delay },
      'worker died; starting a new one',
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });
  for (let i = 0; i < workers; i++) fork();
  logger.info(
    { workers, metricsPort: metrics ? (metrics.address() as { port: number }).port : null },
    'ptime primary supervising workers',
  );

  const stop = (signal: string): void => {
    if (stopping) {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'telling every worker to drain');
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ ptimeDrain: true });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function serveMetrics(
  port: number,
  host: string | undefined,
  stopping: () => boolean,
  health: Map<number, { h: WorkerHealth['ptimeHealth']; at: number }>,
): Promise<Server> {
  const aggregator = new AggregatorRegistry();
  return startMetricsServer(port, host, {
    metrics: () => aggregator.clusterMetrics().then((text) => ({ text, contentType: aggregator.contentType })),
    health: () => {
      const now = performance.now();
      const fresh = [...health.values()].filter((v) => now - v.at < HEALTH_FRESH_MS).map((v) => v.h);
      // Alive: no worker says it is not (a dead one is being replaced). Ready: some worker takes calls.
      const why = stopping() ? 'draining' : fresh.map((h) => h.reason).join('; ') || 'no worker reported yet';
      return { alive: fresh.every((h) => h.alive), ready: !stopping() && fresh.some((h) => h.ready), reason: why };
    },
  });
}
