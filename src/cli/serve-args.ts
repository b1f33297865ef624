import { parseArgs } from 'node:util';
import type { EngineOptions } from '../engine/engine-options.js';

export const SERVE_USAGE = `Usage: ptime serve [options]

Runs the ptime engine with its demo application (mode per call from the TwiML
<Parameter name="mode">: echo | silence | tone; a DTMF digit D clears and marks "dtmf-D").

Options:
  --port N          port to listen on (default 8080)
  --host H          address to bind (default all)
  --path P          WebSocket path (default /media)
  --queue N         per-call queue bound in 20 ms frames (default 120, max 1024)
  --lead N          frames sent ahead of real time (default 3; 0 = strict real time)
  --spin-us N       pacer busy-wait before each deadline, microseconds (default 300)
  --log-level L     fatal|error|warn|info|debug|trace|silent (default info)
  -h, --help        show this help
`;

export class UsageError extends Error {}

function integer(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} takes a whole number (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function parseServeArgs(argv: string[]): EngineOptions & { help: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        path: { type: 'string' },
        queue: { type: 'string' },
        lead: { type: 'string' },
        'spin-us': { type: 'string' },
        'log-level': { type: 'string' },
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
  const opts: EngineOptions & { help: boolean } = { help: values.help ?? false, port: integer('port', values.port) ?? 8080, logLevel };
  if (values.host !== undefined) opts.host = values.host;
  if (values.path !== undefined) opts.path = values.path;
  const queue = integer('queue', values.queue);
  if (queue !== undefined) opts.queue = queue;
  const lead = integer('lead', values.lead);
  if (lead !== undefined) opts.lead = lead;
  const spinUs = integer('spin-us', values['spin-us']);
  if (spinUs !== undefined) opts.spinUs = spinUs;
  return opts;
}
