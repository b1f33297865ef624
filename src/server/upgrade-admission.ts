import type { IncomingMessage } from 'node:http';
import { ErrorCodes, type ErrorCode } from '../errors.js';
import type { CarrierName } from '../protocol/carrier-adapter.js';
import { checkCarrierAuth, type CarrierAuth } from './carrier-auth.js';
import type { Refusal } from './refusal.js';

export type { Refusal } from './refusal.js';

export interface AdmissionRules {
  /** Each carrier's credential check (carrier-auth.ts). */
  readonly auth: CarrierAuth;
  readonly maxCalls: number;
  readonly retryAfterSec: number;
}

/** Why the engine takes no new streams at all, when it does not: shutting down, or its pacer failed for good. */
export type Unavailable = { code: ErrorCode; message: string } | null;

/**
 * The checks an upgrade passes before any WebSocket exists: a refused peer costs one HTTP answer
 * and no lane, no socket state, no parser. Order matters: a forged request learns nothing about
 * capacity or shutdown, so the carrier's credential is checked first.
 */
export function admitUpgrade(
  req: IncomingMessage,
  carrier: CarrierName,
  rules: AdmissionRules,
  state: { openStreams: number; unavailable: Unavailable },
): Refusal | null {
  const denied = checkCarrierAuth(carrier, req, rules.auth);
  if (denied) return denied;
  if (state.unavailable) return { status: 503, text: 'Service Unavailable', headers: {}, ...state.unavailable };
  if (state.openStreams >= rules.maxCalls) {
    return {
      status: 503,
      text: 'Service Unavailable',
      headers: { 'Retry-After': String(rules.retryAfterSec) },
      code: ErrorCodes.TOO_MANY_CALLS,
      message: `maxCalls (${rules.maxCalls}) streams already open`,
    };
  }
  return null;
}
