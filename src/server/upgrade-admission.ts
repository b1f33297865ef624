import type { IncomingMessage } from 'node:http';
import { ErrorCodes, type ErrorCode } from '../errors.js';
import { checkTwilioSignature, requestUrl, SIGNATURE_HEADER } from './twilio-signature.js';

/** Why an upgrade was turned away, as the HTTP answer and the counted code. */
export interface Refusal {
  status: number;
  text: string;
  headers: Record<string, string>;
  code: ErrorCode;
  message: string;
}

export interface AdmissionRules {
  /** Twilio auth token: when set, every upgrade must carry a valid X-Twilio-Signature. */
  readonly twilioAuthToken: string | undefined;
  /** The URL as Twilio sees it (wss://host/path), when a proxy rewrites host or scheme. */
  readonly publicUrl: string | undefined;
  readonly maxCalls: number;
  readonly retryAfterSec: number;
}

/**
 * The checks an upgrade passes before any WebSocket exists: a refused peer costs one HTTP answer
 * and no lane, no socket state, no parser. Order matters: a forged request learns nothing about
 * capacity or shutdown, so the signature is checked first.
 */
/** Why the engine takes no new streams at all, when it does not: shutting down, or its pacer failed for good. */
export type Unavailable = { code: ErrorCode; message: string } | null;

export function admitUpgrade(req: IncomingMessage, rules: AdmissionRules, state: { openStreams: number; unavailable: Unavailable }): Refusal | null {
  if (rules.twilioAuthToken !== undefined) {
    const url = requestUrl(rules.publicUrl, req);
    const check = checkTwilioSignature(rules.twilioAuthToken, url, req.headers[SIGNATURE_HEADER]);
    if (!check.ok) {
      return {
        status: 403,
        text: 'Forbidden',
        headers: {},
        code: ErrorCodes.BAD_SIGNATURE,
        message: `X-Twilio-Signature ${check.reason} for ${url.slice(0, 200)}`,
      };
    }
  }
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
