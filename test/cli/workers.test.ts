import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { until } from '../helpers/engine-fixture.js';
import { TwilioClient } from '../helpers/twilio-client.js';
import { stampedFrame } from '../helpers/seeded.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

type Line = Record<string, unknown> & { msg?: string; pid?: number };

test('--workers 2: calls spread over both workers in every mode; a killed worker takes only its calls and is replaced; metrics aggregate; SIGTERM drains all and exits 0', async () => {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--workers',
      '2',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--metrics-port',
      '0',
      '--drain-ms',
      '2000',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines: Line[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Line);
    } catch {
      // not a log line
    }
  });
  const serving = (): Line[] => lines.filter((l) => l.msg?.startsWith('ptime serving'));
  const clients: TwilioClient[] = [];
  try {
    await until(() => serving().length === 2, 20_000, 'two workers serving');
    const port = serving()[0]!['port'] as number;
    assert.equal(serving()[1]!['port'], port, 'both workers on one port');
    const metricsPort = lines.find((l) => l.msg === 'ptime primary supervising workers')!['metricsPort'] as number;
    const url = `ws://127.0.0.1:${port}/media`;
    const modes = ['echo', 'tone', 'silence', 'echo', 'tone', 'silence', 'echo', 'tone'];
    for (const mode of modes) {
      const c = await TwilioClient.connect(url);
      c.start({ mode });
      clients.push(c);
    }
    for (const [i, c] of clients.entries()) {
      if (modes[i] === 'echo') for (let k = 0; k < 5; k++) c.media160(stampedFrame(k));
      await c.waitFor(
        (m) => m.filter((x) => x.event === 'media').length >= 5,
        10_000,
        `call ${i} (${modes[i]}) answered`,
      );
    }
    const started = (): Line[] => lines.filter((l) => l.msg === 'call started');
    await until(() => started().length === 8, 5000, 'eight call started lines');
    const pids = new Set(started().map((l) => l.pid));
    assert.equal(pids.size, 2, 'calls spread over both workers');

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^ptime_active_calls 8$/m, 'active calls summed over the workers');
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 200);

    // Kill one worker: only its calls end; the other worker's keep streaming; a new worker serves.
    const victim = [...pids][0]!;
    const pidOf = (c: TwilioClient): number | undefined => started().find((l) => l['streamSid'] === c.streamSid)?.pid;
    const victims = clients.filter((c) => pidOf(c) === victim);
    const survivors = clients.filter((c) => pidOf(c) !== victim);
    assert.ok(victims.length > 0 && survivors.length > 0);
    process.kill(victim, 'SIGKILL');
    await until(() => victims.every((c) => c.closeCode !== null), 10_000, "the dead worker's calls closed");
    // Tone and silence calls produce on their own: each survivor of those keeps streaming.
    for (const c of survivors.filter((c) => modes[clients.indexOf(c)] !== 'echo')) {
      const had = c.media.length;
      await c.waitFor(
        (m) => m.filter((x) => x.event === 'media').length > had + 10,
        5000,
        'a surviving call streams on',
      );
    }
    assert.ok(
      survivors.every((c) => c.closeCode === null),
      'no other call was touched',
    );
    await until(() => serving().length === 3, 20_000, 'a replacement worker serving');
    const fresh = await TwilioClient.connect(url);
    fresh.start({ mode: 'tone' });
    clients.push(fresh);
    await fresh.waitFor(
      (m) => m.filter((x) => x.event === 'media').length >= 5,
      10_000,
      'a new call after the restart',
    );

    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'every worker drained; the primary exits 0');
    await until(() => clients.every((c) => c.closeCode !== null), 5000, 'all sockets closed');
    assert.ok(
      survivors.every((c) => c.closeCode === 1001),
      'drained calls close with 1001',
    );
  } finally {
    for (const c of clients) c.ws.terminate();
    child.kill('SIGKILL');
  }
});

test('--workers refuses 0, a negative or non-numeric count and more than 4× the cores, naming the limit (exit 2)', () => {
  const limit = 4 * availableParallelism();
  for (const bad of ['0', '-1', 'two', String(limit + 1)]) {
    const r = spawnSync(process.execPath, [MAIN, 'serve', `--workers=${bad}`], { encoding: 'utf8' });
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, new RegExp(`--workers takes auto or a whole number from 1 to ${limit}`), bad);
  }
});
