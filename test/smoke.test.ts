import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../src/index.js';
import { TwilioClient, payloadBytes } from './helpers/twilio-client.js';

test('smoke: echo frames come back', async () => {
  const engine = await createEngine({ port: 0, logLevel: 'warn' });
  engine.on('call', (call) => call.on('media', (m) => call.send(m.payload)));
  const c = await TwilioClient.connect(`ws://127.0.0.1:${engine.address()!.port}/media`);
  c.start();
  for (let i = 0; i < 10; i++) c.media160(new Uint8Array(160).fill(i));
  await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 10, 5000, '10 frames');
  assert.deepEqual(c.media.map((m) => payloadBytes(m)[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  c.close();
  await engine.close();
});
