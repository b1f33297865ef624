import { ErrorCodes, PtimeError } from '../errors.js';

/**
 * A credential an upgrade must carry in `Authorization`, as configured: `bearer:TOKEN` or
 * `basic:USER:PASSWORD` (the password may contain ':'). Carriers that let the customer set the
 * header (Vonage's `custom` authorization) or send Basic from configured credentials (Asterisk's
 * websocket_client.conf, Exotel's `wss://KEY:TOKEN@host`) are checked against this.
 */
export interface UpgradeCredential {
  readonly scheme: 'Bearer' | 'Basic';
  /** The token, or `USER:PASSWORD` before base64. */
  readonly secret: string;
}

export function parseCredential(text: unknown, what: string): UpgradeCredential {
  const m = typeof text === 'string' ? /^(bearer|basic):(.+)$/i.exec(text) : null;
  if (!m) {
    throw new PtimeError(
      ErrorCodes.INVALID_OPTION,
      `${what} must be bearer:TOKEN or basic:USER:PASSWORD (got ${typeof text === 'string' ? `a string of ${text.length} characters` : typeof text})`,
    );
  }
  const scheme = m[1]!.toLowerCase() === 'bearer' ? 'Bearer' : 'Basic';
  const secret = m[2]!;
  if (scheme === 'Basic' && !/^[^:]+:.+$/.test(secret)) {
    throw new PtimeError(ErrorCodes.INVALID_OPTION, `${what}: Basic credentials must be USER:PASSWORD, both non-empty`);
  }
  return { scheme, secret };
}

/** The secret an `Authorization` header gives for `scheme` (Basic decoded), or undefined when it is absent or another scheme. */
export function presented(header: string | undefined, scheme: UpgradeCredential['scheme']): string | undefined {
  const m = /^(\S+)\s+(.+)$/.exec(header ?? '');
  if (!m || m[1]!.toLowerCase() !== scheme.toLowerCase()) return undefined;
  return scheme === 'Basic' ? Buffer.from(m[2]!, 'base64').toString('utf8') : m[2]!;
}
