import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { EngineOptions } from '../engine/engine-options.js';
import { CARRIER_NAMES, type CarrierName } from '../protocol/carrier-adapter.js';
import { DEFAULT_CARRIER_PATHS, isCarrierName } from '../protocol/carriers.js';
import { parseStall, type StallSpec } from './stall-injector.js';
import { parseCredential } from '../server/upgrade-credential.js';

export const SERVE_USAGE = `Usage: ptime serve [options]

Runs the ptime engine with its demo application (mode per call from the TwiML
<Parameter name="mode">: echo | silence | tone | file; a DTMF digit D clears and marks "dtmf-D").

Options:
  --port N          port to listen on (default 8080)
  --host H          address to bind (default all)
  --path P          WebSocket path of the Twilio route (default /media)
  --carriers LIST   carriers to serve, each on its own path: twilio (/media), signalwire
                    (/signalwire), telnyx (/telnyx), plivo (/plivo), exotel (/exotel),
                    vonage (/vonage), asterisk (/asterisk); comma-separated (default: all)
  --signalwire-token T  SignalWire: require Authorization: Bearer T on upgrades
                    (default: the SIGNALWIRE_TOKEN environment variable, else no check)
  --telnyx-token T  Telnyx: require x-telnyx-streaming-auth-token: T on upgrades
                    (default: the TELNYX_STREAM_TOKEN environment variable, else no check)
  --plivo-auth-token T  Plivo: check X-Plivo-Signature-V3 on upgrades (default: the
                    PLIVO_AUTH_TOKEN environment variable, else no check)
  --exotel-credentials KEY:TOKEN  Exotel: require Authorization: Basic KEY:TOKEN
                    (default: the EXOTEL_CREDENTIALS environment variable, else no check)
  --vonage-auth C   Vonage: require this Authorization, C = bearer:TOKEN or
                    basic:USER:PASSWORD (default: VONAGE_WS_AUTH, else no check)
  --asterisk-auth C Asterisk: the same forms (default: ASTERISK_WS_AUTH, else no check)
  --io worker|main  where the sockets live: worker = on a dedicated I/O thread, so a stall
                    of the application's thread does not delay a frame (default, but main
                    with --workers); main = on the application's thread
  --queue N         per-call queue bound in 20 ms frames (default 120, max 1024)
  --lead N          frames sent ahead of real time (default 8 = 160 ms; 0 = strict real time)
  --spin-us N       pacer busy-wait before each deadline, microseconds (default 50)
  --spin-min-us N   let the busy-wait follow the measured wake-up overshoot, down to N µs
                    while wake-ups are punctual (default: --spin-us, a fixed spin)
  --spin-max-us N   let the measured busy-wait grow past --spin-us up to N µs (default 0)
  --phases N        lane start phases in the 20 ms period (default 4: a 5 ms grid)
  --lanes-per-wake N  start new calls on only as many phases as keep each pacer wake
                    under N calls (default 0: all phases)
  --pacer-stall-ms N  restart a pacer thread whose ticks stand still this long while
                    audio is queued (default 500; 0 = no watchdog)
  --log-level L     fatal|error|warn|info|debug|trace|silent (default info)
  --audio-file F    WAV file (16-bit PCM, mono or stereo, 8/16/22.05/24/44.1/48 kHz) that
                    calls with mode "file" play, looped
  --max-calls N     concurrent streams; beyond it upgrades get 503 + Retry-After (default 2000)
  --twilio-auth-token T  check X-Twilio-Signature on every upgrade (403 if missing or wrong);
                    default: the TWILIO_AUTH_TOKEN environment variable, else no check
  --public-url URL  the stream URL as Twilio sees it, for the signature behind a proxy
                    (e.g. wss://voice.example.com/media)
  --workers N|auto  engines in N cluster processes on the same port (auto: one per core; default
                    1); --max-calls is per worker; a worker that dies is restarted; the sockets
                    are then on each process's main thread (--io main)
  --metrics-port P  serve Prometheus metrics on /metrics and the probes /healthz and /readyz on
                    this port (off by default; must differ from --port)
  --mark-every-ms N the engine's own marks every N ms of a call's audio, so heard() (and the
                    demo's barge-in line) is exact to within it (default 500; 0 = none)
  --drain-ms N      on SIGTERM/SIGINT, let queued audio play for up to N ms before closing
                    sockets with 1001 (default 5000); a second signal exits at once
  --max-queued-ms N every call's latency bound: audio queued past N ms is dropped oldest
                    first and counted, for real-time relays (default 0: off)
  --upgrade-timeout-ms N  close a connection that has not sent its whole upgrade request
                    within N ms of being accepted (default 5000)
  --max-pending-upgrades N  connections not yet upgraded, at most; one more gets 503 at once
                    (default 1000)
  --pacer-nice=N    nice value for the pacer thread only (-20..19; below 0 needs CAP_SYS_NICE)
  --pacer-rt N      run the pacer thread alone under SCHED_FIFO at priority N (1..99; Linux,
                    CAP_SYS_NICE and util-linux chrt; refused → logged, pacing goes on)
  --pacer-timer-slack-us N  the pacer thread's timer slack, so its timed waits end closer to
                    time (Linux; default 0 = the OS default, 50 µs)
  --record-dir DIR  record every call as DIR/<streamSid>.wav (stereo 16-bit PCM at the call's
                    rate: left the caller, right the bot as the caller heard it)
  --inject-stall B@E  diagnostic: block the main thread B ms every E ms (e.g. 50@500)
  -h, --help        show this help
`;

