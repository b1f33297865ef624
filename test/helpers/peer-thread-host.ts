import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { PeerArrival, PeerCommand, PeerReply } from './peer-thread.js';

/** A Twilio-side peer on its own thread (peer-thread.ts), driven from the test. */
export class PeerThread {
  private constructor(
    private readonly worker: Worker,
    readonly streamSid: string,
  ) {}

  static async start(url: string, id: number): Promise<PeerThread> {
    const worker = new Worker(new URL('./peer-thread.js', import.meta.url), { workerData: { url, id } });
    const [msg] = (await once(worker, 'message')) as [PeerReply];
    if (msg.op !== 'started') throw new Error(`peer thread said ${msg.op} first`);
    return new PeerThread(worker, msg.streamSid);
  }

  /** Send stamped frames from `from` at 50/s; resolves with each frame's send time (epoch ms) when all are sent. */
  sendMedia(from: number, count: number): Promise<number[]> {
    return this.ask({ op: 'media', from, count }, 'mediaSent').then((r) => (r.op === 'mediaSent' ? r.sentAt : []));
  }

  async report(): Promise<{ received: PeerArrival[]; closeCode: number | null }> {
    const r = await this.ask({ op: 'report' }, 'report');
    if (r.op !== 'report') throw new Error('unexpected reply');
    return { received: r.received, closeCode: r.closeCode };
  }

  async close(): Promise<void> {
    this.worker.postMessage({ op: 'close' } satisfies PeerCommand);
    await this.worker.terminate();
  }

  private ask(cmd: PeerCommand, reply: PeerReply['op']): Promise<PeerReply> {
    return new Promise((resolve) => {
      const on = (msg: PeerReply): void => {
        if (msg.op !== reply) return;
        this.worker.off('message', on);
        resolve(msg);
      };
      this.worker.on('message', on);
      this.worker.postMessage(cmd);
    });
  }
}
