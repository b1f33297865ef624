import { writeFileSync } from 'node:fs';
import { CARRIER_NAMES } from '../protocol/carrier-adapter.js';
import { isCarrierName } from '../protocol/carriers.js';
import { parseArgs } from 'node:util';
import { renderHtmlReport } from '../loadtest/html-report.js';
import { runLoad } from '../loadtest/load-generator.js';
import { machineInfo } from '../loadtest/machine-info.js';
import { renderTable } from '../loadtest/report-table.js';
import type { LoadReport } from '../loadtest/report-types.js';
import { summarize } from '../loadtest/summarize.js';
import { UsageError } from './serve-args.js';

export const LOADTEST_USAGE = `Usage: ptime loadtest --url ws://host:port/media [options]

Plays Twilio's side of N bidirectional Media Streams against a URL and reports what a caller would
hear: inter-arrival intervals, error against the ideal 20 ms schedule, late frames under playout
with a 0/20/60 ms jitter buffer, frames/s per call.

Options:
  --url U           WebSocket URL of the server (required)
  --calls N         simultaneous calls (default 10)
  --secs S          seconds each call streams (default 10)
  --ramp R          new calls per second (default 50)
  --mode M          the demo mode asked for in the start (default echo)
  --carrier C       whose side to play: twilio, signalwire, telnyx, plivo, exotel (L16 8 kHz),
                    vonage (binary L16 16 kHz) or asterisk (binary ulaw) (default twilio); point
                    --url at that carrier's path (/media, /signalwire, /telnyx, /plivo, /exotel,
                    /vonage, /asterisk)
  --dtmf-every S    send DTMF "5" on every call each S seconds (default 0 = never)
  --json F          write the report as JSON
  --html F          write a self-contained HTML report
`;

function num(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min)
    throw new UsageError(`--${flag} must be a number >= ${min} (got ${JSON.stringify(raw)})`);
  return n;
}

export async function loadtest(argv: string[]): Promise<boolean> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        calls: { type: 'string', default: '10' },
        secs: { type: 'string', default: '10' },
        ramp: { type: 'string', default: '50' },
        mode: { type: 'string', default: 'echo' },
        carrier: { type: 'string', default: 'twilio' },
        'dtmf-every': { type: 'string', default: '0' },
        json: { type: 'string' },
        html: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(LOADTEST_USAGE);
    return true;
  }
  if (!values.url || !/^wss?:\/\//.test(values.url)) throw new UsageError('--url ws://… is required');
  if (!isCarrierName(values.carrier))
    throw new UsageError(
      `--carrier must be one of ${CARRIER_NAMES.join(', ')} (got ${JSON.stringify(values.carrier)})`,
    );
  const carrier = values.carrier;
  const calls = num('calls', values.calls, 1);
  const seconds = num('secs', values.secs, 1);
  const tty = process.stdout.isTTY && !process.env['CI'];
  const result = await runLoad({
    url: values.url,
    calls,
    seconds,
    rampPerSec: num('ramp', values.ramp, 1),
    mode: values.mode,
    carrier,
    dtmfEverySec: num('dtmf-every', values['dtmf-every'], 0),
    ...(tty
      ? {
          onProgress: (p) =>
            process.stdout.write(
              `\r${p.elapsedS.toFixed(0)} s  calls up ${p.calls}/${calls}  frames/s ${p.framesPerSec.toFixed(0)}  p99 ${p.p99Ms.toFixed(2)} ms  late@0 ${p.latePct.toFixed(3)} %   `,
            ),
        }
      : {}),
  });
  if (tty) process.stdout.write('\n');
  const none = {
    cpuPct: null,
    pacerCpuPct: null,
    rssMb: null,
    loopDelayP99Ms: null,
    pacerTickErrorUs: null,
    framesSent: null,
    drops: null,
    underruns: null,
  };
  const scenario = summarize(result, none, {
    scenario: 'loadtest',
    pacer: 'remote',
    lead: null,
    seconds,
    generatorProcesses: 1,
  });
  process.stdout.write(
    `${renderTable([scenario])}\n(server figures are n/a: the server is remote; 1 generator process)\n`,
  );
  if (result.failedToConnect) process.stdout.write(`${result.failedToConnect} calls failed to connect\n`);
  const report: LoadReport = { machine: machineInfo(), scenarios: [scenario] };
  if (values.json) writeFileSync(values.json, JSON.stringify(report));
  if (values.html) writeFileSync(values.html, renderHtmlReport(report));
  return result.failedToConnect === 0;
}
