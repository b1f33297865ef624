import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCodes, type ErrorCode } from '../errors.js';

/** Bounds on connections that have not completed their WebSocket upgrade (ptime's own server). */
export interface UpgradeLimits {
  /** A connection must have sent its whole upgrade request this soon after it was accepted. */
  readonly upgradeTimeoutMs: number;
  /** Connections accepted and not yet upgraded, at most; one more is answered 503 and closed. */
  readonly maxPendingUpgrades: number;
}

/** A connection refused or closed before its upgrade: counted by code, one log line per period. */
export type PendingRefusal = (code: ErrorCode, message: string) => void;

/**
 * Keeps connections that have not upgraded from piling up: a peer that opens sockets and trickles
 * its request one header line at a time (slowloris) would otherwise hold a descriptor each for
 * Node's 60 s header timeout, and a few thousand of them would leave no descriptor for a real call.
 * Each accepted connection gets a hard deadline (not an idle timeout, which a trickle resets); past
 * maxPendingUpgrades a new connection is answered 503 at once. A connection leaves the count when
 * its upgrade is handed on, or when it closes.
 */
export function guardPendingUpgrades(
  server: Server,
  limits: UpgradeLimits,
  refused: PendingRefusal,
): { upgraded(socket: Duplex): boolean } {
  const pending = new Map<Socket, NodeJS.Timeout>();
  /** Refused or timed out: an upgrade that still comes in on it is not served. */
  const shut = new WeakSet<Duplex>();
  const settle = (socket: Socket): void => {
    const timer = pending.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    pending.delete(socket);
  };
  server.on('connection', (socket: Socket) => {
    if (pending.size >= limits.maxPendingUpgrades) {
      refused(
        ErrorCodes.PENDING_UPGRADES,
        `${pending.size} connections have not completed their upgrade (maxPendingUpgrades ${limits.maxPendingUpgrades}): connection refused with 503`,
      );
      shut.add(socket);
      socket.on('error', () => socket.destroy());
      socket.end(
        'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n',
      );
      socket.destroySoon();
      return;
    }
    const timer = setTimeout(() => {
      pending.delete(socket);
      shut.add(socket);
      refused(
        ErrorCodes.UPGRADE_TIMEOUT,
        `no complete upgrade request within upgradeTimeoutMs (${limits.upgradeTimeoutMs} ms): connection closed`,
      );
      socket.destroy();
    }, limits.upgradeTimeoutMs);
    timer.unref();
    pending.set(socket, timer);
    socket.once('close', () => settle(socket));
  });
  return {
    /** The upgrade request on `socket` is complete: false if the socket was already refused. */
    upgraded(socket: Duplex): boolean {
      // Node emits 'upgrade' with the connection's own socket: from here it is a WebSocket's.
      settle(socket as Socket);
      return !shut.has(socket);
    },
  };
}
