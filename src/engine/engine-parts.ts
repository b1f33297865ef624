import type { Logger } from 'pino';
import type { ErrorCode, PtimeError } from '../errors.js';
import { HandbackConsumer } from '../handback/handback-consumer.js';
import { IoHost } from '../io/io-host.js';
import { PacerHost } from '../pacer/pacer-host.js';
import type { PacerPort } from '../pacer/pacer-port.js';
import type { StartInfo } from '../protocol/carrier-adapter.js';
import type { CallLink } from '../server/call-link.js';
import type { CallTransport } from '../server/call-transport.js';
import type { ResolvedOptions } from './engine-options.js';
import { pacerOptionsOf } from './pacer-options.js';
import { carrierAuth, sessionLimits, upgradeLimits } from './server-settings.js';

/** The threads an engine runs on besides main, and who takes the pacer's batches. */
export interface EngineParts {
  /** The I/O thread's host (io: 'worker'), or null when the sockets are on main. */
  readonly io: IoHost | null;
  /** The pacer's batches on main (io: 'main'); with io: 'worker' the I/O thread runs its own. */
  readonly handback: HandbackConsumer | null;
  readonly pacer: PacerPort;
}

/** What the parts need from the engine. */
export interface PartsHooks {
  readonly logger: Logger;
  /** A stream started on the I/O thread: its call's link, or why not. */
  startCall(start: StartInfo, transport: CallTransport): CallLink | PtimeError;
  count(code: ErrorCode, message: string, streamSid: string | null, link?: CallLink): void;
  /** A lane's sink threw on main: that record is lost, the rest of the batch went out. */
  sinkFailed(lane: number, error: unknown): void;
}

/**
 * Wire the engine's parts as the options say: the sockets on main or on an I/O thread, the pacer
 * worker (or a replacement pacer) handing its batches to the consumer on the sockets' thread.
 */
export function assembleParts(o: ResolvedOptions, hooks: PartsHooks): EngineParts {
  let pacer: PacerPort | null = null;
  const io =
    o.io === 'worker'
      ? new IoHost(
          {
            port: o.port ?? 0,
            host: o.host,
            maxPayload: o.maxPayload,
            keepaliveMs: o.keepaliveMs,
            routes: o.routes,
            admission: { auth: carrierAuth(o), maxCalls: o.maxCalls, retryAfterSec: o.retryAfterSec },
            session: sessionLimits(o),
            upgrade: upgradeLimits(o),
            backlogFrames: o.inboundBacklogFrames,
          },
          {
            logger: hooks.logger,
            startCall: (start, transport) => hooks.startCall(start, transport),
            count: (code, message, streamSid, link) => hooks.count(code, message, streamSid, link),
            // The replaced I/O thread took its hand-back port with it.
            newHandback: () => {
              if (pacer instanceof PacerHost) pacer.newHandback();
            },
          },
        )
      : null;
  const handback = io ? null : new HandbackConsumer({ failed: (lane, error) => hooks.sinkFailed(lane, error) });
  const options = pacerOptionsOf(o);
  pacer = o.pacer
    ? o.pacer(options, (lane) => handback?.sink(lane))
    : new PacerHost(options, {
        maxLanes: o.maxCalls,
        stallMs: o.pacerStallMs,
        statsPeriodMs: o.figuresIntervalMs,
        counterStart: o.counterStart,
        handbackTo: (port, control) => (io ? io.usePacer(port, control) : handback?.use(port, control)),
        realtimePriority: o.pacerRealtime ?? null,
      });
  return { io, handback, pacer };
}

/** The pacer's events that the engine only logs. */
export function logPacerEvents(pacer: PacerPort, logger: Logger, o: ResolvedOptions): void {
  pacer.on('realtime', ({ priority, tid, error }) => {
    if (error)
      logger.warn(
        { priority, tid, error },
        'could not put the pacer thread under SCHED_FIFO; it runs with the normal scheduler',
      );
    else logger.info({ priority, tid }, 'pacer thread runs under SCHED_FIFO');
  });
  pacer.on('hung', ({ stalledMs }) => {
    logger.error(
      { stalledMs: Math.round(stalledMs), pacerStallMs: o.pacerStallMs },
      'pacer thread hung: no tick with audio queued; terminating it to restart',
    );
  });
  pacer.on('starved', ({ stalledMs, waitMs }) => {
    logger.warn(
      { stalledMs: Math.round(stalledMs), waitingForCpuMs: Math.round(waitMs) },
      'pacer thread starved of CPU: no tick with audio queued, but not hung (not restarted)',
    );
  });
  let first = true;
  pacer.on('stats', (s) => {
    if (!first) return;
    first = false;
    if (s.niceError) logger.warn({ nice: o.pacerNice, error: s.niceError }, 'could not set the pacer thread priority');
    if (s.timerSlackError)
      logger.warn(
        { timerSlackUs: o.pacerTimerSlackUs, error: s.timerSlackError },
        'could not set the pacer thread timer slack',
      );
  });
}
