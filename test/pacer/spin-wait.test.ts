import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpinWait } from '../../src/pacer/spin-wait.js';

// The spin's clock reads are what it allocates on the pacer thread: count them against a fake
// clock whose reads and busy iterations cost what they cost on this project's VM (about 60 ns and
// 5 ns), and check it still ends at the deadline, not before and not much after.

class FakeClock {
  t = 0;
  reads = 0;
  constructor(
    public readMs = 0.00006,
    public iterMs = 0.000005,
  ) {}
  now = (): number => {
    this.reads++;
    this.t += this.readMs;
    return this.t;
  };
  busy = (n: number): void => {
    this.t += n * this.iterMs;
  };
}

test('a 300 µs spin reads the clock a few dozen times, not once per 60 ns, and ends at its deadline', () => {
  const clock = new FakeClock();
  const spin = new SpinWait(clock.now, clock.busy);
  const overshootsUs: number[] = [];
  const reads: number[] = [];
  for (let wake = 0; wake < 50; wake++) {
    clock.t += 20; // the sleep between wakes
    const before = clock.reads;
    const deadline = clock.t + 0.3;
    const end = spin.until(deadline);
    assert.ok(end >= deadline, `ended ${((deadline - end) * 1000).toFixed(3)} µs early`);
    assert.equal(end, clock.t);
    overshootsUs.push((end - deadline) * 1000);
    reads.push(clock.reads - before);
  }
  // A read back to back would be 300 / 0.06 = 5000 reads per spin.
  assert.ok(Math.max(...reads.slice(1)) <= 50, `reads per spin ${reads.join(',')}`);
  assert.ok(Math.max(...overshootsUs) <= 0.1, `overshoot µs ${overshootsUs.map((u) => u.toFixed(3)).join(',')}`);
  assert.equal(spin.reads, clock.reads);
});

test('the first spin, before the busy rate is known, starts with small chunks and still reads the clock a bounded number of times', () => {
  const clock = new FakeClock();
  const spin = new SpinWait(clock.now, clock.busy);
  const end = spin.until(0.3);
  assert.ok(end >= 0.3);
  assert.ok(clock.reads <= 60, `reads ${clock.reads}`);
});

test('a machine that gets slower mid-spin (busy iterations cost 3x) overshoots by at most half the time that was left', () => {
  const clock = new FakeClock();
  const spin = new SpinWait(clock.now, clock.busy);
  for (let i = 0; i < 5; i++) spin.until(clock.t + 0.3); // the rate is learned at 5 ns
  clock.iterMs *= 3;
  const deadline = clock.t + 0.3;
  const end = spin.until(deadline);
  assert.ok(end >= deadline);
  // The first chunk was sized for half of 300 µs at the old rate and took 450 µs.
  assert.ok((end - deadline) * 1000 <= 150 + 0.1, `overshoot ${((end - deadline) * 1000).toFixed(1)} µs`);
  // The next spin has learned the new rate.
  const d2 = clock.t + 0.3;
  assert.ok((spin.until(d2) - d2) * 1000 <= 0.1);
});

test('a deadline already passed costs one clock read and no busy work', () => {
  const clock = new FakeClock();
  let busied = 0;
  const spin = new SpinWait(clock.now, (n) => (busied += n));
  clock.t = 5;
  assert.equal(spin.until(1), clock.t);
  assert.equal(clock.reads, 1);
  assert.equal(busied, 0);
});
