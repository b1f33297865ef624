import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createEngine, ErrorCodes, PtimeError } from '../../src/index.js';
import { listenFailure } from '../../src/server/listen-failure.js';
import { IO_MODE } from '../helpers/engine-fixture.js';

const silent = pino({ level: 'silent' });

/** Another process's server, as far as the engine can tell: it holds a loopback port. */
async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** The rejection createEngine gave, checked to be a PTIME_ERR_LISTEN with `errno` as its cause. */
async function listenRefusal(options: { port: number; host: string }, errno: string): Promise<PtimeError> {
  let refused: unknown = null;
  await assert.rejects(
    createEngine({ ...options, io: IO_MODE, logger: silent }),
    (err: unknown) => ((refused = err), true),
  );
  assert.ok(refused instanceof PtimeError, `a PtimeError, not ${String(refused)}`);
  assert.equal(refused.code, ErrorCodes.LISTEN);
  assert.equal((refused.cause as NodeJS.ErrnoException | undefined)?.code, errno, 'the listen error is the cause');
  return refused;
}

test(`io: '${IO_MODE}': an engine on a taken port rejects with PTIME_ERR_LISTEN naming the address and the reason`, async () => {
  const { server, port } = await holdPort();
  try {
    const err = await listenRefusal({ port, host: '127.0.0.1' }, 'EADDRINUSE');
    assert.equal(err.message, `cannot listen on 127.0.0.1:${port}: the address is in use (EADDRINUSE)`);
  } finally {
    server.close();
  }
});

test(`io: '${IO_MODE}': an address that is not this machine's rejects with PTIME_ERR_LISTEN (EADDRNOTAVAIL) in words`, async () => {
  // 192.0.2.0/24 is reserved for documentation (RFC 5737): no machine holds it.
  const err = await listenRefusal({ port: 0, host: '192.0.2.1' }, 'EADDRNOTAVAIL');
  assert.equal(err.message, "cannot listen on 192.0.2.1:0: the address is not one of this machine's (EADDRNOTAVAIL)");
});

test(`io: '${IO_MODE}': a failed start leaves nothing open: the process exits by itself`, async () => {
  const { server, port } = await holdPort();
  try {
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../helpers/listen-taken-and-exit.js', import.meta.url)), String(port)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(killer);
    assert.equal(out.trim(), ErrorCodes.LISTEN);
    assert.equal(signal, null, 'the process exited by itself (it was not killed after 10 s)');
    assert.equal(code, 0);
  } finally {
    server.close();
  }
});

test('listen errors in words: IPv6 hosts in brackets, no host as every address, an unknown errno keeps its own message', () => {
  const errno = (code: string, message = `listen ${code}`): Error => Object.assign(new Error(message), { code });
  assert.equal(
    listenFailure(errno('EACCES'), 80, '::1').message,
    'cannot listen on [::1]:80: permission denied; ports below 1024 need privileges (EACCES)',
  );
  assert.equal(
    listenFailure(errno('EADDRINUSE'), 8080, undefined).message,
    'cannot listen on port 8080 (every address): the address is in use (EADDRINUSE)',
  );
  const odd = listenFailure(errno('EWEIRD', 'listen EWEIRD: something odd 0.0.0.0:9'), 9, '0.0.0.0');
  assert.equal(odd.message, 'cannot listen on 0.0.0.0:9: listen EWEIRD: something odd 0.0.0.0:9');
  assert.equal(odd.code, ErrorCodes.LISTEN);
  assert.equal(
    listenFailure(errno('EADDRINUSE'), 9100, '127.0.0.1', '--metrics-port: ').message,
    '--metrics-port: cannot listen on 127.0.0.1:9100: the address is in use (EADDRINUSE)',
  );
});
