import { availableParallelism } from 'node:os';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { ErrorCodes, PtimeError } from '../errors.js';
import { DEFAULT_QUEUE_FRAMES, MAX_QUEUED_MS } from '../ring/lane-layout.js';
import { validateBound } from '../ring/lane-ring.js';
import type { PacerFactory } from '../pacer/pacer-port.js';
import { MAX_MARK_NAME_CHARS } from '../protocol/wire-limits.js';
import { CARRIER_NAMES, type CarrierName } from '../protocol/carrier-adapter.js';
import { isCarrierName } from '../protocol/carriers.js';
import { parseCredential } from '../server/upgrade-credential.js';

export interface EngineOptions {
  /** Listen on this port (0 = any free port). */
  port?: number;
  host?: string;
  /** Attach to an existing HTTP server, handling upgrades on `path` only. */
  server?: Server;
  /** Upgrade path of the Twilio route when ptime owns or attaches to a server. Default '/media'. */
  path?: string;
  /**
   * With `server`: an upgrade on a path of no route is answered 404 ('reject', the default) unless
   * the server has another 'upgrade' listener, or left to others ('ignore').
   */
  otherPaths?: 'reject' | 'ignore';
  /**
   * Carriers by path, e.g. `{ '/media': 'twilio', '/telnyx': 'telnyx', '/signalwire': 'signalwire' }`.
   * Default: `{ [path]: 'twilio' }`. Each route parses, answers and authenticates its carrier's dialect.
   */
  routes?: Record<string, CarrierName>;
  /** SignalWire: when set, an upgrade on a SignalWire route must carry `Authorization: Bearer <this>` (403 otherwise). */
  signalwireToken?: string;
  /** Telnyx: when set, an upgrade on a Telnyx route must carry `x-telnyx-streaming-auth-token: <this>` (403 otherwise). */
  telnyxStreamToken?: string;
  /** Plivo: the auth token; when set, an upgrade on a Plivo route must carry a valid `X-Plivo-Signature-V3` (403 otherwise). */
  plivoAuthToken?: string;
  /** Exotel: `KEY:TOKEN`; when set, an upgrade on an Exotel route must carry it as `Authorization: Basic` (wss://KEY:TOKEN@host/…). */
  exotelCredentials?: string;
  /** Vonage: `bearer:TOKEN` or `basic:USER:PASSWORD`; when set, the upgrade's Authorization must match (the NCCO endpoint's `authorization` of type `custom`). */
  vonageAuth?: string;
  /** Asterisk: `bearer:TOKEN` or `basic:USER:PASSWORD` (websocket_client.conf `username`/`password` send Basic). */
  asteriskAuth?: string;
  /** Per-call queue bound in frames (20 ms each). Default 120 (2.4 s); 1..1024. */
  queue?: number;
  /**
   * Frames sent ahead of real time. Default 8 (160 ms): the carrier's buffer then rides out this
   * machine's scheduling hiccups, and a clear() empties it on every carrier, so barge-in does not
   * pay for it (README: defaults, from the same-run table). 0 = strict real time.
   */
  lead?: number;
  /**
   * Pacer busy-wait before each deadline, µs: the most it spins unless spinMaxUs is set. Default 50:
   * with the default lead a wake-up late by a millisecond costs nothing audible, so a long spin
   * would buy precision nobody hears with CPU on every wake.
   */
  spinUs?: number;
  /**
   * The busy-wait follows the measured Atomics.wait overshoot (the 2nd-largest of the last 64
   * wake-ups plus 50 µs), down to this many µs while wake-ups are punctual (an idle core), and
   * back up to spinUs when they are not. Default: spinUs, a fixed spin (on this project's VM a
   * shorter floor saved no CPU at 1000 calls, where wake-ups are rarely punctual; bench/results/pacer-precision.md).
   */
  spinMinUs?: number;
  /**
   * Above 0: the measured busy-wait may grow past spinUs up to this many µs (more CPU for late
   * wake-ups on a loaded machine). Default 0: spinUs is the ceiling.
   */
  spinMaxUs?: number;
  /** Lane start phases within the 20 ms period. Default 4 (a 5 ms grid). */
  phases?: number;
  /**
   * Above 0: new calls start on only as many of the phases as keep each pacer wake under this many
   * calls (fewer wakes, so less spinning, while calls are few). Default 0: all `phases`.
   */
  lanesPerWake?: number;
  /** Frames the pacer catches up after waking late before it re-bases. Default 2. */
  catchUpFrames?: number;
  /** send() returns false at this queue depth. Default min(50, queue). */
  highWaterMark?: number;
  /** 'drain' fires when the queue falls to this depth. Default half of highWaterMark. */
  lowWaterMark?: number;
  /** Concurrent calls (lanes). Default 2000. */
  maxCalls?: number;
  /** Largest inbound WebSocket message, bytes. Default 64 KiB. */
  maxPayload?: number;
  /** Longest mark name, UTF-8 bytes. Default 256. */
  maxMarkNameBytes?: number;
  /**
   * The engine's own marks go out every this many ms of a call's audio, so call.heard() is exact
   * to within it (see README: what the caller heard). Default 500 (bench/barge-in-accuracy.ts: as
   * exact as 200 at lead 8, with 2.5× fewer marks and echoes); 0 = only at utterance ends and the
   * app's marks. Rounded up to whole 20 ms frames; at most 10000.
   */
  markEveryMs?: number;
  logger?: Logger;
  /** Level for the logger ptime creates when none is given. Default 'warn' (`ptime serve`: info). */
  logLevel?: string;
  /** Period of the 'figures' event (and log line, with logFigures), ms. Default 1000. */
  figuresIntervalMs?: number;
  /** Log the figures every figuresIntervalMs at info. Default false (`ptime serve`: true). */
  logFigures?: boolean;
  /**
   * Log a call's customParameters (and let `from`/`to` fields through ptime's own logger). Default
   * false: they often carry the caller's number, and only their names are logged.
   */
  logCallParameters?: boolean;
  /** Nice value for the pacer thread only (-20..19; lower = more CPU priority; Linux needs
   * CAP_SYS_NICE to go below 0). Default: unchanged. */
  pacerNice?: number;
  /**
   * The pacer thread's timer slack, µs (Linux: the thread writes its own /proc/TID/timerslack_ns,
   * which needs no privilege). The kernel may end a timed Atomics.wait up to this late to batch
   * wake-ups (50 µs by default); the pacer's spin has to cover that, so a small slack lets a short
   * spin meet the deadline (measured: a wait's median overshoot 130 → 80 µs on this project's VM;
   * worth it with a short spinMinUs, no gain at the default 300 µs spin). 0 = leave the OS default.
   * Default 0.
   */
  pacerTimerSlackUs?: number;
  /**
   * Run the pacer thread alone under SCHED_FIFO at this priority (1..99): a woken pacer then
   * preempts ordinary threads at once instead of waiting out their time slice. Linux only, needs
   * CAP_SYS_NICE and util-linux `chrt`; a refusal is logged and pacing goes on. Default: off.
   * The risk: a SCHED_FIFO thread that hangs (a bug) takes its core until the kernel's RT
   * throttle (95 % by default) lets others run, so on a 1–2 core machine main's watchdog acts late.
   */
  pacerRealtime?: number;
  /**
   * sendPcm16 chunks of at least this many ms of audio convert on the codec pool, shorter ones
   * inline on the main thread. Default 100: measured crossover on a 2-core VM
   * (bench/codec-throughput.ts); 0 sends every chunk to the pool, a huge value none.
   */
  codecPoolMinMs?: number;
  /** Codec pool threads (started on first use, idle ones exit). Default: cores − 1, at least 1. */
  codecThreads?: number;
  /**
   * Twilio auth token. When set, every upgrade must carry a valid X-Twilio-Signature (HMAC-SHA1
   * of the URL), else HTTP 403 before the upgrade. Default: none (no check).
   */
  twilioAuthToken?: string;
  /** The stream URL as Twilio sees it (e.g. wss://voice.example.com/media), for the signature
   * when a proxy rewrites host or scheme. Default: built from the request. */
  publicUrl?: string;
  /** Retry-After (seconds) on the 503 an upgrade gets when maxCalls streams are open. Default 5. */
  retryAfterSec?: number;
  /** Largest start.customParameters, bytes of JSON; a bigger one closes the stream (1008). Default 4096. */
  maxCustomParametersBytes?: number;
  /** Inbound messages per second a stream may sustain (Twilio sends 50). Default 100. */
  inboundPerSec?: number;
  /** Inbound messages a stream may send at once above that (a delivered backlog). Default 250. */
  inboundBurst?: number;
  /** A stream over the inbound rate for this many seconds in a row is closed (1008). Default 3. */
  inboundFloodCloseSec?: number;
  /** Unsent bytes on a call's socket above which its media frames are dropped. Default 65536. */
  maxBufferedBytes?: number;
  /**
   * Every call's latency bound (call.setMaxQueuedMs): audio queued past this many ms is dropped
   * oldest first and counted. 0 = off (default): right for a TTS faster than real time, which
   * needs its queue; set it for real-time relays.
   */
  maxQueuedMs?: number;
  /** A socket that stays over maxBufferedBytes this long is closed (1008). Default 5000. */
  slowPeerCloseMs?: number;
  /** On close(), how long queued audio may play out before sockets are closed (1001). Default 5000. */
  drainMs?: number;
  /**
   * A socket that has not sent `start` this long after its upgrade is closed (1008): it holds a
   * maxCalls slot, and Twilio sends `start` at once. Default 10000.
   */
  startTimeoutMs?: number;
  /**
   * ptime's own server (`port`, either I/O mode): a connection must have sent its whole upgrade
   * request this soon after it was accepted, or it is closed (PTIME_ERR_UPGRADE_TIMEOUT). A peer
   * that trickles its headers would otherwise hold a descriptor for Node's 60 s. Default 5000.
   */
  upgradeTimeoutMs?: number;
  /**
   * ptime's own server: connections accepted and not yet upgraded, at most; one more is answered
   * 503 and closed at once (PTIME_ERR_PENDING_UPGRADES). Default 1000.
   */
  maxPendingUpgrades?: number;
  /**
   * Liveness: every socket is pinged this often, and one that has not answered the previous ping
   * (nor sent anything) is terminated, so a peer gone without a FIN (a dropped NAT, a pulled
   * cable) does not hold its lane and slot for ever. 0 = off. Default 30000.
   */
  keepaliveMs?: number;
  /**
   * Pacer watchdog: a pacer thread whose ticks stand still this long while a call has audio queued
   * is hung; it is terminated and restarted (lanes kept, 'pacerRestart' with reason 'hung').
   * 0 = off. Default 500: 25 frame periods, far above any scheduling hiccup of a live thread.
   */
  pacerStallMs?: number;
  /**
   * Where the sockets live. 'worker': the HTTP and WebSocket server, admission and the sending of
   * every frame run on a dedicated I/O thread, so a stall of this thread (a big JSON parse, a major
   * GC) does not delay a frame. Needs ptime's own port: Node cannot hand an accepted socket to a
   * worker thread, so `server` and `handleUpgrade()` are refused in this mode. 'main': on this
   * thread, beside the application; the pacer's frames are sent from here.
   * Default: 'worker' when ptime owns the listening port (`port` given), 'main' with `server`,
   * with handleUpgrade() (neither given) and with a replacement `pacer`.
   */
  io?: 'main' | 'worker';
  /**
   * io: 'worker': inbound media frames main may be behind by (all calls together) while it is
   * stalled; they are delivered in order after the stall. Past it media is dropped and counted
   * (PTIME_ERR_INBOUND_BACKLOG); start, stop, marks, DTMF and closes are never dropped.
   * Default 50 × 10 × maxCalls capped at 1,000,000: ten seconds of every call.
   */
  inboundBacklogFrames?: number;
  /**
   * Record every call from its start as `<dir>/<streamSid>.wav` (the directory is created):
   * stereo 16-bit PCM at the call's rate, left the caller, right the bot as the caller heard it.
   * Default: off (a call can still ask with `call.record(path)`).
   */
  record?: { dir: string };
  /** Replace the pacer worker (the benchmark's main-thread baselines use this). */
  pacer?: PacerFactory;
  /**
   * Internal, for tests: start the shared int32 counters (lanes, pacer control block) here
   * instead of 0, to run through their wrap in seconds rather than months.
   */
  counterStart?: number;
}

