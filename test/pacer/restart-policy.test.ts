import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import { RestartPolicy, type RestartDecision } from '../../src/pacer/restart-policy.js';

// The policy takes its clock as an argument, so these tests move time by hand.
function setup(limits = {}) {
  let t = 0;
  const policy = new RestartPolicy(limits, () => t);
  return {
    policy,
    at(ms: number) {
      t = ms;
    },
    /** The worker starts at `start` and fails at `failAt`. */
    run(start: number, failAt: number, reason = 'boom'): RestartDecision {
      t = start;
      policy.started();
      t = failAt;
      return policy.failed(reason);
    },
  };
}

const delayOf = (d: RestartDecision): number => {
  assert.ok(d.restart, 'expected a restart');
  return d.delayMs;
};

test('rapid failures back off 0, 50, 100, 200, 400 ms, attempts counted from 1', () => {
  const { policy, at } = setup();
  const seen: { attempt: number; delayMs: number }[] = [];
  let t = 1000;
  for (let i = 0; i < 5; i++) {
    at(t);
    policy.started();
    t += 10;
    at(t);
    const d = policy.failed('boom');
    assert.ok(d.restart);
    seen.push({ attempt: d.attempt, delayMs: d.delayMs });
  }
  assert.deepEqual(seen, [
    { attempt: 1, delayMs: 0 },
    { attempt: 2, delayMs: 50 },
    { attempt: 3, delayMs: 100 },
    { attempt: 4, delayMs: 200 },
    { attempt: 5, delayMs: 400 },
  ]);
});

test('the sixth failure within 30 s is fatal, with a coded error naming the limit and the last reason', () => {
  const { run } = setup();
  for (let i = 0; i < 5; i++) assert.ok(run(i * 1000, i * 1000 + 500).restart);
  const d = run(5000, 5500, 'pacer worker threw: kaput');
  assert.equal(d.restart, false);
  assert.ok(!d.restart);
  assert.ok(d.error instanceof PtimeError);
  assert.equal(d.error.code, ErrorCodes.PACER_FAILED);
  assert.equal(
    d.error.message,
    'pacer worker failed 6 times within 30 s (limit: 5 restarts per 30 s); giving up. Last failure: pacer worker threw: kaput',
  );
});

test('failures spread wider than the window never add up to the limit', () => {
  const { run } = setup({ healthyMs: 1_000_000 }); // keep the streak growing: only the window resets
  for (let i = 0; i < 20; i++) {
    const d = run(i * 7000, i * 7000 + 10); // one failure every 7 s: at most 5 in any 30 s
    assert.ok(d.restart, `failure ${i + 1} restarts`);
  }
});

test('a worker that ran healthily ends the streak: the next restart is immediate again', () => {
  const { run } = setup();
  assert.equal(delayOf(run(0, 10)), 0);
  assert.equal(delayOf(run(10, 20)), 50);
  assert.equal(delayOf(run(70, 80)), 100);
  const d = run(180, 180 + 5000); // ran 5 s: healthy
  assert.ok(d.restart);
  assert.equal(d.attempt, 1);
  assert.equal(d.delayMs, 0);
  assert.equal(delayOf(run(5180, 5190)), 50);
});

test('a crash every 5 s resets the backoff each time but still hits the 30 s limit', () => {
  const { run } = setup();
  const decisions = [0, 1, 2, 3, 4, 5].map((i) => run(i * 5000, i * 5000 + 5000));
  assert.deepEqual(decisions.slice(0, 5).map(delayOf), [0, 0, 0, 0, 0]);
  assert.equal(decisions[5]!.restart, false, 'six failures in 30 s is a crash loop even if each ran a while');
});

test('the delay doubles up to maxDelayMs and stays there', () => {
  const { run } = setup({ maxRestarts: 100, baseDelayMs: 50, maxDelayMs: 300 });
  const delays = Array.from({ length: 7 }, (_, i) => delayOf(run(i * 10, i * 10 + 1)));
  assert.deepEqual(delays, [0, 50, 100, 200, 300, 300, 300]);
});

test('limits are checked: a bad value is a coded error', () => {
  const isInvalid = (err: unknown) =>
    err instanceof PtimeError && err.code === ErrorCodes.INVALID_OPTION && /maxRestarts/.test(err.message);
  assert.throws(() => new RestartPolicy({ maxRestarts: -1 }, () => 0), isInvalid);
  assert.throws(() => new RestartPolicy({ maxRestarts: 1.5 }, () => 0), isInvalid);
  assert.throws(
    () => new RestartPolicy({ windowMs: Number.NaN }, () => 0),
    (err: unknown) =>
      err instanceof PtimeError &&
      err.code === ErrorCodes.INVALID_OPTION &&
      /windowMs must be a finite number/.test(err.message),
  );
});

test('maxRestarts 0: the first failure is fatal', () => {
  const { run } = setup({ maxRestarts: 0 });
  const d = run(0, 1);
  assert.ok(!d.restart);
  assert.match(d.error.message, /failed 1 time within 30 s \(limit: 0 restarts per 30 s\)/);
});
