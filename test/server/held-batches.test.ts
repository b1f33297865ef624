import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Call, PacerStats } from '../../src/index.js';
import { startEngine, startCall, until } from '../helpers/engine-fixture.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';
import { payloadBytes } from '../helpers/twilio-client.js';

// A socket that still holds a view into a hand-back batch (ws queued the frame without copying it)
// keeps that batch from the pacer until the socket has written it out or closed; then it goes back.
// Left to the GC instead, every such batch made the pacer allocate a 64 KB buffer that the sending
// thread freed later. Here the holders are calls whose peer sent its close but has not finished the
// closing handshake: ws counts what is sent meanwhile as buffered until the socket closes.

const ROUNDS = 8;
/** Rounds before the pool of batch buffers has grown to what this many calls keep in flight. */
const WARM_ROUNDS = 2;
const CALLS = 6;

test('peers that hang up mid-stream: the batches their sockets held go back to the pacer, which stops allocating; another call keeps every frame', async () => {
  const fx = await startEngine({ lead: 3, figuresIntervalMs: 100, queue: 1024, highWaterMark: 1024 });
  const allocations = async (): Promise<number> => {
    const [s] = (await once(fx.engine, 'pacerStats')) as [PacerStats];
    return s.batchAllocations;
  };
  try {
    const control = await fx.connect();
    const controlCall = await startCall(fx.engine, control);
    let sent = 0;
    const feed = setInterval(() => {
      while (controlCall.queueDepth < 10) controlCall.send(stampedFrame(sent++));
    }, 20);
    let afterFirst = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const peers = await Promise.all(Array.from({ length: CALLS }, () => fx.connect()));
        const calls: Call[] = [];
        for (const p of peers) calls.push(await startCall(fx.engine, p));
        for (const call of calls) for (let seq = 0; seq < 100; seq++) call.send(stampedFrame(seq));
        await until(() => peers.every((p) => p.media.length >= 5), 10_000, 'audio on every call');
        for (const p of peers) {
          p.ws.close(1000, 'bye');
          // It reads nothing more: the server's side stays in the closing handshake, sending into ws.
          (p.ws as unknown as { _socket: { pause(): void } })._socket.pause();
          await new Promise((r) => setTimeout(r, 30)); // one by one: each holds a batch of its own
        }
        await new Promise((r) => setTimeout(r, 300));
        for (const p of peers) p.ws.terminate();
        await until(() => calls.every((c) => c.isClosed), 10_000, 'the calls closed');
        if (round === WARM_ROUNDS - 1) afterFirst = await allocations();
      }
      // Batches parked while sockets held them are back once the next batch arrives after the close.
      await new Promise((r) => setTimeout(r, 200));
      const end = await allocations();
      // A slower main keeps more batches out at once, so the pool may still grow a little (bounded).
      assert.ok(
        end - afterFirst <= 8,
        `the pacer allocated ${end - afterFirst} batch buffers over ${ROUNDS - WARM_ROUNDS} rounds of ${CALLS} calls hanging up (${afterFirst} before)`,
      );
    } finally {
      clearInterval(feed);
    }
    assert.ok(sent >= 100, `the control call queued ${sent} frames`);
    await control.waitFor((m) => m.filter((x) => x.event === 'media').length >= sent, 10_000, 'control audio');
    const seqs = control.media.map((m) => readStamp(payloadBytes(m)));
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i),
      'the control call: every frame, in order, none written over',
    );
  } finally {
    await fx.close();
  }
});
