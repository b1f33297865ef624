import type { CallStats } from './call.js';
import type { MarkResult } from './mark-book.js';

/**
 * Counts over the process's life that the calls' own figures cannot give once a call is gone:
 * calls started and ended (by close code), marks by outcome, and the per-call counters of ended
 * calls. A metric is this plus the live calls' figures at scrape time.
 */
export class CallTotals {
  callsStarted = 0;
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
