/**
 * Counts events and reports them at most once per period, carrying the count since the last
 * report, so a flood produces one line every period instead of one line per event.
 */
export class ThrottledCount {
  private pending = 0;
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly periodMs: number,
    private readonly report: (count: number) => void,
  ) {}

  add(now: number, n = 1): void {
    this.pending += n;
    if (now - this.last >= this.periodMs) this.flush(now);
  }

  /** Report what a burst left pending once its period is over (called from a periodic timer). */
  tick(now: number): void {
    if (this.pending > 0 && now - this.last >= this.periodMs) this.flush(now);
  }

  private flush(now: number): void {
    const n = this.pending;
    this.pending = 0;
    this.last = now;
    this.report(n);
  }
}
