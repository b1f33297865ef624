import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startEngine, until } from '../helpers/engine-fixture.js';
import { TwilioClient } from '../helpers/twilio-client.js';
import { stampedFrame } from '../helpers/seeded.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** `ptime serve --port 0 --metrics-port 0 …` with the ports it bound. */
async function serve(extra: string[] = []) {
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', '0', '--log-level', 'info', ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise<{ port: number; metricsPort: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
    createInterface({ input: child.stdout }).on('line', (text) => {
      try {
        const l = JSON.parse(text) as { msg?: string; port?: number; metricsPort?: number };
        if (l.msg?.startsWith('ptime serving')) resolve({ port: l.port!, metricsPort: l.metricsPort! });
      } catch {
        // not a log line
      }
    });
  });
  const get = async (path: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(`http://127.0.0.1:${line.metricsPort}${path}`);
    return { status: res.status, text: await res.text() };
  };
  return { child, exited, ...line, get, url: `ws://127.0.0.1:${line.port}/media` };
}

/**
 * Prometheus text format, strictly: HELP/TYPE comments or `name{labels} value`, nothing else
 * (values as Go's ParseFloat reads them: prom-client writes NaN as "Nan").
 */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const l of text.split('\n')) {
    if (l === '') continue;
    if (/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(l)) continue;
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?)|[+-]?Inf|NaN|Nan)$/i.exec(
        l,
      );
    assert.ok(m, `not a Prometheus line: ${JSON.stringify(l)}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

test('ptime serve --metrics-port: /metrics is Prometheus text whose counters move with a real call; /readyz turns not-ready during the drain, before the listener closes', async () => {
  const s = await serve(['--drain-ms', '3000']);
  try {
    assert.equal((await s.get('/healthz')).status, 200);
    assert.equal((await s.get('/readyz')).status, 200);
    const before = parsePrometheus((await s.get('/metrics')).text);
    assert.equal(before.get('ptime_calls_started_total'), 0);
    assert.ok(before.has('process_cpu_user_seconds_total'), "prom-client's default process metrics");

    const c = await TwilioClient.connect(s.url);
    c.start({ mode: 'echo' });
    for (let k = 0; k < 20; k++) c.media160(stampedFrame(k));
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 20, 10_000, 'echo');
    c.dtmf('4');
    await c.waitFor((m) => m.some((x) => x.event === 'mark' && x.mark?.name === 'dtmf-4'), 10_000, 'the mark');
    c.echoMark('dtmf-4');
    c.stop();
    await once(c.ws, 'close');
    let after = parsePrometheus((await s.get('/metrics')).text);
    for (let i = 0; i < 50 && after.get('ptime_marks_total{outcome="played"}') !== 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = parsePrometheus((await s.get('/metrics')).text);
    }
    assert.equal(after.get('ptime_calls_started_total'), 1);
    assert.equal(after.get('ptime_calls_ended_total{code="1000"}'), 1);
    assert.ok(after.get('ptime_frames_sent_total')! >= 20, `frames sent ${after.get('ptime_frames_sent_total')}`);
    assert.equal(after.get('ptime_clears_total'), 1);
    assert.equal(after.get('ptime_marks_total{outcome="played"}'), 1);
    assert.equal(after.get('ptime_active_calls'), 0);

    // A call streaming, then SIGTERM: not ready at once, while the listener still answers.
    const t = await TwilioClient.connect(s.url);
    t.start({ mode: 'tone' });
    await t.waitFor((m) => m.filter((x) => x.event === 'media').length >= 5, 10_000, 'tone');
    s.child.kill('SIGTERM');
    let ready = await s.get('/readyz');
    for (let i = 0; i < 100 && ready.status !== 503; i++) {
      await new Promise((r) => setTimeout(r, 20));
      ready = await s.get('/readyz');
    }
    assert.equal(ready.status, 503, 'not ready during the drain');
    assert.match(ready.text, /draining/);
    assert.equal((await s.get('/healthz')).status, 200, 'still alive while it drains');
    assert.equal(await s.exited, 0);
  } finally {
    s.child.kill('SIGKILL');
  }
});

test('/healthz fails when the pacer stops ticking (a hung pacer with the watchdog off)', async () => {
  const fx = await startEngine({ pacerStallMs: 0 });
  try {
    assert.equal(fx.engine.health().alive, true);
    const c = await fx.connect();
    c.start({});
    await until(() => fx.engine.calls.size === 1, 5000, 'a call');
    void fx.engine.crashPacerForDiagnostics('hang').catch(() => undefined);
    await until(() => !fx.engine.health().alive, 5000, 'health to notice the pacer stood still');
    assert.match(fx.engine.health().reason, /ticks stood still/);
  } finally {
    await fx.close();
  }
});

test('--metrics-port equal to --port, or taken, exits 2 naming the flag before any call is accepted', async () => {
  const same = spawnSync(process.execPath, [MAIN, 'serve', '--port', '9123', '--metrics-port', '9123'], {
    encoding: 'utf8',
  });
  assert.equal(same.status, 2);
  assert.match(same.stderr, /--metrics-port must differ from --port/);
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const port = (taken.address() as { port: number }).port;
  try {
    const busy = spawnSync(
      process.execPath,
      [MAIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', String(port)],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(busy.status, 2);
    assert.equal(
      busy.stderr,
      `ptime: PTIME_ERR_LISTEN: --metrics-port: cannot listen on 127.0.0.1:${port}: the address is in use (EADDRINUSE)\n`,
    );
  } finally {
    taken.close();
  }
});
