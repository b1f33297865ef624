import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { type Call, type MarkResult } from '../../src/index.js';
import { startEngine, until, type Fixture } from '../helpers/engine-fixture.js';
import { ListeningPeer } from '../helpers/listening-peer.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

async function callWithPeer(fx: Fixture): Promise<{ call: Call; peer: ListeningPeer; stamps: number[] }> {
  const calling = once(fx.engine, 'call') as Promise<[Call]>;
  const peer = await ListeningPeer.connect(`ws://127.0.0.1:${fx.engine.address()!.port}/media`);
  const stamps: number[] = [];
  peer.ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { event: string; media?: { payload: string } };
    if (m.event === 'media') stamps.push(readStamp(Buffer.from(m.media!.payload, 'base64')));
    else if (m.event === 'clear') stamps.push(-1);
  });
  peer.start();
  const [call] = await calling;
  return { call, peer, stamps };
}

/** A TTS-like source: `frames` stamped frames in chunks of 5, counting what was pulled and whether it was let go. */
function source(frames: number, from = 0) {
  const state = { pulled: 0, returned: false };
  async function* gen(): AsyncGenerator<Uint8Array> {
    try {
      for (let i = 0; i < frames; i += 5) {
        state.pulled += 5;
        yield Buffer.concat(Array.from({ length: 5 }, (_, k) => Buffer.from(stampedFrame(from + i + k))));
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      state.returned = true;
    }
  }
  return { state, iterable: gen() };
}

test('speak(): pulls the source with back-pressure, plays it as one utterance, resolves played with all of it heard', async () => {
  const fx = await startEngine({ lead: 3, highWaterMark: 20 });
  try {
    const { call, stamps } = await callWithPeer(fx);
    const { state, iterable } = source(100);
    const result = await call.speak(iterable, { utterance: 'greeting' });
    assert.deepEqual(result, { utterance: 'greeting', status: 'played', heardMs: 2000 });
    assert.equal(state.pulled, 100);
    assert.deepEqual(
      stamps,
      Array.from({ length: 100 }, (_, k) => k),
      'every frame, in order, none dropped by the queue',
    );
    assert.equal(call.stats().drops, 0, 'back-pressure held the queue under its bound');
  } finally {
    await fx.close();
  }
});

test('barge-in during speak(): nothing of the source after the clear, the source let go, resolves interrupted with what was heard', async () => {
  const fx = await startEngine({ lead: 3, highWaterMark: 20 });
  try {
    const { call, stamps } = await callWithPeer(fx);
    const { state, iterable } = source(500);
    const speaking = call.speak(iterable, { utterance: 'long' });
    await until(() => stamps.length >= 30, 5000, 'the utterance playing');
    const pulledAtClear = state.pulled;
    const cuts = call.clear();
    const result = await speaking;
    assert.equal(result.status, 'interrupted');
    assert.equal(result.utterance, 'long');
    assert.equal(result.heardMs, cuts[0]!.heardMs, 'heardMs as the clear reported it');
    // return() on a generator that is mid-step finishes that step first: the finally runs just after.
    await until(() => state.returned, 2000, 'the generator returned');
    assert.ok(state.pulled <= pulledAtClear + 5, `not pulled on after the clear (${pulledAtClear} → ${state.pulled})`);
    await new Promise((r) => setTimeout(r, 300));
    const clearAt = stamps.indexOf(-1);
    assert.ok(clearAt > 0);
    assert.deepEqual(stamps.slice(clearAt + 1), [], 'zero frames of the old source after the clear');
    assert.deepEqual(call.stats().clears, 1);
    assert.ok(call.stats().clearedFrames > 0);
  } finally {
    await fx.close();
  }
});

test('speak() with an AbortSignal: abort clears and resolves interrupted; a stream source is destroyed', async () => {
  const fx = await startEngine({ lead: 3, highWaterMark: 20 });
  try {
    const { call, stamps } = await callWithPeer(fx);
    const frames = Array.from({ length: 400 }, (_, k) => Buffer.from(stampedFrame(k)));
    const stream = Readable.from(frames, { objectMode: true });
    const ac = new AbortController();
    const speaking = call.speak(stream, { signal: ac.signal });
    await until(() => stamps.length >= 20, 5000, 'playing');
    ac.abort();
    const result = await speaking;
    assert.equal(result.status, 'interrupted');
    assert.ok(stamps.includes(-1) || (await until(() => stamps.includes(-1), 2000, 'the clear').then(() => true)));
    await until(() => stream.destroyed, 2000, 'the stream destroyed');
  } finally {
    await fx.close();
  }
});

test('nothing hangs when the caller hangs up: writable() resolves false, speak() resolves closed, pending marks settle closed', async () => {
  const fx = await startEngine({ lead: 3, highWaterMark: 10 });
  try {
    const { call, peer } = await callWithPeer(fx);
    call.send(Buffer.concat(Array.from({ length: 30 }, (_, k) => Buffer.from(stampedFrame(k)))));
    const waiting = call.writable();
    const mark: Promise<MarkResult> = call.mark('pending');
    const { iterable } = source(1000, 5000);
    const speaking = call.speak(iterable);
    peer.ws.terminate();
    assert.equal(await waiting, false);
    assert.equal((await speaking).status, 'closed');
    assert.deepEqual(await mark, { name: 'pending', status: 'closed' });
    assert.equal(await call.writable(), false, 'and at once on a closed call');
  } finally {
    await fx.close();
  }
});

test('nothing hangs when the engine shuts down: a producer waiting in writable() is told false when draining begins', async () => {
  const fx = await startEngine({ lead: 3, highWaterMark: 10 });
  const { call } = await callWithPeer(fx);
  call.send(Buffer.concat(Array.from({ length: 30 }, (_, k) => Buffer.from(stampedFrame(k)))));
  const waiting = call.writable();
  const closing = fx.engine.close({ drainMs: 2000 });
  assert.equal(await waiting, false);
  await closing;
  await fx.close();
});

test('the drain plays out a speak() in progress: a 3 s utterance in a 5 s drain is pulled to its end, resolves played, then 1001', async () => {
  const fx = await startEngine({ lead: 3, highWaterMark: 20, markEveryMs: 200 });
  try {
    const { call, peer, stamps } = await callWithPeer(fx);
    const closeCode = new Promise<number>((resolve) => peer.ws.once('close', (code: number) => resolve(code)));
    const { state, iterable } = source(150); // 3 s, pulled with back-pressure: most of it after the drain begins
    const speaking = call.speak(iterable, { utterance: 'goodbye' });
    await until(() => stamps.length >= 10, 5000, 'the utterance playing');
    const closing = fx.engine.close({ drainMs: 5000 });
    assert.equal(call.state, 'ending');
    assert.ok(state.pulled < 150, `the drain began with the source still being pulled (${state.pulled} of 150)`);
    assert.equal(call.send(stampedFrame(9999)), false, 'new audio from the app is refused meanwhile');
    await assert.rejects(
      ListeningPeer.connect(`ws://127.0.0.1:${fx.engine.address()!.port}/media`),
      /503/,
      'and new calls',
    );
    const result = await speaking;
    assert.deepEqual(result, { utterance: 'goodbye', status: 'played', heardMs: 3000 });
    assert.equal(state.pulled, 150);
    await closing;
    assert.equal(await closeCode, 1001);
    assert.deepEqual(
      stamps,
      Array.from({ length: 150 }, (_, k) => k),
      'every frame of it, in order',
    );
    assert.equal(call.stats().underruns, 0, "the utterance's end is not an underrun");
  } finally {
    await fx.close();
  }
});

test('a speak() longer than the drain is cut at the deadline: it resolves closed, and the source is let go', async () => {
  const fx = await startEngine({ lead: 3, highWaterMark: 20 });
  try {
    const { call, stamps } = await callWithPeer(fx);
    const { state, iterable } = source(1000); // 20 s
    const speaking = call.speak(iterable);
    await until(() => stamps.length >= 10, 5000, 'the utterance playing');
    await fx.engine.close({ drainMs: 500 });
    assert.equal((await speaking).status, 'closed');
    await until(() => state.returned, 2000, 'the generator returned');
    assert.ok(state.pulled < 1000);
  } finally {
    await fx.close();
  }
});

test("an utterance's end is not an underrun; audio that runs dry inside an utterance is one", async () => {
  const fx = await startEngine({ lead: 3, highWaterMark: 20, markEveryMs: 200 });
  try {
    const { call, stamps } = await callWithPeer(fx);
    const frames = (from: number, n: number): Buffer =>
      Buffer.concat(Array.from({ length: n }, (_, k) => Buffer.from(stampedFrame(from + k))));
    assert.equal((await call.speak(source(50).iterable)).status, 'played');
    call.send(frames(50, 20));
    call.flush(); // the app's own end of a talk spurt
    await until(() => stamps.length >= 70, 5000, 'the flushed talk played');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(call.stats().underruns, 0, 'two talks that ended: no underrun');
    call.beginUtterance('gappy');
    call.send(frames(70, 10));
    await new Promise((r) => setTimeout(r, 600)); // the producer falls behind: the carrier plays all it has
    call.send(frames(80, 10));
    call.endUtterance();
    await until(() => stamps.length >= 90, 5000, 'the rest of it');
    await until(() => call.heard('gappy')?.state === 'played', 5000, 'the utterance played');
    assert.equal(call.stats().underruns, 1, 'the gap inside the utterance, and only it');
  } finally {
    await fx.close();
  }
});
