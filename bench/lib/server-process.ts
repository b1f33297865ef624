import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { EngineFigures } from '../../src/index.js';
import type { EndedCalls, MarkOutcome, ServerFigures } from '../../src/loadtest/report-types.js';

interface LogLine {
  msg?: string;
  port?: number;
  framesSent?: number;
  drops?: number;
  underruns?: number;
  atEpochMs?: number;
  blockMs?: number;
  streamSid?: string;
  heardMs?: number | null;
  sentMs?: number | null;
  confirmedMs?: number | null;
  lead?: number;
  io?: string;
  slowPeerDrops?: number;
  latencyDrops?: number;
  staleDiscarded?: number;
  /** A call's close code ('call ended'), or a refusal's PTIME_ERR_* code ('rejected'). */
  code?: number | string;
  marks?: Partial<Record<MarkOutcome, number>>;
  count?: number;
}

/** The demo app's barge-in line: what the server estimated the caller had heard at a clear. */
export interface BargeInLine {
  streamSid: string;
  heardMs: number | null;
  sentMs: number | null;
  confirmedMs: number | null;
}

/**
 * A ptime server (or a baseline behind the same server) in its own process, read through its
 * pino JSON lines: the listening port, the once-a-second figures, each call's final counts and
 * every injected stall.
 */
export class ServerProcess {
  readonly figures: EngineFigures[] = [];
  readonly stalls: { atEpochMs: number; blockMs: number }[] = [];
  readonly bargeIns: BargeInLine[] = [];
  framesSentByEndedCalls = 0;
  dropsByEndedCalls = 0;
  underrunsByEndedCalls = 0;
  readonly ended: EndedCalls = {
    drops: { overflow: 0, slow: 0, stale: 0, latencyBound: 0 },
    byCode: {},
    marks: { played: 0, cleared: 0, dropped: 0, closed: 0 },
    rejected: {},
  };
  callsEnded = 0;
  port = 0;
  /** The lead and I/O mode the server says it runs with (its defaults when given no flags). */
  lead: number | null = null;
  io: string | null = null;

  private constructor(readonly child: ChildProcess) {}

  static async start(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServerProcess> {
    const child = spawn(
      process.execPath,
      [script, ...args, '--port', '0', '--host', '127.0.0.1', '--log-level', 'info'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env,
      },
    );
    const server = new ServerProcess(child);
    const listening = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
      createInterface({ input: child.stdout }).on('line', (text) => {
        let line: LogLine & Partial<EngineFigures>;
        try {
          line = JSON.parse(text) as LogLine & Partial<EngineFigures>;
        } catch {
          return;
        }
        if (line.msg?.startsWith('ptime serving') && line.port) {
          server.port = line.port;
          server.lead = line.lead ?? null;
          server.io = line.io ?? null;
          resolve();
        } else if (line.msg === 'figures') server.figures.push(line as EngineFigures);
        else if (line.msg === 'call ended') {
          server.callsEnded++;
          server.framesSentByEndedCalls += line.framesSent ?? 0;
          server.dropsByEndedCalls += line.drops ?? 0;
          server.underrunsByEndedCalls += line.underruns ?? 0;
          server.addEnded(line);
        } else if (line.msg === 'rejected' && typeof line.code === 'string') {
          const r = server.ended.rejected;
          r[line.code] = (r[line.code] ?? 0) + (line.count ?? 1);
        } else if (line.msg === 'barge-in') {
          server.bargeIns.push({
            streamSid: line.streamSid ?? '',
            heardMs: line.heardMs ?? null,
            sentMs: line.sentMs ?? null,
            confirmedMs: line.confirmedMs ?? null,
          });
        } else if (line.msg === 'injected stall')
          server.stalls.push({ atEpochMs: line.atEpochMs ?? 0, blockMs: line.blockMs ?? 0 });
      });
    });
    await listening;
    return server;
  }

  private addEnded(line: LogLine): void {
    const e = this.ended;
    // A call's drops count every frame dropped from its queue, the latency bound's too.
    e.drops.overflow += (line.drops ?? 0) - (line.latencyDrops ?? 0);
    e.drops.slow += line.slowPeerDrops ?? 0;
    e.drops.stale += line.staleDiscarded ?? 0;
    e.drops.latencyBound += line.latencyDrops ?? 0;
    const code = String(line.code ?? 'n/a');
    e.byCode[code] = (e.byCode[code] ?? 0) + 1;
    for (const k of Object.keys(e.marks) as MarkOutcome[]) e.marks[k] += line.marks?.[k] ?? 0;
  }

  url(path = '/media'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** SIGTERM and wait for a clean exit. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const [code] = (await once(this.child, 'exit')) as [number | null];
    return code;
  }

  /** Server figures over the seconds when calls were up. */
  summary(): ServerFigures {
    const busy = this.figures.filter((f) => f.calls > 0);
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
    const pacerCpu = busy.map((f) => f.pacerCpuPct).filter((x): x is number => x !== null);
    const last = [...this.figures].reverse().find((f) => f.pacerTickErrorTotalUs);
    const tick = last?.pacerTickErrorTotalUs ?? null;
    return {
      cpuPct: mean(busy.map((f) => f.cpuPct)),
      pacerCpuPct: mean(pacerCpu),
      mainCpuPct: mean(busy.map((f) => f.mainCpuPct).filter((x): x is number => x !== null && x !== undefined)),
      ioCpuPct: mean(busy.map((f) => f.ioCpuPct).filter((x): x is number => x !== null && x !== undefined)),
      ioLoopDelayP99Ms: busy.some((f) => f.ioLoopDelayP99Ms != null)
        ? Math.max(...busy.map((f) => f.ioLoopDelayP99Ms ?? 0))
        : null,
      rssMb: busy.length ? Math.max(...busy.map((f) => f.rssMb)) : null,
      loopDelayP99Ms: busy.length ? Math.max(...busy.map((f) => f.loopDelayP99Ms)) : null,
      pacerTickErrorUs: tick
        ? { p50: tick.p50, p99: tick.p99, p999: tick.p999, max: tick.max, count: tick.count }
        : null,
      framesSent: this.framesSentByEndedCalls,
      drops: this.dropsByEndedCalls,
      underruns: this.underrunsByEndedCalls,
    };
  }
}
