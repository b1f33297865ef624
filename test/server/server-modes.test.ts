import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import WebSocket from 'ws';
import { upgradeStatus } from '../helpers/upgrade-status.js';
import { pino } from 'pino';
import { createEngine, type Engine } from '../../src/index.js';
import { startCall } from '../helpers/engine-fixture.js';
import { TwilioClient } from '../helpers/twilio-client.js';

const silent = pino({ level: 'silent' });

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

async function answersACall(engine: Engine, url: string): Promise<void> {
  const c = await TwilioClient.connect(url);
  const call = await startCall(engine, c);
  call.send(new Uint8Array(160).fill(0xff));
  await c.waitFor((m) => m.some((x) => x.event === 'media'), 5000, 'a frame');
  c.close();
}

test('attached to an existing http.Server on a path, leaving other upgrade paths alone', async () => {
  const server = createServer((_req, res) => res.end('app'));
  let otherUpgrades = 0;
  server.on('upgrade', (req, socket) => {
    if (req.url === '/other') {
      otherUpgrades++;
      socket.destroy();
    }
  });
  const port = await listen(server);
  const engine = await createEngine({ server, path: '/twilio', logger: silent });
  try {
    assert.equal(engine.address(), null);
    await answersACall(engine, `ws://127.0.0.1:${port}/twilio?token=abc`);
    const other = new WebSocket(`ws://127.0.0.1:${port}/other`);
    await once(other, 'error').catch(() => undefined);
    assert.equal(otherUpgrades, 1, 'the app still handles its own upgrade path');
  } finally {
    await engine.close();
    server.close();
  }
});

test("attached, alone on the server: an upgrade on another path gets 404 at once ('reject'), or is left alone ('ignore')", async () => {
  const server = createServer((_req, res) => res.end('app'));
  const port = await listen(server);
  const engine = await createEngine({ server, path: '/twilio', logger: silent });
  try {
    assert.equal(
      await upgradeStatus(`ws://127.0.0.1:${port}/elsewhere`, {}),
      404,
      'no other listener: refused, not left hanging',
    );
    assert.equal(engine.options.otherPaths, 'reject');
  } finally {
    await engine.close();
    server.close();
  }
  await assert.rejects(
    createEngine({ port: 0, otherPaths: 'drop' as 'ignore', logger: silent }),
    (e: Error & { code?: string }) => e.code === 'PTIME_ERR_INVALID_OPTION' && /otherPaths/.test(e.message),
  );
  const server2 = createServer((_req, res) => res.end('app'));
  const port2 = await listen(server2);
  const engine2 = await createEngine({ server: server2, path: '/twilio', logger: silent, otherPaths: 'ignore' });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${port2}/elsewhere`, { handshakeTimeout: 300 });
    const outcome = await new Promise<string>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(`status ${res.statusCode}`));
      ws.once('error', (err) => resolve(err.message.includes('timed out') ? 'unanswered' : err.message));
    });
    assert.equal(outcome, 'unanswered', "'ignore' leaves it to whoever else listens");
  } finally {
    await engine2.close();
    server2.closeAllConnections();
    server2.close();
  }
});

test('handleUpgrade from your own upgrade handler (Express/Fastify style)', async () => {
  const engine = await createEngine({ logger: silent });
  const server = createServer();
  server.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/voice/')) engine.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  const port = await listen(server);
  try {
    await answersACall(engine, `ws://127.0.0.1:${port}/voice/abc`);
  } finally {
    await engine.close();
    server.close();
  }
});

test('own server: 404 on other paths, 426 for plain HTTP, no permessage-deflate', async () => {
  const engine = await createEngine({ port: 0, host: '127.0.0.1', logger: silent });
  const port = engine.address()!.port;
  try {
    const wrong = new WebSocket(`ws://127.0.0.1:${port}/nope`);
    const [, res] = (await once(wrong, 'unexpected-response')) as [unknown, { statusCode: number }];
    assert.equal(res.statusCode, 404);
    const plain = await fetch(`http://127.0.0.1:${port}/media`);
    assert.equal(plain.status, 426);
    await plain.text();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/media`, { perMessageDeflate: true });
    await once(ws, 'open');
    assert.equal(ws.extensions, '', 'the server declined permessage-deflate');
    ws.close();
  } finally {
    await engine.close();
  }
});
