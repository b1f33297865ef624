/**
 * Messages between main and the I/O thread (io: 'worker'). Main sends commands on a dedicated
 * MessagePort, which the I/O thread also drains synchronously before it sends from each pacer
 * batch: a command main posted before it wrote a lane (a bind, a clear, a mark's message) is then
 * always applied before the frames the pacer built from that write. The I/O thread sends events
 * to main on its parentPort, all the events of one loop turn in one message, in order per stream.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorCode } from '../errors.js';
import type { StartInfo } from '../protocol/carrier-adapter.js';
import type { AdmissionRules, Unavailable } from '../server/upgrade-admission.js';
import type { Routes } from '../server/upgrade-routes.js';
import type { SessionLimits } from '../server/stream-session.js';
import type { UpgradeLimits } from '../server/pending-upgrades.js';

/** What the I/O thread needs to run the server (from EngineOptions). */
export interface IoSettings {
  port: number;
  host: string | undefined;
  routes: Routes;
  maxPayload: number;
  keepaliveMs: number;
  admission: AdmissionRules;
  session: SessionLimits;
  upgrade: UpgradeLimits;
  /** Inbound media events main may be behind by before media is dropped (control events never are). */
  backlogFrames: number;
}

export interface IoWorkerData {
  settings: IoSettings;
  commands: MessagePort;
  /**
   * Shared with main: [B_MEDIA_POSTED] media events posted by the I/O thread, [B_MEDIA_TAKEN] media
   * events main has taken; [B_LOOP_P99_US] / [B_LOOP_MAX_US] the I/O thread's event-loop delay over
   * its last second, stored by it so main reports it without a message.
   */
  backlog: SharedArrayBuffer;
}

export type IoCommand =
  /** The stream `sid` is call on `lane` (its OWNER word `owner`, generation `gen`). */
  | { op: 'bind'; sid: number; lane: number; owner: number; gen: number; sab: SharedArrayBuffer }
  | { op: 'clear'; sid: number; wire: string; gen: number }
  | { op: 'mark'; sid: number; id: number; wire: string; gen: number }
  | { op: 'close'; sid: number; code: number; reason: string }
  | { op: 'media'; sid: number; wanted: boolean }
  | { op: 'state'; unavailable: Unavailable }
  | { op: 'pacer'; port: MessagePort; control: SharedArrayBuffer }
  /** Close every socket (engine.close()); answered with `allClosed`. */
  | { op: 'closeAll'; code: number; reason: string }
  | { op: 'stop' }
  /** Answered with `synced` once every event before it was posted (engine.settled()). */
  | { op: 'sync'; id: number }
  /** Diagnostics only: fail the I/O thread for real. */
  | { op: 'crash' };

export type IoEvent =
  | { e: 'start'; sid: number; start: StartInfo }
  | { e: 'media'; sid: number; payload: Uint8Array; track: string; chunk: number; timestamp: number }
  | { e: 'dtmf'; sid: number; digit: string; track: string }
  | { e: 'flow'; sid: number; paused: boolean }
  | { e: 'mark'; sid: number; name: string }
  | { e: 'markSent'; sid: number; id: number }
  | { e: 'stop'; sid: number }
  | { e: 'closed'; sid: number; code: number; reason: string }
  /** A refused message, upgrade (sid -1) or stream. */
  | { e: 'reject'; sid: number; code: ErrorCode; message: string; streamSid: string | null }
  /** Media frames dropped for this stream's slow socket since the last such event. */
  | { e: 'slow'; sid: number; dropped: number }
  /** This stream's socket stayed over maxBufferedBytes for slowPeerCloseMs. */
  | { e: 'stuck'; sid: number; message: string }
  | { e: 'log'; level: 'error' | 'warn' | 'info' | 'debug'; obj: Record<string, unknown>; msg: string };

export type IoMessage =
  /** `tid`: the thread's kernel id, for its CPU time in /proc/self/task/TID/schedstat. */
  | { t: 'listening'; port: number; tid: number }
  /**
   * The server could not listen: `message` is the PTIME_ERR_LISTEN message, `cause` the listen
   * error's own message and errno. Both are sent as fields because an Error crossing threads
   * arrives as a plain Error without its class or its `code`: main rebuilds the PtimeError.
   */
  | { t: 'listenError'; message: string; cause: { message: string; code: string | undefined } }
  | { t: 'events'; list: IoEvent[] }
  | { t: 'allClosed' }
  | { t: 'synced'; id: number };

export const B_MEDIA_POSTED = 0;
export const B_MEDIA_TAKEN = 1;
export const B_LOOP_P99_US = 2;
export const B_LOOP_MAX_US = 3;
export const BACKLOG_BYTES = 16;