export class UsageError extends Error {}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface ServeArgs extends EngineOptions {
  help: boolean;
  injectStall?: StallSpec;
  audioFile?: string;
  /** --record-dir: every call recorded there (the engine's `record` option). */
  recordDir?: string;
  /** --metrics-port: the /metrics, /healthz and /readyz server (off when absent). */
  metricsPort?: number;
  /** --workers: engines in cluster workers (1: this process alone). */
  workers: number;
}

/** Options a whole-number flag sets. */
type CountKey =
  | 'port'
  | 'queue'
  | 'lead'
  | 'spinUs'
  | 'spinMinUs'
  | 'spinMaxUs'
  | 'phases'
  | 'lanesPerWake'
  | 'pacerStallMs'
  | 'pacerRealtime'
  | 'pacerTimerSlackUs'
  | 'maxCalls'
  | 'metricsPort'
  | 'markEveryMs'
  | 'drainMs'
  | 'upgradeTimeoutMs'
  | 'maxQueuedMs'
  | 'maxPendingUpgrades';
/** Options a secret flag sets, falling back to an environment variable. */
type CredentialKey =
  | 'signalwireToken'
  | 'telnyxStreamToken'
  | 'plivoAuthToken'
  | 'exotelCredentials'
  | 'vonageAuth'
  | 'asteriskAuth'
  | 'twilioAuthToken';
/** Options a flag sets to its text as given. */
type TextKey = 'host' | 'publicUrl' | 'audioFile' | 'recordDir';

/**
 * How a flag's text becomes its option. A flag that is absent leaves its option unset (the engine
 * default applies) unless the kind names a fallback.
 */
type FlagKind =
  /** A whole number ≥ 0, with an optional fallback. */
  | { kind: 'count'; key: CountKey; fallback?: number }
  /** A whole number that may be negative; `message` when it is not one. */
  | { kind: 'signed'; key: 'pacerNice'; message: string }
  /** A listening port (0..65535) that must differ from --port unless 0. */
  | { kind: 'port'; key: 'metricsPort' }
  /** Text as given; with `emptyMessage`, the empty string is refused. */
  | { kind: 'text'; key: TextKey; emptyMessage?: string }
  /** A log level, one of `choices` (fallback when absent). */
  | { kind: 'log-level'; key: 'logLevel'; fallback: string; choices: readonly string[] }
  /** Where the sockets live, one of `choices`. */
  | { kind: 'io'; key: 'io'; choices: readonly ['main', 'worker'] }
  /**
   * A secret: the flag, else the environment variable `env` (an empty one counts as unset); the
   * flag given empty is refused. With `form`, the value must parse as an upgrade credential once
   * `form` is put in front (Exotel's KEY:TOKEN is always Basic; Vonage and Asterisk name their
   * scheme); that is checked at the 'credential-forms' step.
   */
  | { kind: 'credential'; key: CredentialKey; env: string; form?: 'basic:' | '' }
  /** --workers: a count up to 4× the cores, or auto. */
  | { kind: 'workers'; key: 'workers' }
  /** --carriers: the routes, one per carrier, the Twilio one on --path. */
  | { kind: 'carriers'; key: 'routes' }
  /** --path: read by --carriers. */
  | { kind: 'twilio-path' }
  /** --inject-stall BLOCK@EVERY. */
  | { kind: 'stall'; key: 'injectStall' };

type FlagSpec = FlagKind & { flag: string };

/**
 * Not a flag: checks the form of every credential read before it, after all of them are read, so
 * a credential flag given empty is reported before another one's malformed value.
 */
interface CredentialFormsStep {
  kind: 'credential-forms';
}

/**
 * Every value flag of `ptime serve`, in the order they are checked (so the first bad flag in this
 * order is the one reported). --help is the one boolean flag and is not listed.
 */
