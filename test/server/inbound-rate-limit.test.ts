import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InboundRateLimit } from '../../src/server/inbound-rate-limit.js';

/** Feed `perSec` messages a second for `secs` seconds on a fake clock; count the verdicts. */
function feed(
  limit: InboundRateLimit,
  from: number,
  perSec: number,
  secs: number,
): { ok: number; drop: number; close: number; at: number } {
  const out = { ok: 0, drop: 0, close: 0, at: from };
  const n = perSec * secs;
  for (let i = 0; i < n; i++) {
    out.at = from + (i * 1000) / perSec;
    out[limit.admit(out.at)]++;
  }
  return out;
}

test('real time (50/s) with a backlog burst passes untouched for a long call', () => {
  const limit = new InboundRateLimit(100, 250, 3, 0);
  const burst = feed(limit, 0, 100_000, 0.0025); // 250 messages at once: a delivered backlog
  assert.deepEqual([burst.ok, burst.drop], [250, 0]);
  const steady = feed(limit, 1000, 50, 600);
  assert.deepEqual([steady.ok, steady.drop, steady.close], [30_000, 0, 0]);
});

test('a flood is dropped down to the allowed rate, then closed once it has lasted 3 s', () => {
  const limit = new InboundRateLimit(100, 250, 3, 0);
  const first = feed(limit, 0, 1000, 2.5);
  assert.equal(first.close, 0, 'under 3 s of flood: drop only');
  assert.ok(first.ok >= 250 + 240 && first.ok <= 250 + 251, `burst + 100/s admitted (${first.ok})`);
  assert.equal(first.drop, 2500 - first.ok);
  const more = feed(limit, first.at + 1, 1000, 1);
  assert.ok(more.close > 0, 'still flooding at 3 s: close');
});

test('short floods separated by quiet seconds never close', () => {
  const limit = new InboundRateLimit(100, 250, 3, 0);
  let at = 0;
  for (let round = 0; round < 10; round++) {
    const f = feed(limit, at, 1000, 1);
    assert.equal(f.close, 0, `round ${round}`);
    at = f.at + 5000; // the bucket refills during the quiet
  }
});
