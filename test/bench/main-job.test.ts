import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN_JOB = fileURLToPath(new URL('../../bench/main-job.js', import.meta.url));

test('the main job, shortened, prints the table, the legend of its columns and one verdict line against its targets, and exits 0', () => {
  const r = spawnSync(process.execPath, [MAIN_JOB, '--calls', '5', '--secs', '2', '--out', 'bench/out/test-main-job'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr.slice(-500));
  assert.match(
    r.stdout,
    /\| main 5 calls \| ptime no flags \(lead 8 io worker\) \|/,
    "serve's defaults, as the server reports them",
  );
  assert.match(r.stdout, /^Columns: fps\/call = /m);
  const verdicts = r.stdout.split('\n').filter((l) => l.startsWith('verdict: '));
  assert.equal(verdicts.length, 1);
  assert.match(verdicts[0]!, /met: frames received (\d+) = sent \1/);
  assert.match(verdicts[0]!, /met: 0 calls failed to connect/);
  assert.match(verdicts[0]!, /met: server exit 0/);
  assert.match(verdicts[0]!, /(met|MISSED): late@60 \d+\.\d{3} % \(target 0\)/, 'late@60 is reported either way');
});
