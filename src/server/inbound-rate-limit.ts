export type RateVerdict = 'ok' | 'drop' | 'close';

/**
 * A stream's inbound message budget. Twilio sends 50 media messages a second plus the odd mark or
 * DTMF; after a network hiccup it may deliver a few seconds' backlog at once, which the burst
 * allows. A peer far above real time (a loop bug, a flood) has its excess dropped and counted,
 * so parsing it cannot starve the other calls; if the excess goes on for `closeAfterSec`
 * consecutive seconds it is not a hiccup, and the stream is closed.
 */
export class InboundRateLimit {
  private tokens: number;
  private last: number;
  private floodSince = -1;
  private lastDrop = -1;

  constructor(
    private readonly perSec: number,
    private readonly burst: number,
    private readonly closeAfterSec: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** `now` in ms (performance.now()). */
  admit(now: number): RateVerdict {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSec) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      // A whole second with no drop ends the flood.
      if (this.floodSince >= 0 && now - this.lastDrop > 1000) this.floodSince = -1;
      return 'ok';
    }
    if (this.floodSince < 0 || now - this.lastDrop > 1000) this.floodSince = now;
    this.lastDrop = now;
    return now - this.floodSince >= this.closeAfterSec * 1000 ? 'close' : 'drop';
  }
}
