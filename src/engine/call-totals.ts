import type { CallStats } from './call.js';
import type { MarkResult } from './mark-book.js';

/**
 * Counts over the process's life that the calls' own figures cannot give once a call is gone:
 * calls started and ended (by close code), marks by outcome, and the per-call counters of ended
 * calls. A metric is this plus the live calls' figures at scrape time.
 */
export class CallTotals {
  callsStarted = 0;
  /** Ms from an utterance's start to its first audio heard, waiting for the metrics' next scrape. */
  readonly firstAudio = new PendingSamples();
  /** Ms the caller had heard of each utterance a clear() cut, likewise. */
  readonly bargeInHeard = new PendingSamples();
  readonly endedByCode = new Map<number, number>();
  readonly marks = new Map<MarkResult['status'], number>();
  readonly ended = {
    framesSent: 0,
    drops: 0,
    slowPeerDrops: 0,
    latencyDrops: 0,
    staleDiscarded: 0,
    underruns: 0,
    lateTicks: 0,
    clears: 0,
  };

  endedCall(s: CallStats, code: number): void {
    this.endedByCode.set(code, (this.endedByCode.get(code) ?? 0) + 1);
    const e = this.ended;
    e.framesSent += s.framesSent;
    e.drops += s.drops;
    e.slowPeerDrops += s.slowPeerDrops;
    e.latencyDrops += s.latencyDrops;
    e.staleDiscarded += s.staleDiscarded;
    e.underruns += s.underruns;
    e.lateTicks += s.lateTicks;
    e.clears += s.clears;
  }

  mark(status: MarkResult['status']): void {
    this.marks.set(status, (this.marks.get(status) ?? 0) + 1);
  }
}

/**
 * Observations for a histogram, kept until the metrics are read (prom-client stays off the calls'
 * path). Bounded: with nobody scraping, past MAX_PENDING_SAMPLES new ones are only counted.
 */
export class PendingSamples {
  private values: number[] = [];
  /** Observations let go because MAX_PENDING_SAMPLES were waiting. */
  overflow = 0;

  add(v: number): void {
    if (this.values.length < MAX_PENDING_SAMPLES) this.values.push(v);
    else this.overflow++;
  }

  /** Everything waiting, handed over once. */
  take(): number[] {
    const out = this.values;
    this.values = [];
    return out;
  }
}

export const MAX_PENDING_SAMPLES = 10_000;
