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
  --io main|worker  where the sockets live: main = on the application's thread (default),
                    worker = on a dedicated I/O thread, so a stall of the application's
                    thread does not delay a frame
  --queue N         per-call queue bound in 20 ms frames (default 120, max 1024)
  --lead N          frames sent ahead of real time (default 3; 0 = strict real time)
  --spin-us N       pacer busy-wait before each deadline, microseconds (default 300)
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
                    1); --max-calls is per worker; a worker that dies is restarted
  --metrics-port P  serve Prometheus metrics on /metrics and the probes /healthz and /readyz on
                    this port (off by default; must differ from --port)
  --mark-every-ms N the engine's own marks every N ms of a call's audio, so heard() (and the
                    demo's barge-in line) is exact to within it (default 200; 0 = none)
  --drain-ms N      on SIGTERM/SIGINT, let queued audio play for up to N ms before closing
                    sockets with 1001 (default 5000); a second signal exits at once
  --pacer-nice=N    nice value for the pacer thread only (-20..19; below 0 needs CAP_SYS_NICE)
  --pacer-rt N      run the pacer thread alone under SCHED_FIFO at priority N (1..99; Linux,
                    CAP_SYS_NICE and util-linux chrt; refused → logged, pacing goes on)
  --pacer-timer-slack-us N  the pacer thread's timer slack, so its timed waits end closer to
                    time (Linux; default 0 = the OS default, 50 µs)
  --inject-stall B@E  diagnostic: block the main thread B ms every E ms (e.g. 50@500)
  -h, --help        show this help
`;

export class UsageError extends Error {}

function integer(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} takes a whole number (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/** --workers: 1..4× the cores, or 'auto' (one per core). */
function workersOf(raw: string | undefined): number {
  const cores = availableParallelism();
  if (raw === undefined) return 1;
  if (raw === 'auto') return cores;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 4 * cores) {
    throw new UsageError(`--workers takes auto or a whole number from 1 to ${4 * cores} (4× the ${cores} cores; got ${JSON.stringify(raw)})`);
  }
  return Number(raw);
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface ServeArgs extends EngineOptions {
  help: boolean;
  injectStall?: StallSpec;
  audioFile?: string;
  /** --metrics-port: the /metrics, /healthz and /readyz server (off when absent). */
  metricsPort?: number;
  /** --workers: engines in cluster workers (1: this process alone). */
  workers: number;
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        path: { type: 'string' },
        io: { type: 'string' },
        carriers: { type: 'string' },
        'signalwire-token': { type: 'string' },
        'telnyx-token': { type: 'string' },
        'plivo-auth-token': { type: 'string' },
        'exotel-credentials': { type: 'string' },
        'vonage-auth': { type: 'string' },
        'asterisk-auth': { type: 'string' },
        queue: { type: 'string' },
        lead: { type: 'string' },
        'spin-us': { type: 'string' },
        'spin-min-us': { type: 'string' },
        'spin-max-us': { type: 'string' },
        phases: { type: 'string' },
        'lanes-per-wake': { type: 'string' },
        'pacer-stall-ms': { type: 'string' },
        'log-level': { type: 'string' },
        'inject-stall': { type: 'string' },
        'pacer-nice': { type: 'string' },
        'pacer-timer-slack-us': { type: 'string' },
        'pacer-rt': { type: 'string' },
        'audio-file': { type: 'string' },
        'max-calls': { type: 'string' },
        'twilio-auth-token': { type: 'string' },
        'public-url': { type: 'string' },
        'drain-ms': { type: 'string' },
        'mark-every-ms': { type: 'string' },
        'metrics-port': { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const logLevel = values['log-level'] ?? 'info';
  if (!LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
  // The CLI is an operator's tool: info logs and the once-a-second figures line, as before.
  const opts: ServeArgs = { help: values.help ?? false, port: integer('port', values.port) ?? 8080, logLevel, logFigures: true, workers: workersOf(values.workers) };
  if (values.host !== undefined) opts.host = values.host;
  const carriers = (values.carriers ?? CARRIER_NAMES.join(',')).split(',').map((c) => c.trim());
  if (carriers.length === 0 || carriers.some((c) => !isCarrierName(c))) {
    throw new UsageError(`--carriers takes a comma-separated list of ${CARRIER_NAMES.join(', ')} (got ${JSON.stringify(values.carriers)})`);
  }
  const routes: Record<string, CarrierName> = {};
  for (const c of carriers as CarrierName[]) routes[c === 'twilio' ? (values.path ?? DEFAULT_CARRIER_PATHS.twilio) : DEFAULT_CARRIER_PATHS[c]] = c;
  if (Object.keys(routes).length !== carriers.length) throw new UsageError(`--path ${values.path} collides with another carrier's path`);
  opts.routes = routes;
  for (const [flag, envName, key] of [
    ['signalwire-token', 'SIGNALWIRE_TOKEN', 'signalwireToken'],
    ['telnyx-token', 'TELNYX_STREAM_TOKEN', 'telnyxStreamToken'],
    ['plivo-auth-token', 'PLIVO_AUTH_TOKEN', 'plivoAuthToken'],
    ['exotel-credentials', 'EXOTEL_CREDENTIALS', 'exotelCredentials'],
    ['vonage-auth', 'VONAGE_WS_AUTH', 'vonageAuth'],
    ['asterisk-auth', 'ASTERISK_WS_AUTH', 'asteriskAuth'],
  ] as const) {
    const v = values[flag] ?? env[envName];
    if (v !== undefined && v !== '') opts[key] = v;
    else if (values[flag] !== undefined) throw new UsageError(`--${flag} must not be empty`);
  }
  for (const [flag, key, form] of [
    ['exotel-credentials', 'exotelCredentials', 'basic:'],
    ['vonage-auth', 'vonageAuth', ''],
    ['asterisk-auth', 'asteriskAuth', ''],
  ] as const) {
    const v = opts[key];
    if (v === undefined) continue;
    try {
      parseCredential(`${form}${v}`, `--${flag}`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (values.io !== undefined) {
    if (values.io !== 'main' && values.io !== 'worker') throw new UsageError(`--io must be main or worker (got ${JSON.stringify(values.io)})`);
    opts.io = values.io;
  }
  const queue = integer('queue', values.queue);
  if (queue !== undefined) opts.queue = queue;
  const lead = integer('lead', values.lead);
  if (lead !== undefined) opts.lead = lead;
  const spinUs = integer('spin-us', values['spin-us']);
  if (spinUs !== undefined) opts.spinUs = spinUs;
  const spinMinUs = integer('spin-min-us', values['spin-min-us']);
  if (spinMinUs !== undefined) opts.spinMinUs = spinMinUs;
  const spinMaxUs = integer('spin-max-us', values['spin-max-us']);
  if (spinMaxUs !== undefined) opts.spinMaxUs = spinMaxUs;
  const phases = integer('phases', values.phases);
  if (phases !== undefined) opts.phases = phases;
  const lanesPerWake = integer('lanes-per-wake', values['lanes-per-wake']);
  if (lanesPerWake !== undefined) opts.lanesPerWake = lanesPerWake;
  const stallMs = integer('pacer-stall-ms', values['pacer-stall-ms']);
  if (stallMs !== undefined) opts.pacerStallMs = stallMs;
  if (values['pacer-nice'] !== undefined) {
    if (!/^-?\d+$/.test(values['pacer-nice'])) throw new UsageError('--pacer-nice takes a whole number from -20 to 19');
    opts.pacerNice = Number(values['pacer-nice']);
  }
  const rt = integer('pacer-rt', values['pacer-rt']);
  if (rt !== undefined) opts.pacerRealtime = rt;
  const slackUs = integer('pacer-timer-slack-us', values['pacer-timer-slack-us']);
  if (slackUs !== undefined) opts.pacerTimerSlackUs = slackUs;
  const maxCalls = integer('max-calls', values['max-calls']);
  if (maxCalls !== undefined) opts.maxCalls = maxCalls;
  const metricsPort = integer('metrics-port', values['metrics-port']);
  if (metricsPort !== undefined) {
    if (metricsPort > 65535) throw new UsageError(`--metrics-port must be a port from 0 to 65535 (got ${metricsPort})`);
    if (metricsPort !== 0 && metricsPort === opts.port) throw new UsageError(`--metrics-port must differ from --port (both ${metricsPort})`);
    opts.metricsPort = metricsPort;
  }
  const markEveryMs = integer('mark-every-ms', values['mark-every-ms']);
  if (markEveryMs !== undefined) opts.markEveryMs = markEveryMs;
  const drainMs = integer('drain-ms', values['drain-ms']);
  if (drainMs !== undefined) opts.drainMs = drainMs;
  const token = values['twilio-auth-token'] ?? env['TWILIO_AUTH_TOKEN'];
  if (token !== undefined && token !== '') opts.twilioAuthToken = token;
  else if (values['twilio-auth-token'] !== undefined) throw new UsageError('--twilio-auth-token must not be empty');
  if (values['public-url'] !== undefined) opts.publicUrl = values['public-url'];
  if (values['audio-file'] !== undefined) {
    if (values['audio-file'] === '') throw new UsageError('--audio-file takes a path to a WAV file');
    opts.audioFile = values['audio-file'];
  }
  if (values['inject-stall'] !== undefined) opts.injectStall = parseStall(values['inject-stall']);
  return opts;
}
