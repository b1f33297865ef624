/** Below this much time left the spin reads the clock back to back (µs). */
const FINE_US = 1;
/** Busy iterations per µs assumed before the first chunk is measured: low, so it cannot overshoot. */
const INITIAL_ITERS_PER_US = 1;

/**
 * The busy-wait up to a deadline, reading the clock a few dozen times instead of thousands.
 *
 * On the pacer thread a clock read is not free: performance.now() returns a boxed double, a heap
 * allocation per read. Reading it back to back for a 300 µs spin makes about 10 MB/s of garbage
 * on the pacer thread at 200 calls: a scavenge every 0.3 s, a pause of 0.3–2.5 ms each on the
 * timing thread, an occasional mark-compact of 20+ ms, and a young generation that grows its
 * committed pages for good. So it busy-waits in chunks of half the time left, sized from the
 * measured rate of busy iterations, and reads back to back only in its last FINE_US: about
 * log2(spin / FINE_US) + FINE_US / (cost of a read) reads per wake.
 */
export class SpinWait {
  private itersPerUs = INITIAL_ITERS_PER_US;
  /** Clock reads so far, the loop's own included (its profile reports them per wake). */
  reads = 0;

  constructor(
    private readonly now: () => number,
    /** Burn `iterations` of something the compiler cannot remove (the worker: Atomics.load). */
    private readonly busy: (iterations: number) => void,
  ) {}

  /**
   * Busy until the clock reaches `deadline` (ms), starting from `now`, a read the caller just took;
   * returns the clock read that reached it.
   */
  until(deadline: number, now = this.read()): number {
    while (now < deadline) {
      const leftUs = (deadline - now) * 1000;
      if (leftUs <= FINE_US) {
        now = this.read();
        continue;
      }
      const n = Math.max(1, Math.floor(leftUs * 0.5 * this.itersPerUs));
      this.busy(n);
      const after = this.read();
      const tookUs = (after - now) * 1000;
      // A chunk the thread was preempted in measures slow: the next ones are only smaller (safe).
      // One too short to time well (under a µs) says little, unless it took far less than the half
      // it was sized for (the first chunks, from the low initial rate): then grow the rate fast.
      if (tookUs >= 1) this.itersPerUs = n / tookUs;
      else if (tookUs < leftUs / 8) this.itersPerUs *= 4;
      now = after;
    }
    return now;
  }

  /** The clock, counted: the loop reads it through here too. */
  read(): number {
    this.reads++;
    return this.now();
  }
}