type Optional =
  | 'port'
  | 'host'
  | 'server'
  | 'logger'
  | 'pacer'
  | 'pacerNice'
  | 'pacerRealtime'
  | 'twilioAuthToken'
  | 'publicUrl'
  | 'signalwireToken'
  | 'telnyxStreamToken'
  | 'plivoAuthToken'
  | 'exotelCredentials'
  | 'vonageAuth'
  | 'asteriskAuth'
  | 'record';
export type ResolvedOptions = Required<Omit<EngineOptions, Optional>> & Pick<EngineOptions, Optional>;

function int(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new PtimeError(
      ErrorCodes.INVALID_OPTION,
      `${name} must be an integer from ${min} to ${max} (got ${String(v)})`,
    );
  }
  return v;
}

export function resolveOptions(o: EngineOptions): ResolvedOptions {
  const queue = o.queue ?? DEFAULT_QUEUE_FRAMES;
  validateBound(queue);
  const highWaterMark = int('highWaterMark', o.highWaterMark, Math.min(50, queue), 1, queue);
  if (o.routes !== undefined && o.path !== undefined)
    throw new PtimeError(ErrorCodes.INVALID_OPTION, 'give either path (one Twilio route) or routes, not both');
  const routes: Record<string, CarrierName> = o.routes ? { ...o.routes } : { [o.path ?? '/media']: 'twilio' };
  const entries = Object.entries(routes);
  if (entries.length === 0) throw new PtimeError(ErrorCodes.INVALID_OPTION, 'routes must name at least one path');
  for (const [p, carrier] of entries) {
    if (!p.startsWith('/'))
      throw new PtimeError(ErrorCodes.INVALID_OPTION, `a route path must start with '/' (got ${p})`);
    if (!isCarrierName(carrier))
      throw new PtimeError(
        ErrorCodes.INVALID_OPTION,
        `route ${p}: unknown carrier ${JSON.stringify(carrier)} (one of ${CARRIER_NAMES.join(', ')})`,
      );
  }
  // The path tests and logs show: the Twilio route's, else the first.
  const path = entries.find(([, c]) => c === 'twilio')?.[0] ?? entries[0]![0];
  for (const [name, v] of [
    ['signalwireToken', o.signalwireToken],
    ['telnyxStreamToken', o.telnyxStreamToken],
    ['plivoAuthToken', o.plivoAuthToken],
  ] as const) {
    if (v !== undefined && (typeof v !== 'string' || v.length === 0))
      throw new PtimeError(ErrorCodes.INVALID_OPTION, `${name} must be a non-empty string`);
  }
  if (o.exotelCredentials !== undefined) parseCredential(`basic:${String(o.exotelCredentials)}`, 'exotelCredentials');
  if (o.vonageAuth !== undefined) parseCredential(o.vonageAuth, 'vonageAuth');
  if (o.asteriskAuth !== undefined) parseCredential(o.asteriskAuth, 'asteriskAuth');
  if (o.port !== undefined) int('port', o.port, 0, 0, 65535);
  if (o.port !== undefined && o.server !== undefined) {
    throw new PtimeError(ErrorCodes.INVALID_OPTION, 'give either port or server, not both');
  }
  if (o.record !== undefined && (typeof o.record?.dir !== 'string' || o.record.dir.length === 0))
    throw new PtimeError(ErrorCodes.INVALID_OPTION, 'record must be { dir: string } (a non-empty directory path)');
  if (o.pacerNice !== undefined) int('pacerNice', o.pacerNice, 0, -20, 19);
  if (o.pacerRealtime !== undefined) int('pacerRealtime', o.pacerRealtime, 1, 1, 99);
  const io = o.io ?? (o.port !== undefined && o.server === undefined && o.pacer === undefined ? 'worker' : 'main');
  if (io !== 'main' && io !== 'worker')
    throw new PtimeError(ErrorCodes.INVALID_OPTION, `io must be 'main' or 'worker' (got ${String(io)})`);
  if (io === 'worker' && o.server !== undefined) {
    throw new PtimeError(
      ErrorCodes.INVALID_OPTION,
      "io: 'worker' needs ptime's own listening port (give port, not server): Node cannot hand a socket accepted on this thread to the I/O thread",
    );
  }
  if (io === 'worker' && o.pacer !== undefined)
    throw new PtimeError(
      ErrorCodes.INVALID_OPTION,
      "io: 'worker' needs the pacer worker (pacer replacements hand frames to main)",
    );
  const maxCalls = int('maxCalls', o.maxCalls, 2000, 1, 100_000);
  const spinUs = int('spinUs', o.spinUs, 50, 0, 20_000);
  if (o.twilioAuthToken !== undefined && (typeof o.twilioAuthToken !== 'string' || o.twilioAuthToken.length === 0)) {
    throw new PtimeError(
      ErrorCodes.INVALID_OPTION,
      'twilioAuthToken must be a non-empty string (an empty key would let anyone sign)',
    );
  }
  if (o.publicUrl !== undefined && !/^wss?:\/\/[^/]+/.test(o.publicUrl)) {
    throw new PtimeError(
      ErrorCodes.INVALID_OPTION,
      `publicUrl must be an absolute ws:// or wss:// URL as in <Stream url> (got ${String(o.publicUrl)})`,
    );
  }
  return {
    ...o,
    path,
    routes,
    queue,
    lead: int('lead', o.lead, 8, 0, 50),
    spinUs,
    spinMinUs: int('spinMinUs', o.spinMinUs, spinUs, 0, 20_000),
    spinMaxUs: int('spinMaxUs', o.spinMaxUs, 0, 0, 20_000),
    phases: int('phases', o.phases, 4, 1, 20),
    lanesPerWake: int('lanesPerWake', o.lanesPerWake, 0, 0, 100_000),
    catchUpFrames: int('catchUpFrames', o.catchUpFrames, 2, 0, 50),
    highWaterMark,
    lowWaterMark: int('lowWaterMark', o.lowWaterMark, Math.floor(highWaterMark / 2), 0, highWaterMark - 1),
    maxCalls,
    io,
    otherPaths: otherPathsOf(o.otherPaths),
    inboundBacklogFrames: int(
      'inboundBacklogFrames',
      o.inboundBacklogFrames,
      Math.min(1_000_000, 500 * maxCalls),
      50,
      100_000_000,
    ),
    maxPayload: int('maxPayload', o.maxPayload, 64 * 1024, 1024, 16 * 1024 * 1024),
    maxMarkNameBytes: int('maxMarkNameBytes', o.maxMarkNameBytes, 256, 1, MAX_MARK_NAME_CHARS),
    markEveryMs: int('markEveryMs', o.markEveryMs, 500, 0, 10_000),
    logLevel: o.logLevel ?? 'warn',
    logFigures: o.logFigures ?? false,
    logCallParameters: o.logCallParameters ?? false,
    figuresIntervalMs: int('figuresIntervalMs', o.figuresIntervalMs, 1000, 50, 3_600_000),
    codecPoolMinMs: int('codecPoolMinMs', o.codecPoolMinMs, 100, 0, 3_600_000),
    retryAfterSec: int('retryAfterSec', o.retryAfterSec, 5, 0, 3600),
    maxCustomParametersBytes: int('maxCustomParametersBytes', o.maxCustomParametersBytes, 4096, 2, 1024 * 1024),
    inboundPerSec: int('inboundPerSec', o.inboundPerSec, 100, 1, 100_000),
    inboundBurst: int('inboundBurst', o.inboundBurst, 250, 1, 1_000_000),
    inboundFloodCloseSec: int('inboundFloodCloseSec', o.inboundFloodCloseSec, 3, 1, 3600),
    maxQueuedMs: int('maxQueuedMs', o.maxQueuedMs, 0, 0, MAX_QUEUED_MS),
    maxBufferedBytes: int('maxBufferedBytes', o.maxBufferedBytes, 64 * 1024, 1024, 256 * 1024 * 1024),
    slowPeerCloseMs: int('slowPeerCloseMs', o.slowPeerCloseMs, 5000, 0, 3_600_000),
    drainMs: int('drainMs', o.drainMs, 5000, 0, 3_600_000),
    startTimeoutMs: int('startTimeoutMs', o.startTimeoutMs, 10_000, 1, 3_600_000),
    upgradeTimeoutMs: int('upgradeTimeoutMs', o.upgradeTimeoutMs, 5000, 100, 600_000),
    maxPendingUpgrades: int('maxPendingUpgrades', o.maxPendingUpgrades, 1000, 1, 1_000_000),
    keepaliveMs: int('keepaliveMs', o.keepaliveMs, 30_000, 0, 3_600_000),
    codecThreads: int('codecThreads', o.codecThreads, Math.max(1, availableParallelism() - 1), 1, 256),
    pacerStallMs: int('pacerStallMs', o.pacerStallMs, 500, 0, 3_600_000),
    pacerTimerSlackUs: int('pacerTimerSlackUs', o.pacerTimerSlackUs, 0, 0, 50_000),
    counterStart: int('counterStart', o.counterStart, 0, -(2 ** 31), 2 ** 31 - 1),
  };
}

function otherPathsOf(v: unknown): 'reject' | 'ignore' {
  if (v === undefined || v === 'reject' || v === 'ignore') return v ?? 'reject';
  throw new PtimeError(ErrorCodes.INVALID_OPTION, `otherPaths must be 'reject' or 'ignore' (got ${JSON.stringify(v)})`);
}
