import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { offlineApp, type Lockfile } from './offline-lock.js';

/*
 * The package as an app gets it: packed from a fresh checkout (no dist/, so `prepare` must build
 * it), installed from the tarball into an app outside the repo with no network, compiled by a
 * strict consumer's tsconfig (skipLibCheck off: every type the public .d.ts files name must
 * resolve from ptime's own dependencies), then run against a real engine.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CONSUMER = join(ROOT, 'test', 'package', 'consumer');
/** What a clone has at its top (the tracked files), for the copy that stands in for one. */
const CLONED = [
  '.gitignore',
  'LICENSE',
  'README.md',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'src',
  'workers',
  'test',
  'bench',
];
/** Files npm packs whatever `files` says. */
const ALWAYS_PACKED = /^(package\.json|README\.md|LICEN[CS]E(\.\w+)?)$/;
/**
 * A proxy nothing listens on, for every npm run here: `--offline` already forbids the network, and
 * this proves it. A request that got out would fail as with no network at all, and npm's retries
 * before it falls back to the cache (about two minutes) outlast the install's timeout.
 */
const NO_NETWORK = {
  ...process.env,
  npm_config_proxy: 'http://127.0.0.1:9',
  npm_config_https_proxy: 'http://127.0.0.1:9',
};

const tmp = mkdtempSync(join(tmpdir(), 'ptime-pack-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  cmd: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Run> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { cwd, env, timeout: timeoutMs, maxBuffer: 16 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        done({
          code,
          stdout,
          stderr: err !== null && err.killed ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr,
        });
      },
    );
  });
}

function explain(what: string, r: Run): string {
  return `${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

test('the packed tarball installs offline, compiles under a strict consumer and runs a call', async () => {
  // A fresh clone: the sources, no dist/, the project's installed modules (as after `npm ci`).
  const clone = join(tmp, 'clone');
  for (const entry of CLONED) {
    cpSync(join(ROOT, entry), join(clone, entry), {
      recursive: true,
      filter: (src) => relative(ROOT, src) !== join('bench', 'out'),
    });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');

  const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp], clone, 120_000, NO_NETWORK);
  assert.equal(pack.code, 0, explain('npm pack', pack));
  const [packed] = JSON.parse(pack.stdout) as {
    name: string;
    version: string;
    filename: string;
    integrity: string;
    files: { path: string }[];
  }[];
  assert.ok(packed, `npm pack --json described no tarball: ${pack.stdout}`);
  const files = packed.files.map((f) => f.path);
  for (const needed of [
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/src/testing/index.d.ts',
    'dist/src/cli/main.js',
    'dist/workers/pacer.js',
    'dist/workers/codec.js',
    'dist/workers/io.js',
  ]) {
    assert.ok(files.includes(needed), `the tarball lacks ${needed}`);
  }
  const stray = files.filter(
    (f) => !f.startsWith('dist/src/') && !f.startsWith('dist/workers/') && !ALWAYS_PACKED.test(f),
  );
  assert.deepEqual(stray, [], 'only the built package, its manifest and README are packed');

  const app = join(tmp, 'app');
  cpSync(CONSUMER, app, { recursive: true });
  const project = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const tarball = {
    name: packed.name,
    version: packed.version,
    integrity: packed.integrity,
    path: `../${packed.filename}`,
  };
  const { dependencies, lock } = offlineApp(project, tarball, ['typescript', '@types/node']);
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'ptime-consumer', private: true, type: 'module', dependencies }, null, 2)}\n`,
  );
  writeFileSync(join(app, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);

  const install = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app, 60_000, NO_NETWORK);
  assert.equal(install.code, 0, explain('npm ci --offline', install));

  const bin = await run(join(app, 'node_modules', '.bin', 'ptime'), ['--help'], app, 10_000);
  assert.equal(bin.code, 0, explain('ptime --help', bin));
  assert.match(bin.stdout, /^Usage: ptime <command>/);

  const tsc = await run(
    process.execPath,
    [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
    app,
    60_000,
  );
  assert.equal(tsc.code, 0, explain('the strict consumer does not compile: tsc', tsc));

  const consumer = await run(process.execPath, ['dist/app.js'], app, 30_000);
  assert.equal(consumer.code, 0, explain('the consumer', consumer));
  assert.deepEqual(consumer.stdout.trim().split('\n'), [
    'listening',
    'speak played',
    'mark played',
    'peer frames ok',
    'refused PTIME_ERR_INVALID_AUDIO',
    'call closed 1000',
    'engine closed',
  ]);
});
