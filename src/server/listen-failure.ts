import { ErrorCodes, PtimeError } from '../errors.js';

/**
 * The listen errors an operator meets, in words: the errno alone (EADDRNOTAVAIL) sends them to a
 * search engine. An errno not listed here keeps Node's own message.
 */
const REASONS: Readonly<Record<string, (port: number) => string>> = {
  EADDRINUSE: () => 'the address is in use',
  EACCES: (port) =>
    port > 0 && port < 1024 ? 'permission denied; ports below 1024 need privileges' : 'permission denied',
  EADDRNOTAVAIL: () => "the address is not one of this machine's",
  EAFNOSUPPORT: () => 'this machine does not support that address family',
  // `host` given as a name: listen() looks it up first, and that lookup is what fails.
  ENOTFOUND: () => 'the host name does not resolve',
  EAI_AGAIN: () => 'the host name lookup failed for now',
};

/** `127.0.0.1:8080`, `[::1]:8080`, or the port alone when no host was given (Node listens on every address). */
function listenAddress(port: number, host: string | undefined): string {
  if (host === undefined || host === '') return `port ${port} (every address)`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * What a failed listen() becomes: `PTIME_ERR_LISTEN` whose message names the address and the
 * reason, e.g. `cannot listen on 127.0.0.1:8080: the address is in use (EADDRINUSE)`, with the
 * listen error as `cause`. `prefix` names who was listening when it is not the engine (a CLI flag).
 */
export function listenFailure(cause: unknown, port: number, host: string | undefined, prefix = ''): PtimeError {
  const errno = (cause as { code?: unknown } | null)?.code;
  const code = typeof errno === 'string' ? errno : undefined;
  const words =
    code !== undefined && Object.hasOwn(REASONS, code)
      ? REASONS[code]!(port)
      : cause instanceof Error
        ? cause.message
        : String(cause);
  const reason = code !== undefined && !words.includes(code) ? `${words} (${code})` : words;
  return new PtimeError(ErrorCodes.LISTEN, `${prefix}cannot listen on ${listenAddress(port, host)}: ${reason}`, {
    cause,
  });
}
