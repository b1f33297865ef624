import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ImpairmentProxyOptions, ImpairmentProxyStats } from '../../src/loadtest/impairment-proxy.js';

export type ProxyRequest = { kind: 'cut'; ms: number } | { kind: 'stop' };
export type ProxyReply =
  | { kind: 'listening'; port: number }
  | { kind: 'cut'; fromEpochMs: number; untilEpochMs: number }
  | { kind: 'stopped'; stats: ImpairmentProxyStats };

const CHILD = fileURLToPath(new URL('./proxy-child.js', import.meta.url));

/** The impairment proxy (src/loadtest/impairment-proxy.ts) in a child process, over IPC. */
export class ProxyProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(options: ImpairmentProxyOptions): Promise<ProxyProcess> {
    const child = fork(CHILD, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const reply = await ProxyProcess.next(child, 'listening');
    return new ProxyProcess(child, reply.port);
  }

  url(path: string): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** Hold all traffic for `ms` from now; resolves with the hold's window on the epoch clock. */
  async cutFor(ms: number): Promise<{ fromEpochMs: number; untilEpochMs: number }> {
    const reply = ProxyProcess.next(this.child, 'cut');
    this.child.send({ kind: 'cut', ms } satisfies ProxyRequest);
    return reply;
  }

  async stop(): Promise<ImpairmentProxyStats> {
    const reply = ProxyProcess.next(this.child, 'stopped');
    this.child.send({ kind: 'stop' } satisfies ProxyRequest);
    const { stats } = await reply;
    if (this.child.exitCode === null) await once(this.child, 'exit');
    return stats;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private static next<K extends ProxyReply['kind']>(
    child: ChildProcess,
    kind: K,
  ): Promise<Extract<ProxyReply, { kind: K }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`impairment proxy exited with ${code}`));
      const onMessage = (m: ProxyReply): void => {
        if (m.kind !== kind) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m as Extract<ProxyReply, { kind: K }>);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }
}
