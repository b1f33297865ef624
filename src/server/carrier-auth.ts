import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ErrorCodes } from '../errors.js';
import type { CarrierName } from '../protocol/carrier-adapter.js';
import { checkTwilioSignature, requestUrl, SIGNATURE_HEADER } from './twilio-signature.js';
import { presented, type UpgradeCredential } from './upgrade-credential.js';
import { NonceMemory } from './nonce-memory.js';
import type { Refusal } from './refusal.js';

/** Who may connect, per carrier: each check runs only when its secret is configured. */
export interface CarrierAuth {
  /** Twilio: X-Twilio-Signature, HMAC-SHA1 of the URL keyed with the auth token. */
  readonly twilioAuthToken: string | undefined;
  readonly publicUrl: string | undefined;
  /** SignalWire: the `authBearerToken` of `<Stream>`, sent as `Authorization: Bearer …`. */
  readonly signalwireToken: string | undefined;
  /** Telnyx: the `stream_auth_token`, sent as the `x-telnyx-streaming-auth-token` header. */
  readonly telnyxStreamToken: string | undefined;
  /** Plivo: the account's auth token, for `X-Plivo-Signature-V3` with its nonce. */
  readonly plivoAuthToken: string | undefined;
  /** Exotel: `Authorization: Basic` of KEY:TOKEN. */
  readonly exotel: UpgradeCredential | undefined;
  /** Vonage: the NCCO's custom `authorization` value, Bearer or Basic. */
  readonly vonage: UpgradeCredential | undefined;
  /** Asterisk: websocket_client.conf username/password (Basic), or a bearer token. */
  readonly asterisk: UpgradeCredential | undefined;
}

export const TELNYX_TOKEN_HEADER = 'x-telnyx-streaming-auth-token';
export const PLIVO_SIGNATURE_HEADER = 'x-plivo-signature-v3';
export const PLIVO_NONCE_HEADER = 'x-plivo-signature-v3-nonce';

/**
 * The URL Plivo signs for a GET (its SDKs' validateV3Signature): scheme, host and path, then `?`
 * and the query parameters sorted by key and value, if there are any.
 */
export function plivoSignedUrl(url: string): string {
  const u = new URL(url);
  const pairs = [...u.searchParams.entries()].sort(([ka, va], [kb, vb]) =>
    ka === kb ? (va < vb ? -1 : va > vb ? 1 : 0) : ka < kb ? -1 : 1,
  );
  const query = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  return `${u.protocol}//${u.host}${u.pathname}${query ? `?${query}` : ''}`;
}

/** base64(HMAC-SHA256(authToken, signedUrl + '.' + nonce)). */
export function plivoSignatureV3(authToken: string, url: string, nonce: string): string {
  return createHmac('sha256', authToken)
    .update(`${plivoSignedUrl(url)}.${nonce}`)
    .digest('base64');
}

function forbidden(code: Refusal['code'], message: string): Refusal {
  return { status: 403, text: 'Forbidden', headers: {}, code, message };
}

/** Plivo nonces accepted recently (per process: each I/O thread or main checks its own upgrades). */
const plivoNonces = new NonceMemory();

/** A per-process key, so the compared digests say nothing about the secret. */
const COMPARE_KEY = randomBytes(32);

/**
 * Constant-time: a wrong token takes as long to refuse as a nearly right one, and its length does
 * not show either (both sides are compared as fixed-size HMACs).
 */
