import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { ErrorCodes } from '../../src/index.js';
import { startEngine, startCall, until } from '../helpers/engine-fixture.js';
import { payloadBytes } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

/** A slowloris peer: an upgrade request that never ends, one header line every `everyMs`. */
function trickle(
  port: number,
  everyMs: number,
): { socket: Socket; connected: Promise<void>; closed: Promise<void>; answer: () => string } {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (answer += d));
  socket.on('error', () => undefined); // a reset is one way the server may close it
  let timer: NodeJS.Timeout | undefined;
  const connected = new Promise<void>((resolve) =>
    socket.once('connect', () => {
      socket.write('GET /media HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      let n = 0;
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(`X-Slow-${n++}: 1\r\n`);
      }, everyMs);
      resolve();
    }),
  );
  // Not events.once: it would reject on the reset that is one way the server closes it.
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve();
    }),
  );
  return { socket, connected, closed, answer: () => answer };
}

test('thousands of half-open upgrades that trickle their headers are closed after upgradeTimeoutMs, counted, while a real call streams unharmed', async () => {
  const fx = await startEngine({ lead: 3, upgradeTimeoutMs: 1500, maxPendingUpgrades: 5000 });
  const port = fx.engine.address()!.port;
  const slow: ReturnType<typeof trickle>[] = [];
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    // In batches the listen backlog takes: a connection the kernel refuses never reaches the server.
    for (let batch = 0; batch < 10; batch++) {
      const more = Array.from({ length: 200 }, () => trickle(port, 400));
      slow.push(...more);
      await Promise.all(more.map((s) => s.connected));
    }
    for (let seq = 0; seq < 100; seq++) call.send(stampedFrame(seq)); // 2 s of audio through the attack
    // Node's own header timeout is 60 s: without the deadline none would close in this window.
    await until(() => slow.every((s) => s.socket.destroyed), 20_000, 'every trickling socket closed by the server');
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 100, 10_000, 'the real call');
    assert.deepEqual(
      c.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 100 }, (_, k) => k),
      'every frame of the real call, in order',
    );
    await fx.engine.settled();
    assert.equal(fx.engine.stats().rejected[ErrorCodes.UPGRADE_TIMEOUT], 2000);
    assert.equal(call.state, 'open');
  } finally {
    for (const s of slow) s.socket.destroy();
    await fx.close();
  }
});

test('past maxPendingUpgrades a new connection gets 503 at once, counted; real calls connect again once the half-open ones are gone', async () => {
  const fx = await startEngine({ lead: 3, upgradeTimeoutMs: 1500, maxPendingUpgrades: 50 });
  const port = fx.engine.address()!.port;
  const slow: ReturnType<typeof trickle>[] = [];
  try {
    for (let i = 0; i < 50; i++) slow.push(trickle(port, 300));
    await until(() => slow.every((s) => s.socket.readyState === 'open'), 5000, 'the first 50 connected');
    await new Promise((r) => setTimeout(r, 100)); // accepted by the server too
    const over = Array.from({ length: 20 }, () => trickle(port, 300));
    await Promise.all(over.map((s) => s.closed));
    for (const s of over) assert.match(s.answer(), /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    await fx.engine.settled();
    assert.equal(fx.engine.stats().rejected[ErrorCodes.PENDING_UPGRADES], 20);
    await Promise.all(slow.map((s) => s.closed)); // the deadline frees their places
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    call.send(stampedFrame(7));
    await c.waitFor((m) => m.some((x) => x.event === 'media'), 5000, 'a frame on the new call');
  } finally {
    for (const s of slow) s.socket.destroy();
    await fx.close();
  }
});