const FLAGS: readonly (FlagSpec | CredentialFormsStep)[] = [
  { flag: 'log-level', kind: 'log-level', key: 'logLevel', fallback: 'info', choices: LEVELS },
  { flag: 'port', kind: 'count', key: 'port', fallback: 8080 },
  { flag: 'workers', kind: 'workers', key: 'workers' },
  { flag: 'host', kind: 'text', key: 'host' },
  { flag: 'path', kind: 'twilio-path' },
  { flag: 'carriers', kind: 'carriers', key: 'routes' },
  { flag: 'signalwire-token', kind: 'credential', key: 'signalwireToken', env: 'SIGNALWIRE_TOKEN' },
  { flag: 'telnyx-token', kind: 'credential', key: 'telnyxStreamToken', env: 'TELNYX_STREAM_TOKEN' },
  { flag: 'plivo-auth-token', kind: 'credential', key: 'plivoAuthToken', env: 'PLIVO_AUTH_TOKEN' },
  {
    flag: 'exotel-credentials',
    kind: 'credential',
    key: 'exotelCredentials',
    env: 'EXOTEL_CREDENTIALS',
    form: 'basic:',
  },
  { flag: 'vonage-auth', kind: 'credential', key: 'vonageAuth', env: 'VONAGE_WS_AUTH', form: '' },
  { flag: 'asterisk-auth', kind: 'credential', key: 'asteriskAuth', env: 'ASTERISK_WS_AUTH', form: '' },
  { kind: 'credential-forms' },
  { flag: 'io', kind: 'io', key: 'io', choices: ['main', 'worker'] },
  { flag: 'queue', kind: 'count', key: 'queue' },
  { flag: 'lead', kind: 'count', key: 'lead' },
  { flag: 'spin-us', kind: 'count', key: 'spinUs' },
  { flag: 'spin-min-us', kind: 'count', key: 'spinMinUs' },
  { flag: 'spin-max-us', kind: 'count', key: 'spinMaxUs' },
  { flag: 'phases', kind: 'count', key: 'phases' },
  { flag: 'lanes-per-wake', kind: 'count', key: 'lanesPerWake' },
  { flag: 'pacer-stall-ms', kind: 'count', key: 'pacerStallMs' },
  { flag: 'pacer-nice', kind: 'signed', key: 'pacerNice', message: '--pacer-nice takes a whole number from -20 to 19' },
  { flag: 'pacer-rt', kind: 'count', key: 'pacerRealtime' },
  { flag: 'pacer-timer-slack-us', kind: 'count', key: 'pacerTimerSlackUs' },
  { flag: 'max-calls', kind: 'count', key: 'maxCalls' },
  { flag: 'metrics-port', kind: 'port', key: 'metricsPort' },
  { flag: 'mark-every-ms', kind: 'count', key: 'markEveryMs' },
  { flag: 'drain-ms', kind: 'count', key: 'drainMs' },
  { flag: 'upgrade-timeout-ms', kind: 'count', key: 'upgradeTimeoutMs' },
  { flag: 'max-queued-ms', kind: 'count', key: 'maxQueuedMs' },
  { flag: 'max-pending-upgrades', kind: 'count', key: 'maxPendingUpgrades' },
  { flag: 'twilio-auth-token', kind: 'credential', key: 'twilioAuthToken', env: 'TWILIO_AUTH_TOKEN' },
  { flag: 'public-url', kind: 'text', key: 'publicUrl' },
  { flag: 'audio-file', kind: 'text', key: 'audioFile', emptyMessage: '--audio-file takes a path to a WAV file' },
  { flag: 'record-dir', kind: 'text', key: 'recordDir', emptyMessage: '--record-dir takes a directory' },
  { flag: 'inject-stall', kind: 'stall', key: 'injectStall' },
];

function count(flag: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} takes a whole number (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/** --workers: 1..4× the cores, or 'auto' (one per core). */
function workersOf(raw: string | undefined): number {
  const cores = availableParallelism();
  if (raw === undefined) return 1;
  if (raw === 'auto') return cores;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 4 * cores) {
    throw new UsageError(
      `--workers takes auto or a whole number from 1 to ${4 * cores} (4× the ${cores} cores; got ${JSON.stringify(raw)})`,
    );
  }
  return Number(raw);
}

