import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { ErrorCodes, type PacerRestart } from '../../src/index.js';
import { startCall, startEngine, until } from '../helpers/engine-fixture.js';
import { payloadBytes, type TwilioClient } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

function stamps(c: TwilioClient): number[] {
  return c.media.map((m) => readStamp(payloadBytes(m)));
}

test('the pacer thread crashes mid-call: it is restarted, both calls carry on in order, nothing else lost', async () => {
  const fx = await startEngine({ lead: 3 });
  attachDemoApp(fx.engine);
  try {
    const a = await fx.connect();
    const b = await fx.connect();
    await startCall(fx.engine, a);
    await startCall(fx.engine, b);
    const restarts: PacerRestart[] = [];
    fx.engine.on('pacerRestart', (r) => restarts.push(r));
    // Queue 3 s on each call (echo), crash part-way through, and keep feeding afterwards.
    for (let seq = 0; seq < 100; seq++) {
      a.media160(stampedFrame(seq));
      b.media160(stampedFrame(10_000 + seq));
    }
    await a.waitFor((m) => m.filter((x) => x.event === 'media').length >= 20, 5000, 'playback under way');
    await fx.engine.crashPacerForDiagnostics('throw');
    await until(() => restarts.length === 1, 5000, 'the pacerRestart event');
    for (let seq = 100; seq < 120; seq++) {
      a.media160(stampedFrame(seq));
      b.media160(stampedFrame(10_000 + seq));
    }
    await a.waitFor((m) => m.filter((x) => x.event === 'media').length >= 120, 10_000, 'all of call a');
    await b.waitFor((m) => m.filter((x) => x.event === 'media').length >= 120, 10_000, 'all of call b');
    assert.deepEqual(
      stamps(a),
      Array.from({ length: 120 }, (_, i) => i),
      'call a: every frame, in order, once',
    );
    assert.deepEqual(
      stamps(b),
      Array.from({ length: 120 }, (_, i) => 10_000 + i),
      'call b: every frame, in order, once',
    );
    assert.equal(restarts[0]!.attempt, 1);
    assert.match(restarts[0]!.reason, /pacer worker threw/);
    assert.equal(fx.engine.stats().pacerRestarts, 1);
    assert.ok(
      fx.logs.some((l) => l.msg === 'pacer worker restarted' && l['attempt'] === 1),
      'the restart is logged',
    );
  } finally {
    await fx.close();
  }
});

test('a pacer that keeps crashing is given up on: calls are closed with 1011, new ones refused, error emitted', async () => {
  const fx = await startEngine({});
  try {
    const a = await fx.connect();
    await startCall(fx.engine, a);
    const failed = once(fx.engine, 'error') as Promise<[Error & { code?: string }]>;
    for (let i = 0; i < 6; i++) {
      // Restarts 1..5 back off 0, 50, 100, 200, 400 ms; the 6th failure is fatal.
      const back = i < 5 ? once(fx.engine, 'pacerRestart') : null;
      await fx.engine.crashPacerForDiagnostics('exit');
      await back;
    }
    const [err] = await failed;
    assert.equal(err.code, 'PTIME_ERR_PACER_FAILED');
    assert.match(err.message, /limit: 5 restarts per 30 s/);
    assert.equal(await a.closed(), 1011);
    assert.equal(fx.engine.calls.size, 0);
    assert.equal(fx.engine.stats().pacerRestarts, 5);
    await assert.rejects(fx.connect(), /503/);
    await fx.engine.settled(); // io: 'worker': counted one I/O turn after the answer
    assert.equal(
      fx.engine.stats().rejected[ErrorCodes.PACER_FAILED],
      1,
      'the refusal is counted under the real reason, not as a shutdown',
    );
  } finally {
    await fx.close();
  }
});

test('a pacer thread that hangs is found by the watchdog and restarted; the call goes on', async () => {
  const fx = await startEngine({ lead: 3, pacerStallMs: 300 });
  attachDemoApp(fx.engine);
  try {
    const a = await fx.connect();
    await startCall(fx.engine, a);
    const restarted = once(fx.engine, 'pacerRestart') as Promise<[PacerRestart]>;
    for (let seq = 0; seq < 60; seq++) a.media160(stampedFrame(seq));
    await a.waitFor((m) => m.filter((x) => x.event === 'media').length >= 10, 5000, 'playback under way');
    await fx.engine.crashPacerForDiagnostics('hang');
    const [r] = await restarted;
    assert.equal(r.reason, 'hung');
    await a.waitFor(
      (m) => m.filter((x) => x.event === 'media').length >= 60,
      10_000,
      'the rest of the call after the restart',
    );
    assert.deepEqual(
      stamps(a),
      Array.from({ length: 60 }, (_, i) => i),
      'every frame, in order, once',
    );
    const s = fx.engine.stats();
    assert.equal(s.pacerRestarts, 1);
    assert.equal(s.pacerHangs, 1);
    assert.ok(
      fx.logs.some((l) => l.msg.startsWith('pacer thread hung') && l['pacerStallMs'] === 300),
      'the hang is logged with the limit',
    );
  } finally {
    await fx.close();
  }
});
