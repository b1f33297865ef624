import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad, type LoadOptions, type LoadResult } from '../../src/loadtest/load-generator.js';
import type { ScenarioReport } from '../../src/loadtest/report-types.js';
import { summarize } from '../../src/loadtest/summarize.js';
import { ServerProcess } from './server-process.js';
import type { CarrierName } from '../../src/protocol/carrier-adapter.js';
import { DEFAULT_CARRIER_PATHS } from '../../src/protocol/carriers.js';

export type PacerChoice = 'ptime' | 'interval' | 'timeout' | 'absolute';

export interface ScenarioSpec {
  scenario: string;
  pacer: PacerChoice;
  /** ptime's lead (ignored by baselines; default 3). */
  lead?: number;
  /** ptime with no flags at all: serve's own lead and I/O mode (lead and io are then ignored). */
  defaults?: boolean;
  /** More `ptime serve` flags for a ptime row (shown in its label). */
  serveFlags?: string[];
  calls: number;
  seconds: number;
  rampPerSec?: number;
  mode?: string;
  /** Whose side the generator plays, on that carrier's path (default twilio on /media). */
  carrier?: CarrierName;
  /** ptime's --io: where the sockets live (default main). */
  io?: 'main' | 'worker';
  /** ptime serve --audio-file (for mode "file"). */
  audioFile?: string;
  /** ptime's pacer thread nice value (--pacer-nice). */
  pacerNice?: number;
  /** ptime serve --inject-stall, e.g. "50@500" */
  injectStall?: string;
  /** Main-thread allocation churn in the server, MB/s (GC pressure). */
  churnMBps?: number;
  /** Keep the other core busy with a spinning process. */
  busyCore?: boolean;
  /** Spread calls over this many generator processes. */
  generatorProcesses?: number;
  dtmfEverySec?: number;
  onProgress?: LoadOptions['onProgress'];
  /** The server script to run (default this checkout's bench-serve.js; another built checkout's, as a before). */
  serveScript?: string;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
export const BENCH_SERVE = here('../bench-serve.js');
const GENERATOR_CHILD = here('./generator-child.js');

function spinner(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}

async function generateInChildren(base: LoadOptions, procs: number): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ptime-gen-'));
  try {
    const per = Math.ceil(base.calls / procs);
    const runs = Array.from({ length: procs }, async (_, i) => {
      const calls = Math.min(per, base.calls - i * per);
      const out = join(dir, `gen-${i}.json`);
      const opts: LoadOptions = { ...base, calls, rampPerSec: base.rampPerSec / procs, indexBase: i * per };
      delete opts.onProgress;
      const child = spawn(process.execPath, [GENERATOR_CHILD, JSON.stringify(opts), out], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`generator process ${i} exited with ${code}`);
      return JSON.parse(readFileSync(out, 'utf8')) as LoadResult;
    });
    const parts = await Promise.all(runs);
    return {
      calls: parts.flatMap((p) => p.calls),
      startedAtEpochMs: Math.min(...parts.map((p) => p.startedAtEpochMs)),
      inboundFrames: parts.reduce((n, p) => n + p.inboundFrames, 0),
      failedToConnect: parts.reduce((n, p) => n + p.failedToConnect, 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One scenario in fresh processes: start the server (ptime or a baseline behind the same server
 * and demo app), run the generator(s) against it, stop the server, and summarise.
 */
export async function runScenario(spec: ScenarioSpec): Promise<
  ScenarioReport & {
    check: { serverFramesSent: number; framesReceived: number; serverExit: number | null; failedToConnect: number };
  }
> {
  const args: string[] = [];
  const flags = spec.pacer === 'ptime' && !spec.defaults;
  if (spec.pacer !== 'ptime') args.push('--baseline', spec.pacer);
  // Every ptime row but the no-flags one says its lead and mode, so its label stays true whatever
  // serve's defaults are.
  if (flags) args.push('--lead', String(spec.lead ?? 3), '--io', spec.io ?? 'main');
  if (flags && spec.pacerNice !== undefined) args.push(`--pacer-nice=${spec.pacerNice}`);
  if (flags && spec.serveFlags) args.push(...spec.serveFlags);
  if (spec.audioFile) args.push('--audio-file', spec.audioFile);
  if (spec.injectStall) args.push('--inject-stall', spec.injectStall);
  if (spec.churnMBps) args.push('--churn', String(spec.churnMBps));
  const server = await ServerProcess.start(spec.serveScript ?? BENCH_SERVE, args);
  const busy = spec.busyCore ? spinner() : null;
  const procs = spec.generatorProcesses ?? 1;
  try {
    const load: LoadOptions = {
      url: server.url(DEFAULT_CARRIER_PATHS[spec.carrier ?? 'twilio']),
      carrier: spec.carrier ?? 'twilio',
      calls: spec.calls,
      seconds: spec.seconds,
      rampPerSec: spec.rampPerSec ?? 100,
      mode: spec.mode ?? 'echo',
      dtmfEverySec: spec.dtmfEverySec ?? 0,
    };
    if (spec.onProgress) load.onProgress = spec.onProgress;
    const result = procs > 1 ? await generateInChildren(load, procs) : await runLoad(load);
    // Let the last 'call ended' lines arrive before stopping the server.
    const deadline = Date.now() + 5000;
    while (server.callsEnded < result.calls.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const serverExit = await server.stop();
    const stallsMs = server.stalls.map((s): [number, number] => [
      s.atEpochMs - result.startedAtEpochMs,
      s.atEpochMs - result.startedAtEpochMs + s.blockMs,
    ]);
    const report = summarize(result, server.summary(), {
      scenario: spec.carrier && spec.carrier !== 'twilio' ? `${spec.scenario} (${spec.carrier})` : spec.scenario,
      pacer: spec.defaults
        ? `ptime no flags (lead ${server.lead ?? '?'} io ${server.io ?? '?'})`
        : spec.pacer === 'ptime'
          ? `ptime lead ${spec.lead ?? 3}${spec.io === 'worker' ? ' io worker' : ''}${spec.pacerNice === undefined ? '' : ` nice ${spec.pacerNice}`}${spec.serveFlags ? ` ${spec.serveFlags.join(' ')}` : ''}`
          : spec.pacer,
      lead: spec.defaults ? server.lead : spec.pacer === 'ptime' ? (spec.lead ?? 3) : spec.pacer === 'absolute' ? 8 : 0,
      seconds: spec.seconds,
      generatorProcesses: procs,
      stallsMs,
      echo: (spec.mode ?? 'echo') === 'echo',
    });
    return {
      ...report,
      check: {
        serverFramesSent: server.framesSentByEndedCalls,
        framesReceived: report.aggregate.framesReceived,
        serverExit,
        failedToConnect: result.failedToConnect,
      },
    };
  } finally {
    busy?.kill('SIGKILL');
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  }
}
