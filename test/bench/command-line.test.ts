import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('../../bench/', import.meta.url));
const SCRIPTS = [
  'main-job',
  'soak',
  'scale',
  'pacer-precision',
  'pacer-alone',
  'pacer-spin',
  'barge-in-accuracy',
  'codec-throughput',
  'codec-main-thread',
  'regenerate-results',
  'handback-channel',
  'recording-picture',
  ...readdirSync(`${benchDir}scenarios`)
    .filter((f) => f.endsWith('.js'))
    .map((f) => `scenarios/${f.slice(0, -3)}`),
];

const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, [`${benchDir}${script}.js`, ...args], { encoding: 'utf8', timeout: 30_000 });

test('every bench script answers --help with its flags and defaults and exits 0, without running anything', () => {
  for (const script of new Set(SCRIPTS)) {
    const r = run(script, ['--help']);
    assert.equal(r.status, 0, `${script} --help exits 0 (stderr: ${r.stderr.slice(0, 300)})`);
    assert.match(r.stdout, /^Usage: /, `${script} prints its usage`);
    assert.match(r.stdout, /--help, -h/, `${script} lists --help`);
  }
  const soak = run('soak', ['--help']).stdout;
  for (const flag of ['--secs SECS', '(default 600)', '--steady STEADY', '--churn-per-sec'])
    assert.ok(soak.includes(flag), flag);
});

test('an unknown flag, a missing value or a number flag that is not a number: one line naming it, exit 2', () => {
  for (const script of new Set(SCRIPTS)) {
    const r = run(script, ['--bogus']);
    assert.equal(r.status, 2, `${script} --bogus exits 2`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${script}: one line, no stack trace (${r.stderr})`);
    assert.match(r.stderr, /--bogus/);
  }
  const notNumber = run('scale', ['--secs', 'ten']);
  assert.equal(notNumber.status, 2);
  assert.equal(notNumber.stderr.trim(), 'bench/scale.js: --secs takes a number (got "ten") (--help lists the flags)');
  const badList = run('barge-in-accuracy', ['--leads', '3,x']);
  assert.equal(badList.status, 2);
  assert.match(badList.stderr, /--leads takes a number or a comma-separated list of numbers \(got "3,x"\)/);
  const noValue = run('main-job', ['--calls']);
  assert.equal(noValue.status, 2);
  assert.match(noValue.stderr, /^npm start: .*--calls/);
});
