import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import WebSocket from 'ws';
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
