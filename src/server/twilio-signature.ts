import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, PtimeError } from '../errors.js';

/**
 * X-Twilio-Signature checks for the WebSocket upgrade that opens a Media Stream.
 *
 * Twilio signs every request with base64(HMAC-SHA1(authToken, url + sorted POST params)). An
 * upgrade is a GET with no body, so the signed string is the URL alone, query string included.
 * A `bodySHA256` query parameter (Twilio's scheme for JSON bodies) needs no special case here: it
 * is part of the URL, so it is signed like any other byte of it, and there is no body to hash.
 *
 * Nothing in this file touches a socket, so the exact rules are testable without a network.
 */

/** Lower-case, as Node's `IncomingMessage.headers` spells it. */
export const SIGNATURE_HEADER = 'x-twilio-signature';

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' };

/** The shape `requestUrl` reads; an `IncomingMessage` fits it. */
export interface UpgradeRequestLike {
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  // `object`, not `{ encrypted?: boolean }`: a plain net.Socket has no property in common with
  // that weak type, so TypeScript would refuse an IncomingMessage. TLSSocket sets `encrypted`.
  socket: object;
}

const SHA1_BYTES = 20;
// 20 bytes are 28 base64 characters ending in exactly one '='. Checking the form first keeps
// Buffer.from's lenient decoder (it skips junk and stops at the first '=') from turning a
// garbage header into 20 bytes that happen to be compared.
const SIGNATURE_FORM = /^[A-Za-z0-9+/]{27}=$/;

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'wss:': '443', 'https:': '443', 'ws:': '80', 'http:': '80' };

function requireToken(authToken: string): void {
  // HMAC accepts an empty key, and then anyone can mint valid signatures: a missing token must
  // stop the server, not quietly accept forgeries.
  if (authToken.length === 0) {
    throw new PtimeError(ErrorCodes.INVALID_OPTION, 'Twilio auth token is empty; cannot check X-Twilio-Signature');
  }
}

function hmac(authToken: string, url: string): Buffer {
  return createHmac('sha1', authToken).update(url, 'utf8').digest();
}

/** base64 HMAC-SHA1 of `url` keyed with `authToken`: the header Twilio sends for a bodiless request. */
export function expectedTwilioSignature(authToken: string, url: string): string {
  requireToken(authToken);
  return hmac(authToken, url).toString('base64');
}

/**
 * The same URL with the scheme's default port toggled: added when absent, removed when present.
 * Twilio's signer is known to be inconsistent about the default port, and its own helper libraries
 * (twilio-node `validateRequest`, twilio-python `RequestValidator.validate`) accept either form.
 * Unlike those helpers, wss maps to 443 (they pick 80 for anything but https), and a non-default
 * port is never stripped: wss://h:8443/x and wss://h/x are different endpoints.
 *
 * Works on the string, not through `new URL()`, whose normalisation (percent-encoding quotes,
 * adding a trailing '/') would change bytes Twilio signed as written.
 */
function defaultPortVariant(url: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:)\/\/([^/?#]*)(.*)$/s.exec(url);
  if (m === null) return undefined;
  const [, scheme = '', authority = '', rest = ''] = m;
  const defaultPort = DEFAULT_PORTS[scheme.toLowerCase()];
  if (defaultPort === undefined) return undefined;
  const at = authority.lastIndexOf('@');
  const userinfo = authority.slice(0, at + 1);
  // Brackets keep the colons of an IPv6 literal out of the port.
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(authority.slice(at + 1));
  if (hp === null) return undefined;
  const [, host = '', port] = hp;
  if (host === '') return undefined;
  if (port === undefined) return `${scheme}//${userinfo}${host}:${defaultPort}${rest}`;
  if (port === defaultPort) return `${scheme}//${userinfo}${host}${rest}`;
  return undefined;
}

/**
 * Check the X-Twilio-Signature header against `url` (see `requestUrl`) and its default-port twin.
 *
 * The header is decoded to its 20 digest bytes and compared with `timingSafeEqual` against each
 * candidate digest, so every comparison is between equal-length buffers and takes the same time
 * whatever the bytes; all candidates are compared, none short-circuits. Only the header's form
 * (which the sender chose) decides 'malformed'; the secret digest never does.
 */
export function checkTwilioSignature(
  authToken: string,
  url: string,
  header: string | string[] | undefined,
): SignatureCheck {
  requireToken(authToken);
  if (header === undefined || header === '') return { ok: false, reason: 'missing' };
  // Two signature headers mean someone added one: refuse rather than pick. (Node itself joins a
  // repeated unknown header into "a, b", which fails the form check below for the same verdict.)
  if (typeof header !== 'string' || !SIGNATURE_FORM.test(header)) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(header, 'base64');
  // A non-canonical spelling (non-zero bits after the last full byte) decodes to the same bytes
  // as a different string; Twilio never sends one, so it is malformed, not a second valid form.
  if (given.length !== SHA1_BYTES || given.toString('base64') !== header) return { ok: false, reason: 'malformed' };

  const variant = defaultPortVariant(url);
  let match = timingSafeEqual(given, hmac(authToken, url));
  if (variant !== undefined) match = timingSafeEqual(given, hmac(authToken, variant)) || match;
  return match ? { ok: true } : { ok: false, reason: 'mismatch' };
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function queryOf(reqUrl: string): string {
  const q = reqUrl.indexOf('?');
  return q < 0 ? '' : reqUrl.slice(q);
}

/**
 * The URL Twilio signed for this upgrade request.
 *
 * With `publicUrl` (set it to the exact string in `<Stream url="...">`):
 *   - scheme, host, port and path come from `publicUrl`, byte for byte, because a proxy or
 *     tunnel in front of us may rewrite Host and path, and only the configured URL is what
 *     Twilio saw;
 *   - if `publicUrl` has no '?', the request's query string (everything from the first '?' in
 *     `req.url`, the '?' included) is appended, since Twilio signs the query it sent;
 *   - if `publicUrl` has a '?', it is used verbatim and the request's query is ignored: the
 *     operator pinned the whole URL (as twilio-node's `url` option does). ptime reads no
 *     parameters from the query (`<Stream>` rejects query strings; custom values arrive in
 *     `start.customParameters`), so an unsigned query on the request cannot steer anything.
 *
 * Without it: `ws(s)://` + Host header + `req.url`. Twilio dials only wss, so the scheme is wss
 * when our socket is TLS or the first X-Forwarded-Proto value is https or wss, else ws (tests and
 * local tools). Trusting X-Forwarded-Proto is sound here because it only chooses which string we
 * verify: a forged value cannot make a forged signature match without the auth token, and behind
 * a TLS-terminating proxy ignoring it would reject every genuine call. Host is just as
 * client-controlled, which is the real weakness of this mode: a signature captured for one
 * endpoint validates on any server sharing the auth token that is reached with that Host.
 * Production should set `publicUrl`, which binds signatures to this endpoint.
 */
export function requestUrl(publicUrl: string | undefined, req: UpgradeRequestLike): string {
  const path = req.url ?? '/';
  if (publicUrl !== undefined) {
    return publicUrl.includes('?') ? publicUrl : publicUrl + queryOf(path);
  }
  const proto = firstValue(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim().toLowerCase();
  const tls = ('encrypted' in req.socket && req.socket.encrypted === true) || proto === 'https' || proto === 'wss';
  // A missing Host yields "wss:///path", which no genuine signature covers: the check then fails
  // closed with 'mismatch' instead of guessing a host.
  const host = firstValue(req.headers.host) ?? '';
  return `${tls ? 'wss' : 'ws'}://${host}${path}`;
}
