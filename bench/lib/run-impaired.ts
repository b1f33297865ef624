import { runLoad, type LoadOptions, type LoadResult } from '../../src/loadtest/load-generator.js';
import { echoFigures, summarizeEchoes, type CutWindow } from '../../src/loadtest/echo-figures.js';
import { TYPICAL_IMPAIRMENT, type LinkImpairment } from '../../src/loadtest/link-schedule.js';
import type { ScenarioReport } from '../../src/loadtest/report-types.js';
import { summarize } from '../../src/loadtest/summarize.js';
import { DEFAULT_CARRIER_PATHS } from '../../src/protocol/carriers.js';
import { ProxyProcess } from './proxy-process.js';
import { BENCH_SERVE, type PacerChoice } from './run-scenario.js';
import { ServerProcess } from './server-process.js';

export interface ImpairedSpec {
  scenario: string;
  pacer: PacerChoice;
  /** ptime's --io (default main). */
  io?: 'main' | 'worker';
  /** ptime serve --max-queued-ms: every call's latency bound (default off). */
  maxQueuedMs?: number;
  /** Echo calls on Twilio's route, and on Telnyx's with disordered inbound media. */
  twilioCalls: number;
  telnyxCalls: number;
  /** Inbound media of the Telnyx calls: % sent 1–2 frames late, % sent twice. */
  disorder: { latePct: number; duplicatePct: number };
  seconds: number;
  /** All traffic held `cutMs` from `cutAtMs` after the calls start. */
  cutAtMs: number;
  cutMs: number;
  impairment?: Partial<LinkImpairment>;
  seed: number;
  /** More `ptime serve` flags. */
  serveArgs?: string[];
}

/** Where a cut on the epoch clock falls on one run's clock (ms from its start). */
function onClockOf(load: LoadResult, cut: { fromEpochMs: number; untilEpochMs: number }): CutWindow {
  return { fromMs: cut.fromEpochMs - load.startedAtEpochMs, untilMs: cut.untilEpochMs - load.startedAtEpochMs };
}

/**
 * One pacer through the impairment proxy, in fresh processes: the server (ptime or a baseline),
 * the proxy in front of it, and echo calls with numbered frames on the Twilio and Telnyx routes
 * through the proxy; all traffic is held once mid-call. Reports the usual figures and the
 * impairment's (drops by reason, calls closed, marks, echo delay before and after the cut, order).
 */
export async function runImpaired(
  spec: ImpairedSpec,
): Promise<ScenarioReport & { check: { serverFramesSent: number } }> {
  const args: string[] = [];
  if (spec.pacer !== 'ptime') args.push('--baseline', spec.pacer);
  if (spec.pacer === 'ptime' && spec.io !== undefined) args.push('--io', spec.io);
  if (spec.maxQueuedMs !== undefined) args.push('--max-queued-ms', String(spec.maxQueuedMs));
  if (spec.serveArgs) args.push(...spec.serveArgs);
  const server = await ServerProcess.start(BENCH_SERVE, args);
  const impairment: LinkImpairment = { ...TYPICAL_IMPAIRMENT, ...spec.impairment };
  let proxy: ProxyProcess | null = null;
  try {
    proxy = await ProxyProcess.start({ targetPort: server.port, seed: spec.seed, ...impairment });
    const common = { seconds: spec.seconds, mode: 'echo', dtmfEverySec: 0, stampFrames: true };
    const twilio: LoadOptions = {
      ...common,
      url: proxy.url(DEFAULT_CARRIER_PATHS.twilio),
      carrier: 'twilio',
      calls: spec.twilioCalls,
      rampPerSec: 100,
    };
    const telnyx: LoadOptions = {
      ...common,
      url: proxy.url(DEFAULT_CARRIER_PATHS.telnyx),
      carrier: 'telnyx',
      calls: spec.telnyxCalls,
      rampPerSec: 20,
      indexBase: spec.twilioCalls,
      disorder: { ...spec.disorder, seed: spec.seed },
    };
    const p = proxy;
    const cut = new Promise<void>((r) => setTimeout(r, spec.cutAtMs)).then(() => p.cutFor(spec.cutMs));
    const [a, b] = await Promise.all([runLoad(twilio), runLoad(telnyx)]);
    const held = await cut;
    const deadline = Date.now() + 5000;
    while (server.callsEnded < a.calls.length + b.calls.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const network = await proxy.stop();
    await server.stop();
    const both: LoadResult = {
      calls: [...a.calls, ...b.calls],
      startedAtEpochMs: Math.min(a.startedAtEpochMs, b.startedAtEpochMs),
      inboundFrames: a.inboundFrames + b.inboundFrames,
      failedToConnect: a.failedToConnect + b.failedToConnect,
    };
    const label =
      spec.pacer === 'ptime'
        ? `ptime lead ${server.lead ?? '?'} io ${server.io ?? '?'}${spec.maxQueuedMs === undefined ? '' : ` max-queued-ms ${spec.maxQueuedMs}`}`
        : spec.pacer;
    const report = summarize(both, server.summary(), {
      scenario: spec.scenario,
      pacer: label,
      lead: spec.pacer === 'ptime' ? server.lead : spec.pacer === 'absolute' ? 8 : 0,
      seconds: spec.seconds,
      generatorProcesses: 1,
      echo: true,
    });
    const twilioEchoes = echoFigures(a, onClockOf(a, held));
    const telnyxEchoes = echoFigures(b, onClockOf(b, held));
    return {
      ...report,
      impairment: {
        network: { ...impairment, stallMs: [...impairment.stallMs], cutMs: spec.cutMs, ...network },
        server: server.ended,
        echoes: summarizeEchoes([twilioEchoes, telnyxEchoes]),
        disordered: spec.telnyxCalls > 0 ? summarizeEchoes([telnyxEchoes]) : null,
      },
      check: { serverFramesSent: server.framesSentByEndedCalls },
    };
  } finally {
    proxy?.kill();
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  }
}
