import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fc from 'fast-check';
import WebSocket from 'ws';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { CARRIER_NAMES, ErrorCodes, type Call, type CarrierName } from '../../src/index.js';
import { CARRIER_SIDES } from '../../src/loadtest/carrier-side.js';
import { DEFAULT_CARRIER_PATHS } from '../../src/protocol/carriers.js';
import { startEngine, until, type Fixture } from '../helpers/engine-fixture.js';
import { TwilioClient } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

/*
 * Every dialect fuzzed on a live engine: after a valid opening, a socket of each carrier gets a
 * generated script of that carrier's own messages with one field replaced by anything, random
 * JSON, text that is not JSON, and binary messages of any size; then a DTMF. Whatever the script
 * did, the server answers that DTMF with the carrier's clear (or the socket was closed with a
 * policy or format code, never 1011), counts at most one rejection per message, and a Twilio
 * control call streaming the whole time gets every frame back, in order.
 */
const SEED = Number(process.env['PTIME_FUZZ_SEED'] ?? 0xca771e5);
const RUNS = Number(process.env['PTIME_FUZZ_RUNS_PER_CARRIER'] ?? 60);

type Msg = string | Buffer;

function mutateJson(text: string, pick: number, value: unknown): string {
  const msg = JSON.parse(text) as Record<string, unknown>;
  // The fields of the message and of its first-level objects, in a stable order.
  const paths: [Record<string, unknown>, string][] = [];
  for (const [k, v] of Object.entries(msg)) {
    paths.push([msg, k]);
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      for (const k2 of Object.keys(v)) paths.push([v as Record<string, unknown>, k2]);
  }
  const [obj, key] = paths[pick % paths.length]!;
  obj[key] = value;
  return JSON.stringify(msg) ?? 'null';
}

function scriptOf(carrier: CarrierName): fc.Arbitrary<Msg[]> {
  const side = CARRIER_SIDES[carrier];
  const templates = [
    ...side.opening('fz-s', 'fz-c', 'echo'),
    side.media('fz-s', 3),
    side.dtmf('fz-s', '5'),
    side.stop('fz-s', 'fz-c'),
  ].filter((m): m is string => typeof m === 'string');
  const one: fc.Arbitrary<Msg> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...templates), fc.nat(), fc.anything({ maxDepth: 2 }))
        .map(([t, pick, v]) => mutateJson(t, pick, v)),
    },
    { weight: 2, arbitrary: fc.json({ depthSize: 'small' }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.constantFrom(...templates) },
  );
  return fc.array(one, { maxLength: 8 });
}

async function runScript(fx: Fixture, carrier: CarrierName, script: Msg[]): Promise<void> {
  const side = CARRIER_SIDES[carrier];
  const ws = new WebSocket(`ws://127.0.0.1:${fx.engine.address()!.port}${DEFAULT_CARRIER_PATHS[carrier]}`);
  await once(ws, 'open');
  let code: number | null = null;
  let cleared = false;
  ws.on('close', (c) => (code = c));
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) return;
    try {
      if (side.isClear(JSON.parse(data.toString()) as Record<string, unknown>)) cleared = true;
    } catch {
      // not JSON: the assertions below catch a server that sends garbage through what it answers
    }
  });
  const before = Object.values(fx.engine.stats().rejected).reduce((a, b) => a + b, 0);
  const calling = once(fx.engine, 'call') as Promise<[Call]>;
  for (const m of side.opening('fz-s', 'fz-c', 'echo')) ws.send(m);
  const [call] = await calling;
  for (const m of script) ws.send(m, { binary: typeof m !== 'string' });
  ws.send(side.dtmf('fz-s', '9'));
  // A generated stop may have ended the stream first (its socket may stay open, as Twilio's does).
  await until(
    () => cleared || code !== null || call.isClosed,
    5000,
    `${carrier}: the clear for the DTMF, or the stream ended`,
  );
  if (code !== null)
    assert.ok(code === 1003 || code === 1008 || code === 1000 || code === 1005, `${carrier}: closed with ${code}`);
  await fx.engine.settled();
  const after = Object.values(fx.engine.stats().rejected).reduce((a, b) => a + b, 0);
  assert.ok(
    after - before <= script.length + 1,
    `${carrier}: ${after - before} rejections for ${script.length} messages`,
  );
  ws.terminate();
  await until(() => fx.engine.calls.size === 1, 5000, `${carrier}: the fuzzed call released`);
}

test('every carrier dialect, fuzzed: coded rejections only, the DTMF still answered, a control call unharmed', async () => {
  const routes = Object.fromEntries(CARRIER_NAMES.map((c) => [DEFAULT_CARRIER_PATHS[c], c]));
  const fx = await startEngine({ routes, maxCalls: 8 }, 'silent');
  attachDemoApp(fx.engine);
  const control = await TwilioClient.connect(`ws://127.0.0.1:${fx.engine.address()!.port}/media`);
  control.start({ mode: 'echo' });
  await until(() => fx.engine.calls.size === 1, 5000, 'the control call');
  let sent = 0;
  const streaming = setInterval(() => control.media160(stampedFrame(sent++)), 20);
  try {
    for (const [i, carrier] of CARRIER_NAMES.entries()) {
      await fc.assert(
        fc.asyncProperty(scriptOf(carrier), (script) => runScript(fx, carrier, script)),
        { seed: SEED + i, numRuns: RUNS, endOnFailure: true },
      );
    }
  } finally {
    clearInterval(streaming);
  }
  try {
    await control.waitFor(
      (m) => m.filter((x) => x.event === 'media').length >= sent,
      10_000,
      'every control frame echoed',
    );
    const stamps = control.media.map((m) => readStamp(Buffer.from(m.media!.payload, 'base64')));
    assert.deepEqual(
      stamps,
      Array.from({ length: sent }, (_, k) => k),
      'the control call lost nothing and kept its order',
    );
    const rejected = fx.engine.stats().rejected;
    for (const code of [
      ErrorCodes.BAD_JSON,
      ErrorCodes.UNKNOWN_EVENT,
      ErrorCodes.PAYLOAD_SIZE,
      ErrorCodes.BINARY_FRAME,
      ErrorCodes.BAD_MESSAGE,
    ]) {
      assert.ok((rejected[code] ?? 0) > 0, `the scripts reached the ${code} check (${JSON.stringify(rejected)})`);
    }
  } finally {
    await fx.close();
  }
});
