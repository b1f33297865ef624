import { createServer, type Server } from 'node:http';
import type { Engine } from '../engine/engine.js';
import { UsageError } from './serve-args.js';

/**
 * `ptime serve --metrics-port`: Prometheus text on /metrics, and the probes a load balancer or
 * Kubernetes needs: /healthz (alive: the pacer runs and ticks) and /readyz (ready for new calls:
 * alive, not draining, below maxCalls). It listens before the engine does, so a taken port stops
 * the start before any call is accepted; until the engine is up both probes answer 503.
 */
export async function startMetricsServer(port: number, host: string | undefined, engineOf: () => Engine | null): Promise<Server> {
  const server = createServer((req, res) => {
    const engine = engineOf();
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && engine) {
      engine.metrics.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': engine.metrics.contentType });
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
      const h = engine?.health() ?? { alive: false, ready: false, reason: 'starting' };
      const ok = path === '/healthz' ? h.alive : h.ready;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(`${ok ? 'ok' : 'not ok'}: ${h.reason}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('ptime metrics: /metrics, /healthz, /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error & { code?: string }) => {
      reject(err.code === 'EADDRINUSE' ? new UsageError(`--metrics-port ${port} is already in use`) : err);
    });
    server.listen(port, host, () => resolve());
  });
  return server;
}
