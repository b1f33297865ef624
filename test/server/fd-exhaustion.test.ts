import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { until } from '../helpers/engine-fixture.js';
import { TwilioClient } from '../helpers/twilio-client.js';

const SERVER = fileURLToPath(new URL('../helpers/fd-limit-server.js', import.meta.url));

/** A connection that only holds a descriptor of the server's (it never sends a byte). */
function idle(port: number): Socket {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined); // refused or reset: one way the server may treat it
  return s;
}

async function newCall(url: string): Promise<TwilioClient> {
  const c = await TwilioClient.connect(url);
  c.ws.on('error', () => undefined);
  c.start();
  await c.waitFor((m) => m.some((x) => x.event === 'media'), 3000, 'audio on a new call');
  return c;
}

test('out of descriptors (ulimit -n 96): connections past the limit are refused without a crash, any accept error logged once per period, a call in progress keeps streaming, new calls work again once descriptors free up', async () => {
  // The shell sets the limit for the engine's process alone.
  const child = spawn('bash', ['-c', 'ulimit -n 96 && exec "$0" "$@"', process.execPath, SERVER], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: process.env,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines: Record<string, unknown>[] = [];
  let port = 0;
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    if (port === 0 && typeof line['port'] === 'number') port = line['port'];
    else lines.push(line);
  });
  const held: Socket[] = [];
  try {
    await until(() => port !== 0, 20_000, 'the engine listening');
    const url = `ws://127.0.0.1:${port}/media`;
    const a = await newCall(url);
    for (let i = 0; i < 150; i++) held.push(idle(port));
    // libuv answers EMFILE by accepting and closing at once what it cannot keep (its reserved
    // descriptor trick): those peers see their connection closed.
    await until(() => held.filter((s) => s.destroyed).length >= 50, 10_000, 'connections past the limit refused');
    const before = a.media.length;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(child.exitCode, null, 'the engine is still running');
    assert.ok(
      a.media.length - before >= 25,
      `the call in progress kept streaming: ${a.media.length - before} frames in 1 s`,
    );
    // An accept error that does reach Node (when libuv cannot drain the backlog) is logged, at
    // most once per 2 s: never one line per connection.
    const failures = lines.filter((l) => l['msg'] === 'connections could not be accepted (the listener stays open)');
    assert.ok(failures.length <= 2, `accept failures logged once per period: ${failures.length} lines`);
    for (const s of held) s.destroy();
    // The descriptors free up as the server sees those peers go: a new call works again.
    let b: TwilioClient | null = null;
    const deadline = performance.now() + 15_000;
    while (b === null && performance.now() < deadline) {
      b = await newCall(url).catch(() => null);
      if (b === null) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(b !== null, 'a new call connected and got audio after the descriptors freed up');
    a.ws.close();
    b.ws.close();
    child.stdin.write('stop\n');
    assert.equal(await exited, 0);
  } finally {
    for (const s of held) s.destroy();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
