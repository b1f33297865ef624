import { test } from 'node:test';
import { lineOf } from '../../src/engine/call-line.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, PtimeError } from '../../src/index.js';
import WebSocket from 'ws';
import { startCall, startEngine, until } from '../helpers/engine-fixture.js';
import { payloadBytes } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

const isCode = (code: string) => (err: unknown) => err instanceof PtimeError && err.code === code;

test('stop releases the lane; the next call on it never hears the previous call', async () => {
  const fx = await startEngine({ maxCalls: 1, lead: 0 });
  try {
    const a = await fx.connect();
    const callA = await startCall(fx.engine, a);
    const laneA = lineOf(callA)!.lane.index;
    for (let seq = 0; seq < 100; seq++) callA.send(stampedFrame(seq)); // 2 s of A queued
    a.stop();
    await once(callA, 'close');
    assert.equal(fx.engine.calls.size, 0);
    assert.equal(callA.state, 'closed');
    assert.equal(callA.send(stampedFrame(0)), false, 'send() after the hang-up queues nothing and says so');

    const b = await fx.connect(); // maxCalls 1: this only works if A's lane was released
    const callB = await startCall(fx.engine, b);
    assert.equal(lineOf(callB)!.lane.index, laneA, 'the lane is recycled');
    for (let seq = 5000; seq < 5005; seq++) callB.send(stampedFrame(seq));
    await b.waitFor((m) => m.filter((x) => x.event === 'media').length >= 5, 5000, 'B audio');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      b.media.map((m) => readStamp(payloadBytes(m))),
      [5000, 5001, 5002, 5003, 5004],
    );
  } finally {
    await fx.close();
  }
});

test('a socket that closes mid-stream releases its lane and settles its marks', async () => {
  const fx = await startEngine({ maxCalls: 1 });
  try {
    const a = await fx.connect();
    const call = await startCall(fx.engine, a);
    for (let seq = 0; seq < 50; seq++) call.send(stampedFrame(seq));
    const mark = call.mark('never-played');
    const closed = once(call, 'close');
    a.ws.terminate(); // abrupt: no close handshake
    await closed;
    assert.equal((await mark).status, 'closed');
    assert.equal(fx.engine.calls.size, 0);
    const b = await fx.connect();
    const next = once(fx.engine, 'call');
    b.start();
    await next; // the single lane was free again
  } finally {
    await fx.close();
  }
});

test('with maxCalls streams open a new upgrade gets 503 + Retry-After before any WebSocket, counted', async () => {
  const fx = await startEngine({ maxCalls: 1, retryAfterSec: 7 });
  try {
    const a = await fx.connect();
    a.start();
    await once(fx.engine, 'call');
    const refused = await upgradeStatus(fx.url);
    assert.deepEqual(refused, { status: 503, retryAfter: '7' });
    // With io: 'worker' the count reaches main one I/O turn after the answer.
    await until(() => fx.engine.stats().rejected[ErrorCodes.TOO_MANY_CALLS] !== undefined, 2000, 'the refusal counted');
    assert.equal(fx.engine.stats().rejected[ErrorCodes.TOO_MANY_CALLS], 1);
    // The slot comes back when the stream stops, even before its socket closes.
    a.stop();
    await until(() => fx.engine.calls.size === 0, 5000, 'the call released');
    const b = await fx.connect();
    await startCall(fx.engine, b);
  } finally {
    await fx.close();
  }
});

test('sockets count against maxCalls from the upgrade on, before their start message', async () => {
  const fx = await startEngine({ maxCalls: 2 });
  try {
    const a = await fx.connect();
    const b = await fx.connect(); // both admitted: two slots
    const c = await fx.connect().catch((e: Error) => e);
    assert.match(String(c), /503/, 'a third socket is refused at the upgrade');
    a.start();
    await once(fx.engine, 'call');
    b.start();
    await once(fx.engine, 'call');
    assert.equal(fx.engine.calls.size, 2);
  } finally {
    await fx.close();
  }
});

/** The HTTP answer to a WebSocket upgrade, read off the raw response. */
function upgradeStatus(url: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('upgrade was accepted')));
    ws.on('error', () => undefined);
  });
}

test('misuse of the API gets typed errors naming the limit', async () => {
  const fx = await startEngine({ maxMarkNameBytes: 16 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    assert.throws(() => call.mark(''), isCode(ErrorCodes.MARK_NAME));
    assert.throws(
      () => call.mark('x'.repeat(17)),
      (e: unknown) => isCode(ErrorCodes.MARK_NAME)(e) && /16/.test((e as Error).message),
    );
    assert.throws(() => call.send('abc' as unknown as Uint8Array), isCode(ErrorCodes.INVALID_AUDIO));
    call.close();
    assert.equal(await c.closed(), 1000);
    // After the end nothing throws for the end's sake; bad arguments still throw, in any state.
    assert.equal(call.send(new Uint8Array(160)), false);
    assert.equal(call.flush(), false);
    assert.deepEqual(await call.mark('m'), { name: 'm', status: 'closed' });
    assert.deepEqual(call.clear(), []);
    assert.throws(() => call.mark(''), isCode(ErrorCodes.MARK_NAME));
    assert.throws(() => call.send('abc' as unknown as Uint8Array), isCode(ErrorCodes.INVALID_AUDIO));
    assert.throws(() => call.sendPcm16(new Int16Array(10), 11025 as 8000), isCode(ErrorCodes.SAMPLE_RATE));
  } finally {
    await fx.close();
  }
  await assert.rejects(startEngine({ queue: 5000 }), isCode(ErrorCodes.QUEUE_BOUND));
  await assert.rejects(startEngine({ lead: -1 }), isCode(ErrorCodes.INVALID_OPTION));
});

test('engine.close(): sockets closed with 1001, and no handle is left to keep the process alive', async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../helpers/close-and-exit.js', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(killer);
  assert.equal(signal, null, 'the process exited by itself (it was not killed after 10 s)');
  assert.equal(code, 0);
  assert.equal(out.trim(), 'closed 1001');
});