function sameSecret(given: string, expected: string): boolean {
  const a = createHmac('sha256', COMPARE_KEY).update(given).digest();
  const b = createHmac('sha256', COMPARE_KEY).update(expected).digest();
  return timingSafeEqual(a, b);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The refusal for an upgrade on a route of `carrier`, or null when it may connect. */
export function checkCarrierAuth(carrier: CarrierName, req: IncomingMessage, auth: CarrierAuth): Refusal | null {
  switch (carrier) {
    case 'twilio': {
      if (auth.twilioAuthToken === undefined) return null;
      const url = requestUrl(auth.publicUrl, req);
      const check = checkTwilioSignature(auth.twilioAuthToken, url, req.headers[SIGNATURE_HEADER]);
      return check.ok
        ? null
        : forbidden(ErrorCodes.BAD_SIGNATURE, `X-Twilio-Signature ${check.reason} for ${url.slice(0, 200)}`);
    }
    case 'signalwire': {
      if (auth.signalwireToken === undefined) return null;
      const given = /^Bearer (.+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
      if (given === undefined)
        return forbidden(ErrorCodes.BAD_SIGNATURE, 'SignalWire upgrade without an Authorization: Bearer token');
      return sameSecret(given, auth.signalwireToken)
        ? null
        : forbidden(ErrorCodes.BAD_SIGNATURE, 'SignalWire bearer token does not match signalwireToken');
    }
    case 'telnyx': {
      if (auth.telnyxStreamToken === undefined) return null;
      const given = header(req, TELNYX_TOKEN_HEADER);
      if (given === undefined)
        return forbidden(ErrorCodes.BAD_SIGNATURE, `Telnyx upgrade without ${TELNYX_TOKEN_HEADER}`);
      return sameSecret(given, auth.telnyxStreamToken)
        ? null
        : forbidden(ErrorCodes.BAD_SIGNATURE, `${TELNYX_TOKEN_HEADER} does not match telnyxStreamToken`);
    }
    case 'plivo': {
      if (auth.plivoAuthToken === undefined) return null;
      const given = header(req, PLIVO_SIGNATURE_HEADER);
      const nonce = header(req, PLIVO_NONCE_HEADER);
      if (given === undefined || nonce === undefined)
        return forbidden(ErrorCodes.BAD_SIGNATURE, `Plivo upgrade without ${PLIVO_SIGNATURE_HEADER} and its nonce`);
      // The URL as Plivo dialled it: publicUrl's scheme and host when set (behind a proxy), and this request's path and query.
      const url =
        auth.publicUrl !== undefined ? new URL(req.url ?? '/', auth.publicUrl).toString() : requestUrl(undefined, req);
      const expected = plivoSignatureV3(auth.plivoAuthToken, url, nonce);
      // Plivo may send several signatures, comma-separated: any one matching is enough.
      if (!given.split(',').some((s) => sameSecret(s.trim(), expected)))
        return forbidden(
          ErrorCodes.BAD_SIGNATURE,
          `X-Plivo-Signature-V3 does not match for ${plivoSignedUrl(url).slice(0, 200)}`,
        );
      // Checked after the signature, so only a genuine nonce is remembered.
      return plivoNonces.firstUse(nonce, Date.now())
        ? null
        : forbidden(ErrorCodes.BAD_SIGNATURE, 'X-Plivo-Signature-V3-Nonce already used: a replayed upgrade');
    }
    case 'exotel':
      return checkCredential('Exotel', 'exotelCredentials', auth.exotel, req);
    case 'vonage':
      return checkCredential('Vonage', 'vonageAuth', auth.vonage, req);
    case 'asterisk':
      return checkCredential('Asterisk', 'asteriskAuth', auth.asterisk, req);
  }
}

function checkCredential(
  carrier: string,
  setting: string,
  expected: UpgradeCredential | undefined,
  req: IncomingMessage,
): Refusal | null {
  if (expected === undefined) return null;
  const given = presented(header(req, 'authorization'), expected.scheme);
  if (given === undefined)
    return forbidden(
      ErrorCodes.BAD_SIGNATURE,
      `${carrier} upgrade without an Authorization: ${expected.scheme} credential`,
    );
  return sameSecret(given, expected.secret)
    ? null
    : forbidden(ErrorCodes.BAD_SIGNATURE, `${carrier} ${expected.scheme} credential does not match ${setting}`);
}
