import { createServer, type Server } from 'node:http';
import { listenFailure } from '../server/listen-failure.js';

/** What the metrics port serves: the metrics text, and the state the probes report. */
export interface MetricsSourceOfServer {
  /** Prometheus text and its content type; null until there is an engine to read. */
  metrics(): Promise<{ text: string; contentType: string }> | null;
  health(): { alive: boolean; ready: boolean; reason: string };
}

/**
 * `ptime serve --metrics-port`: Prometheus text on /metrics, and the probes a load balancer or
 * Kubernetes needs: /healthz (alive: the pacer runs and ticks) and /readyz (ready for new calls:
 * alive, not draining, below maxCalls). It listens before the engine does, so a taken port stops
 * the start (PTIME_ERR_LISTEN, naming the flag) before any call is accepted. The same server fronts
 * one engine, or a cluster's primary with every worker's metrics aggregated.
 */
export async function startMetricsServer(
  port: number,
  host: string | undefined,
  source: MetricsSourceOfServer,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const metrics = path === '/metrics' ? source.metrics() : null;
    if (metrics) {
      metrics.then(
        ({ text, contentType }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics failed: ${err.message}\n`);
        },
      );
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const h = source.health();
      const ok = path === '/healthz' ? h.alive : h.ready;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(`${ok ? 'ok' : 'not ok'}: ${h.reason}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('ptime metrics: /metrics, /healthz, /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenFailure(err, port, host, '--metrics-port: ')));
    server.listen(port, host, () => resolve());
  });
  return server;
}
