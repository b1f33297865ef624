/**
 * Twilio's side of one call on a thread of its own, so that it keeps its real-time clock while
 * the test's main thread (the application's) is deliberately blocked. Started by PeerThread;
 * echoes every mark the moment it arrives, sends stamped media at 50/s on an absolute clock when
 * asked, and reports everything it received with arrival times on the shared clock.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { TwilioClient } from './twilio-client.js';
import { stampedFrame } from './seeded.js';

export type PeerCommand = { op: 'media'; from: number; count: number } | { op: 'report' } | { op: 'close' };
export interface PeerArrival {
  event: string;
  /** performance.timeOrigin + performance.now() at receipt: comparable across threads. */
  at: number;
  payload?: string;
  name?: string;
}
export type PeerReply =
  | { op: 'started'; streamSid: string }
  | { op: 'mediaSent'; sentAt: number[] }
  | { op: 'report'; received: PeerArrival[]; closeCode: number | null };

const { url, id } = workerData as { url: string; id: number };
const port = parentPort!;
const client = await TwilioClient.connect(url, id);
client.ws.on('message', (data) => {
  const msg = JSON.parse(data.toString()) as { event: string; mark?: { name: string } };
  if (msg.event === 'mark') client.echoMark(msg.mark!.name);
});
client.start();
port.postMessage({ op: 'started', streamSid: client.streamSid } satisfies PeerReply);

port.on('message', (cmd: PeerCommand) => void onCommand(cmd));

async function onCommand(cmd: PeerCommand): Promise<void> {
  if (cmd.op === 'media') {
    const t0 = performance.now();
    const sentAt: number[] = [];
    for (let k = 0; k < cmd.count; k++) {
      const wait = t0 + k * 20 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      client.media160(stampedFrame(cmd.from + k));
      sentAt.push(performance.timeOrigin + performance.now());
    }
    port.postMessage({ op: 'mediaSent', sentAt } satisfies PeerReply);
  } else if (cmd.op === 'report') {
    const received = client.received.map((m) => ({
      event: m.event,
      at: performance.timeOrigin + m.at,
      payload: m.media?.payload,
      name: m.mark?.name,
    }));
    port.postMessage({ op: 'report', received, closeCode: client.closeCode } satisfies PeerReply);
  } else {
    client.ws.close();
    port.close();
  }
}
