import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServeArgs, UsageError } from '../../src/cli/serve-args.js';

test('the pacer timing flags reach the engine options; absent, the engine defaults apply', () => {
  const o = parseServeArgs(['--spin-us', '400', '--spin-min-us', '20', '--spin-max-us', '900', '--pacer-timer-slack-us', '5'], {});
  assert.equal(o.spinUs, 400);
  assert.equal(o.spinMinUs, 20);
  assert.equal(o.spinMaxUs, 900);
  assert.equal(o.pacerTimerSlackUs, 5);
  const none = parseServeArgs([], {});
  assert.equal(none.spinMinUs, undefined);
  assert.equal(none.pacerTimerSlackUs, undefined);
});

test('a malformed pacer timing flag is a usage error that names the flag', () => {
  assert.throws(() => parseServeArgs(['--spin-min-us', 'fast'], {}), (e: Error) => e instanceof UsageError && /--spin-min-us/.test(e.message));
  assert.throws(() => parseServeArgs(['--pacer-timer-slack-us', '-3'], {}), (e: Error) => e instanceof UsageError && /--pacer-timer-slack-us/.test(e.message));
});