/** --carriers with --path: each carrier on its default path, Twilio's on --path. */
function routesOf(list: string | undefined, twilioPath: string | undefined): Record<string, CarrierName> {
  const carriers = (list ?? CARRIER_NAMES.join(',')).split(',').map((c) => c.trim());
  if (carriers.length === 0 || carriers.some((c) => !isCarrierName(c))) {
    throw new UsageError(
      `--carriers takes a comma-separated list of ${CARRIER_NAMES.join(', ')} (got ${JSON.stringify(list)})`,
    );
  }
  const routes: Record<string, CarrierName> = {};
  for (const c of carriers as CarrierName[])
    routes[c === 'twilio' ? (twilioPath ?? DEFAULT_CARRIER_PATHS.twilio) : DEFAULT_CARRIER_PATHS[c]] = c;
  if (Object.keys(routes).length !== carriers.length)
    throw new UsageError(`--path ${twilioPath} collides with another carrier's path`);
  return routes;
}

/** Throws a UsageError unless each credential read so far with a `form` parses as one. */
function checkCredentialForms(opts: ServeArgs): void {
  for (const spec of FLAGS) {
    if (spec.kind !== 'credential' || spec.form === undefined) continue;
    const v = opts[spec.key];
    if (v === undefined) continue;
    try {
      parseCredential(`${spec.form}${v}`, `--${spec.flag}`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
}

/** Reads one flag (its text `raw`, undefined when absent) into `opts`, or throws a UsageError. */
function readFlag(
  spec: FlagSpec,
  raw: string | undefined,
  values: Record<string, string | boolean | undefined>,
  opts: ServeArgs,
  env: NodeJS.ProcessEnv,
): void {
  switch (spec.kind) {
    case 'count': {
      const n = raw === undefined ? spec.fallback : count(spec.flag, raw);
      if (n !== undefined) opts[spec.key] = n;
      return;
    }
    case 'signed':
      if (raw === undefined) return;
      if (!/^-?\d+$/.test(raw)) throw new UsageError(spec.message);
      opts[spec.key] = Number(raw);
      return;
    case 'port': {
      if (raw === undefined) return;
      const port = count(spec.flag, raw);
      if (port > 65535) throw new UsageError(`--${spec.flag} must be a port from 0 to 65535 (got ${port})`);
      if (port !== 0 && port === opts.port)
        throw new UsageError(`--${spec.flag} must differ from --port (both ${port})`);
      opts[spec.key] = port;
      return;
    }
    case 'text':
      if (raw === undefined) return;
      if (spec.emptyMessage !== undefined && raw === '') throw new UsageError(spec.emptyMessage);
      opts[spec.key] = raw;
      return;
    case 'log-level': {
      const level = raw ?? spec.fallback;
      if (!spec.choices.includes(level))
        throw new UsageError(`--${spec.flag} must be one of ${spec.choices.join(', ')}`);
      opts[spec.key] = level;
      return;
    }
    case 'io': {
      if (raw === undefined) return;
      const io = spec.choices.find((c) => c === raw);
      if (io === undefined)
        throw new UsageError(`--${spec.flag} must be ${spec.choices.join(' or ')} (got ${JSON.stringify(raw)})`);
      opts[spec.key] = io;
      return;
    }
    case 'credential': {
      const v = raw ?? env[spec.env];
      if (v === undefined || v === '') {
        if (raw !== undefined) throw new UsageError(`--${spec.flag} must not be empty`);
        return;
      }
      opts[spec.key] = v;
      return;
    }
    case 'workers':
      opts[spec.key] = workersOf(raw);
      return;
    case 'carriers': {
      const path = values['path'];
      opts[spec.key] = routesOf(raw, typeof path === 'string' ? path : undefined);
      return;
    }
    case 'twilio-path':
      return;
    case 'stall':
      // parseStall throws a coded PtimeError (INVALID_OPTION), not a UsageError: main prints its code.
      if (raw !== undefined) opts[spec.key] = parseStall(raw);
      return;
  }
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(FLAGS.flatMap((f) => ('flag' in f ? [[f.flag, { type: 'string' } as const]] : []))),
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // The CLI is an operator's tool: the figures line every second (off by default in the library)
  // and, through --log-level's fallback, info logs (the library's default is warn).
  const opts: ServeArgs = { help: values['help'] === true, logFigures: true, workers: 1 };
  for (const spec of FLAGS) {
    if (spec.kind === 'credential-forms') {
      checkCredentialForms(opts);
      continue;
    }
    const raw = values[spec.flag];
    readFlag(spec, typeof raw === 'string' ? raw : undefined, values, opts, env);
  }
  if (opts.workers > 1) {
    // Node 20 shares a listening port between cluster processes through their main threads only:
    // an I/O thread's listen would take a port of its own (or fail with EADDRINUSE).
    if (opts.io === 'worker')
      throw new UsageError(
        '--io worker cannot be combined with --workers: cluster processes share the port through their main threads only',
      );
    opts.io = 'main';
  }
  return opts;
}
