import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { CarrierName } from '../protocol/carrier-adapter.js';
import { performance } from 'node:perf_hooks';
import { ThrottledCount } from '../log/throttled-count.js';
import { listenFailure } from './listen-failure.js';
import { guardPendingUpgrades, type PendingRefusal, type UpgradeLimits } from './pending-upgrades.js';

/** An upgrade on a route, with the carrier that route speaks. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, carrier: CarrierName) => void;

/** Path → carrier, e.g. { '/media': 'twilio', '/telnyx': 'telnyx' }. */
export type Routes = Readonly<Record<string, CarrierName>>;

export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Connections the listener could not accept, and the last reason (reported at most every 2 s). */
export type AcceptFailure = (count: number, lastError: Error) => void;

const ACCEPT_ERROR_LOG_MS = 2000;

/** How long a refused peer may take to read its answer before the socket is destroyed. */
const REFUSE_GRACE_MS = 2000;

function refuse(socket: Duplex, status: number, text: string, headers: Readonly<Record<string, string>> = {}): void {
  // Node drops its own socket error handler before it emits 'upgrade': without one, a peer that
  // resets while we answer (ECONNRESET, EPIPE) would be an uncaught exception for every call.
  socket.on('error', () => socket.destroy());
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`);
  // A peer that never reads the answer must not hold the socket (and engine.close()) open.
  const timer = setTimeout(() => socket.destroy(), REFUSE_GRACE_MS).unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Attach to someone else's HTTP server: handle upgrades on the routes' paths. Any other upgrade is
 * answered 404 (`otherPaths: 'reject'`), unless the server has another 'upgrade' listener (an
 * Express or Fastify app serving its own WebSockets), or left alone (`'ignore'`): an upgrade nobody
 * answers would hang until the peer gives up. Returns the detach function.
 */
export function attachUpgrades(
  server: Server,
  routes: Routes,
  handle: UpgradeHandler,
  otherPaths: 'reject' | 'ignore' = 'reject',
): () => void {
  const listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = pathOf(req);
    const carrier = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (carrier !== undefined) handle(req, socket, head, carrier);
    else if (otherPaths === 'reject' && server.listenerCount('upgrade') === 1) refuse(socket, 404, 'Not Found');
  };
  server.on('upgrade', listener);
  return () => server.off('upgrade', listener);
}

/**
 * ptime's own server: upgrades on the routes' paths, 404 for any other path, 426 for plain HTTP;
 * connections that have not upgraded are bounded in time and number (pending-upgrades.ts).
 * A failed listen rejects with PTIME_ERR_LISTEN (listen-failure.ts), the listen error as its cause.
 */
export async function listenUpgrades(
  port: number,
  host: string | undefined,
  routes: Routes,
  handle: UpgradeHandler,
  limits: UpgradeLimits,
  refused: PendingRefusal,
  acceptFailed: AcceptFailure,
): Promise<Server> {
  const paths = Object.keys(routes).join(', ');
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end(`ptime: connect with a WebSocket on ${paths}\n`);
  });
  const guard = guardPendingUpgrades(server, limits, refused);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!guard.upgraded(socket)) {
      socket.destroy();
      return;
    }
    // Own properties only: a path like /constructor must not find Object.prototype's.
    const path = pathOf(req);
    const carrier = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (carrier !== undefined) handle(req, socket, head, carrier);
    else refuse(socket, 404, 'Not Found');
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => reject(listenFailure(err, port, host));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      // From now on an error is a failed accept (EMFILE when the descriptors run out, ENFILE, a
      // connection reset before it was taken): with no listener it would end the process, and
      // every call with it. The listener stays open; each connection is retried by its peer.
      const failures = new ThrottledCount(ACCEPT_ERROR_LOG_MS, (count) => acceptFailed(count, lastError));
      let lastError: Error = new Error('none');
      server.on('error', (err) => {
        lastError = err;
        failures.add(performance.now());
      });
      resolve();
    });
  });
  return server;
}

export { refuse as refuseUpgrade };
