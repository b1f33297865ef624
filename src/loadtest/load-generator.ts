import { performance } from 'node:perf_hooks';
import { FRAME_MS } from '../ring/lane-layout.js';
import { LiveProgress } from './live-progress.js';
import { LoadCall } from './load-call.js';
import { CARRIER_SIDES } from './carrier-side.js';
import { InboundDisorder, type DisorderOptions } from './inbound-disorder.js';
import type { CarrierName } from '../protocol/carrier-adapter.js';

export interface LoadOptions {
  url: string;
  calls: number;
  /** How long each call streams, from its start. */
  seconds: number;
  /** New calls per second. */
  rampPerSec: number;
  /** start.customParameters.mode */
  mode: string;
  /** Whose side to play (default twilio): its messages, and how it answers marks and clears. */
  carrier?: CarrierName;
  /** Send a DTMF digit on every call this often (0 = never). */
  dtmfEverySec: number;
  /** Called once a second with live figures (the CLI prints a progress line). */
  onProgress?: (p: { framesPerSec: number; p99Ms: number; latePct: number; calls: number; elapsedS: number }) => void;
  /** Offset added to call indices (when calls are spread over several generator processes). */
  indexBase?: number;
  /** Number the inbound frames and read the numbers back from the echo (mu-law JSON carriers). */
  stampFrames?: boolean;
  /** Send inbound media out of order and duplicated (call i seeded with seed + i). */
  disorder?: DisorderOptions;
}

export interface CallData {
  index: number;
  streamSid: string;
  arrivals: number[];
  /** Send times of the inbound frames (same clock as arrivals). */
  sends?: number[];
  spurtStarts: number[];
  closeCode: number | null;
  /** The socket closed before the generator hung up. */
  closedBeforeStop?: boolean;
  marks: number;
  clears: number;
  /** With stampFrames: the inbound chunk each arrival echoes (-1: not read). */
  stamps?: number[];
  /** With disorder: chunks sent after newer ones, and chunks sent twice. */
  disorder?: { sentLate: number; duplicated: number };
}

export interface LoadResult {
  calls: CallData[];
  /** performance.timeOrigin + performance.now() when the first call started: lines up stalls. */
  startedAtEpochMs: number;
  inboundFrames: number;
  failedToConnect: number;
}

const STOP_GRACE_MS = 300;

/**
 * Plays Twilio's side of `calls` streams against a URL: connected, start, inbound media at exactly
 * 50 frames/s per call on one absolute clock (missed ticks are made up, so a late generator does
 * not skew the inbound rate), optional DTMF, then stop. Calls ramp up at `rampPerSec`.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const calls: LoadCall[] = [];
  const started: number[] = [];
  const live = new LiveProgress();
  const t0 = performance.now();
  const startedAtEpochMs = performance.timeOrigin + t0;
  let inboundFrames = 0;
  let failedToConnect = 0;

  // The inbound clock: tick k at t0 + k*20 for every call that is streaming.
  let k = 0;
  let clockTimer: NodeJS.Timeout | null = null;
  const runClock = (): void => {
    const now = performance.now();
    while (t0 + k * FRAME_MS <= now) {
      const tickAt = t0 + k * FRAME_MS;
      for (let i = 0; i < calls.length; i++) {
        const call = calls[i]!;
        if (call.closed || tickAt < started[i]!) continue;
        if (tickAt - started[i]! >= o.seconds * 1000) continue;
        call.sendMedia();
        inboundFrames++;
      }
      k++;
    }
    clockTimer = setTimeout(runClock, t0 + k * FRAME_MS - performance.now());
  };
  runClock();

  const progressTimer = o.onProgress
    ? setInterval(() => o.onProgress!({ ...live.update(calls), elapsedS: (performance.now() - t0) / 1000 }), 1000)
    : null;
  const dtmfTimer =
    o.dtmfEverySec > 0 ? setInterval(() => calls.forEach((c) => c.dtmf('5')), o.dtmfEverySec * 1000) : null;

  const stops: Promise<void>[] = [];
  for (let i = 0; i < o.calls; i++) {
    const due = t0 + (i * 1000) / o.rampPerSec;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    try {
      const index = (o.indexBase ?? 0) + i;
      const disorder = o.disorder ? new InboundDisorder({ ...o.disorder, seed: o.disorder.seed + index }) : null;
      const side = CARRIER_SIDES[o.carrier ?? 'twilio'];
      const call = await LoadCall.open(index, o.url, o.mode, side, o.stampFrames ?? false, disorder);
      call.start();
      calls.push(call);
      const at = performance.now();
      started.push(at);
      stops.push(
        new Promise<void>((resolve) => {
          setTimeout(
            () => {
              call.stop();
              setTimeout(() => {
                call.ws.close();
                resolve();
              }, STOP_GRACE_MS);
            },
            o.seconds * 1000 + FRAME_MS,
          );
        }),
      );
    } catch {
      failedToConnect++;
    }
  }
  await Promise.all(stops);
  if (clockTimer) clearTimeout(clockTimer);
  if (progressTimer) clearInterval(progressTimer);
  if (dtmfTimer) clearInterval(dtmfTimer);
  return {
    startedAtEpochMs,
    inboundFrames,
    failedToConnect,
    calls: calls.map((c) => ({
      index: c.index,
      streamSid: c.streamSid,
      arrivals: Array.from(c.arrivals.view(), (t) => t - t0),
      sends: Array.from(c.sends.view(), (t) => t - t0),
      spurtStarts: [...new Set(c.arrivals.spurtStarts)].filter((s) => s < c.arrivals.count),
      closeCode: c.closeCode,
      closedBeforeStop: c.closedBeforeStop,
      marks: c.marks,
      clears: c.clears,
      ...(c.stamps ? { stamps: c.stamps } : {}),
      ...(c.disorder ? { disorder: { sentLate: c.disorder.sentLate, duplicated: c.disorder.duplicated } } : {}),
    })),
  };
}
