import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { ServerProcess } from '../../bench/lib/server-process.js';

// The admission flags as an operator uses them: a spawned `ptime serve`, real upgrades from real
// clients, and the HTTP answer each gets before any WebSocket exists.

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const TOKEN = 'cli-auth-token-0123456789abcdef';
const sign = (url: string, token = TOKEN): string => createHmac('sha1', token).update(url).digest('base64');

interface Attempt {
  status: number;
  retryAfter?: string;
  ws?: WebSocket;
}

/** An upgrade: 101 with the open socket, or the refusal's HTTP status. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<Attempt> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

test('serve --twilio-auth-token --public-url --max-calls: 403 unsigned or forged, 101 signed, 503 + Retry-After when full', async () => {
  const publicUrl = 'wss://voice.example.com/media';
  const server = await ServerProcess.start(MAIN, [
    'serve',
    '--twilio-auth-token',
    TOKEN,
    '--public-url',
    publicUrl,
    '--max-calls',
    '1',
  ]);
  const open: WebSocket[] = [];
  try {
    const url = server.url();
    assert.equal((await upgrade(url)).status, 403, 'no signature');
    assert.equal(
      (await upgrade(url, { 'X-Twilio-Signature': sign(publicUrl, 'another-token') })).status,
      403,
      'signed with another token',
    );
    assert.equal(
      (await upgrade(url, { 'X-Twilio-Signature': sign(url) })).status,
      403,
      'signed for the URL as seen locally, not the public one',
    );
    const first = await upgrade(url, { 'X-Twilio-Signature': sign(publicUrl) });
    assert.equal(first.status, 101, 'signed for the public URL');
    open.push(first.ws!);
    const second = await upgrade(url, { 'X-Twilio-Signature': sign(publicUrl) });
    assert.equal(second.status, 503, 'one call over --max-calls 1');
    assert.equal(second.retryAfter, '5');
  } finally {
    open.forEach((ws) => ws.terminate());
    assert.equal(await server.stop(), 0);
  }
});

test('serve takes the auth token from TWILIO_AUTH_TOKEN; without --public-url the URL is built from the Host header', async () => {
  const server = await ServerProcess.start(MAIN, ['serve'], { ...process.env, TWILIO_AUTH_TOKEN: TOKEN });
  try {
    const url = server.url();
    assert.equal((await upgrade(url)).status, 403, 'no signature');
    const ok = await upgrade(url, { 'X-Twilio-Signature': sign(url) });
    assert.equal(ok.status, 101);
    ok.ws!.terminate();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('serve without a token (flag or environment) does not check signatures', async () => {
  const env = { ...process.env };
  delete env['TWILIO_AUTH_TOKEN'];
  const server = await ServerProcess.start(MAIN, ['serve'], env);
  try {
    const ok = await upgrade(server.url());
    assert.equal(ok.status, 101);
    ok.ws!.terminate();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
