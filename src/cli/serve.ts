import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { readWavFile } from '../codec/wav-reader.js';
import { attachDemoApp } from '../demo/demo-app.js';
import { createEngine, type Engine } from '../engine/engine.js';
import type { PacerFactory } from '../pacer/pacer-port.js';
import { SERVE_USAGE, UsageError, parseServeArgs } from './serve-args.js';
import { injectStalls } from './stall-injector.js';
import { startMetricsServer } from './metrics-server.js';
import { runPrimary } from './cluster-primary.js';

/**
 * `ptime serve`: the engine plus the demo application, until SIGINT/SIGTERM. The benchmark reuses
 * it with a baseline pacer swapped in, so every design runs behind the same server and app.
 */
export async function serve(argv: string[], pacer?: PacerFactory, pacerName = 'ptime'): Promise<Engine | null> {
  const { help, injectStall, audioFile, recordDir, metricsPort: metricsFlag, workers, ...flags } = parseServeArgs(argv);
  const opts = recordDir === undefined ? flags : { ...flags, record: { dir: recordDir } };
  if (help) {
    process.stdout.write(SERVE_USAGE);
    return null;
  }
  if (workers > 1 && cluster.isPrimary) {
    await runPrimary(workers, metricsFlag, opts.host, opts.logLevel ?? 'info');
    return null;
  }
  // A cluster worker leaves the metrics port to the primary, which aggregates every worker's.
  const inCluster = cluster.isWorker;
  const metricsPort = inCluster ? undefined : metricsFlag;
  // Read the file before listening: a bad file fails the start, not a call. The demo converts it
  // once per wire format, so no call pays for resampling audio every call plays the same.
  const wav = audioFile === undefined ? null : await readAudioFile(audioFile);
  let ready: Engine | null = null;
  const metrics =
    metricsPort === undefined
      ? null
      : await startMetricsServer(metricsPort, opts.host, {
          metrics: () =>
            ready ? ready.metrics.metrics().then((text) => ({ text, contentType: ready!.metrics.contentType })) : null,
          health: () => ready?.health() ?? { alive: false, ready: false, reason: 'starting' },
        });
  let engine: Engine;
  try {
    engine = await createEngine(pacer ? { ...opts, pacer } : opts);
  } catch (err) {
    metrics?.close(); // serve() throws to its caller (main.ts, the benchmark): it holds no port after a failed start
    throw err;
  }
  ready = engine;
  if (inCluster) reportToPrimary(engine);
  attachDemoApp(
    engine,
    wav === null ? {} : { file: { samples: wav.samples, sampleRate: wav.sampleRate }, fileName: basename(audioFile!) },
  );
  if (wav !== null) {
    engine.logger.info(
      { audioFile, sampleRate: wav.sampleRate, channels: wav.channels, durationMs: Math.round(wav.durationMs) },
      'audio file loaded for mode "file"',
    );
  }
  const addr = engine.address()!;
  const o = engine.options;
  engine.logger.info(
    {
      port: addr.port,
      path: o.path,
      routes: o.routes,
      io: o.io,
      queue: o.queue,
      lead: o.lead,
      spinUs: o.spinUs,
      maxCalls: o.maxCalls,
      signatureCheck: o.twilioAuthToken !== undefined,
      signalwireAuth: o.signalwireToken !== undefined,
      telnyxAuth: o.telnyxStreamToken !== undefined,
      pacer: pacerName,
      injectStall: injectStall ?? null,
      metricsPort: metrics ? (metrics.address() as AddressInfo).port : null,
    },
    `ptime serving ws://${addr.address === '::' ? 'localhost' : addr.address}:${addr.port}${o.path}`,
  );
  const stopStalls = injectStall
    ? injectStalls(injectStall, (start) =>
        engine.logger.info(
          { blockMs: injectStall.blockMs, atEpochMs: performance.timeOrigin + start },
          'injected stall',
        ),
      )
    : () => undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1); // a second signal: do not wait
    stopping = true;
    stopStalls();
    engine.logger.info({ signal, drainMs: o.drainMs }, 'shutting down');
    void engine.close().then(() => {
      metrics?.close();
      process.exit(0);
    });
  };
  // The pacer gave up (repeated crashes): exit non-zero so a supervisor restarts the process.
  engine.on('error', () => void engine.close().then(() => process.exit(1)));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // In a cluster the primary asks for the drain (the terminal's signal reaches every worker too).
  if (inCluster)
    process.on('message', (msg: { ptimeDrain?: boolean }) => msg.ptimeDrain && !stopping && stop('primary'));
  return engine;
}

/** A cluster worker: its metrics for the primary's aggregate, and its health a few times a second. */
function reportToPrimary(engine: Engine): void {
  // Constructing one is what makes prom-client answer the primary's metrics requests in a worker.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([engine.metrics]);
  const send = (): void => {
    if (process.connected) process.send?.({ ptimeHealth: engine.health() });
  };
  send();
  setInterval(send, 250).unref();
}

/** A file the OS cannot open is an operator's typo: say so plainly, without a stack. */
async function readAudioFile(path: string): ReturnType<typeof readWavFile> {
  try {
    return await readWavFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EACCES') {
      throw new UsageError(`--audio-file: cannot read ${path} (${String(code)})`);
    }
    throw err;
  }
}
