import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, type Call, type MarkResult } from '../../src/index.js';
import { ImpairmentProxy } from '../../src/loadtest/impairment-proxy.js';
import { rawText } from '../../src/server/raw-data.js';
import { TwilioPeer } from '../../src/testing/index.js';
import { startEngine, until, type Fixture } from '../helpers/engine-fixture.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

/** A peer through the proxy, recording each outbound frame's stamp and arrival time. */
async function peerVia(proxy: ImpairmentProxy): Promise<{ peer: TwilioPeer; got: { seq: number; at: number }[] }> {
  const peer = await TwilioPeer.connect(proxy.url('/media'));
  const got: { seq: number; at: number }[] = [];
  peer.ws.on('message', (data) => {
    const msg = JSON.parse(rawText(data)) as { event: string; media?: { payload: string } };
    if (msg.event === 'media')
      got.push({ seq: readStamp(Buffer.from(msg.media!.payload, 'base64')), at: performance.now() });
  });
  return { peer, got };
}

/** The engine's next call, once `peer` has started it (one at a time); its inbound stamps are recorded in order. */
async function callOf(fx: Fixture, peer: TwilioPeer): Promise<{ call: Call; inbound: number[] }> {
  const started = once(fx.engine, 'call') as Promise<[Call]>;
  peer.start();
  const [call] = await started;
  const inbound: number[] = [];
  call.on('media', (m) => inbound.push(readStamp(m.payload)));
  return { call, inbound };
}

const frames = (n: number): Uint8Array[] => Array.from({ length: n }, (_, k) => stampedFrame(k));
const isIncreasing = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

/** Play `n` stamped frames the way a TTS does: fill to the high-water mark, top up on 'drain'. */
function play(call: Call, n: number): void {
  let seq = 0;
  const fill = (): void => {
    // send() takes the frame and returns false at the high-water mark: wait for 'drain' then.
    while (seq < n && call.send(stampedFrame(seq++)));
    if (seq === n) call.off('drain', fill);
  };
  call.on('drain', fill);
  fill();
}

test('jitter (40 ± 10 ms) and 1 % of 20 ms intervals stalled 200–400 ms, both ways: no call is closed, no frame is dropped (slow peer or otherwise), every frame arrives in order both ways, marks settle', async () => {
  const fx = await startEngine({ markEveryMs: 200 });
  const proxy = await ImpairmentProxy.start({ targetPort: fx.engine.address()!.port, seed: 26 });
  const CALLS = 6;
  const FRAMES = 200; // 4 s each way
  try {
    const legs: { peer: TwilioPeer; got: { seq: number; at: number }[]; call: Call; inbound: number[] }[] = [];
    for (let i = 0; i < CALLS; i++) {
      const { peer, got } = await peerVia(proxy);
      legs.push({ peer, got, ...(await callOf(fx, peer)) });
    }
    const marks = legs.map(({ call }) => {
      play(call, FRAMES);
      return call.mark('end');
    });
    await Promise.all(legs.map(({ peer }) => peer.streamAudio(frames(FRAMES))));
    const settled: MarkResult[] = await Promise.all(marks);
    // Polled: `got` is filled by this test's own listener, which runs after the peer's, so a wait
    // the peer re-checks on its messages can miss the last frame.
    for (const { got, peer } of legs)
      await until(() => got.length >= FRAMES && peer.echoed.includes('end'), 10_000, 'every frame and the mark');
    await until(() => legs.every(({ inbound }) => inbound.length >= FRAMES), 10_000, 'every inbound frame at the app');
    assert.ok(proxy.stats().stalls >= 5, `the link stalled (${proxy.stats().stalls} stalls)`);
    for (const { got, inbound, call, peer } of legs) {
      assert.deepEqual(
        got.map((g) => g.seq),
        Array.from({ length: FRAMES }, (_, k) => k),
        'every outbound frame, once, in order',
      );
      assert.deepEqual(
        inbound,
        Array.from({ length: FRAMES }, (_, k) => k),
        'every inbound frame, in order',
      );
      const s = call.stats();
      assert.equal(s.slowPeerDrops, 0, 'nothing dropped as slow peer');
      assert.equal(s.drops, 0);
      assert.equal(call.isClosed, false, 'the call is up');
      assert.equal(peer.ws.readyState, peer.ws.OPEN);
      assert.equal(s.internalMarksSkipped, 0, "the engine's own marks kept settling");
    }
    assert.deepEqual(
      settled.map((m) => m.status),
      legs.map(() => 'played'),
    );
    const rejected = fx.engine.stats().rejected;
    assert.equal(rejected[ErrorCodes.SLOW_PEER], undefined, 'no slow-peer refusal');
    assert.equal(rejected[ErrorCodes.INBOUND_RATE], undefined, 'a stall released at once is not a flood');
  } finally {
    await proxy.close();
    await fx.close();
  }
});

test('all traffic held 2 s mid-call: the calls survive, what comes after arrives in order, a relay with maxQueuedMs 200 is back within it (one without keeps the 2 s, inside the 120-frame queue bound), marks settle', async () => {
  const fx = await startEngine({ markEveryMs: 200 });
  // No stalls: the delay after the hold is then the hold's alone.
  const proxy = await ImpairmentProxy.start({ targetPort: fx.engine.address()!.port, seed: 26, stallChance: 0 });
  const FRAMES = 300; // 6 s spoken
  const CUT_AT_MS = 1500;
  const CUT_MS = 2000;
  try {
    const legs: {
      boundMs: number;
      peer: TwilioPeer;
      got: { seq: number; at: number }[];
      call: Call;
      inbound: number[];
    }[] = [];
    for (const boundMs of [200, 0]) {
      const { peer, got } = await peerVia(proxy);
      const { call, inbound } = await callOf(fx, peer);
      call.setMaxQueuedMs(boundMs);
      // A relay: what the caller says goes back out as it comes in.
      call.on('media', (m) => call.send(m.payload));
      legs.push({ boundMs, peer, got, call, inbound });
    }
    const t0 = performance.now();
    setTimeout(() => proxy.cutFor(CUT_MS), CUT_AT_MS);
    await Promise.all(legs.map(({ peer }) => peer.streamAudio(frames(FRAMES))));
    const recovered = t0 + CUT_AT_MS + CUT_MS + 1000;
    for (const { got, call } of legs) {
      await until(() => got.at(-1)?.seq === FRAMES - 1, 10_000, 'the echo of the last frame');
      const m = await call.mark('end');
      assert.equal(m.status, 'played', 'a mark after the hold settles');
    }
    for (const { boundMs, got, inbound, call, peer } of legs) {
      assert.deepEqual(
        inbound,
        Array.from({ length: FRAMES }, (_, k) => k),
        'every inbound frame, in order',
      );
      const seqs = got.map((g) => g.seq);
      assert.ok(isIncreasing(seqs), 'what plays after the hold is in order, nothing repeated');
      const s = call.stats();
      // drops counts every frame dropped from the queue, latencyDrops those of them past the bound.
      assert.equal(
        seqs.length + s.drops,
        FRAMES,
        `each frame played or counted as dropped (${seqs.length} + ${s.drops})`,
      );
      assert.equal(s.slowPeerDrops, 0, 'the hold is not a slow peer');
      assert.equal(call.isClosed, false);
      assert.equal(peer.ws.readyState, peer.ws.OPEN);
      // The delay a caller hears from a relay: a frame's echo arriving − when the frame was spoken.
      const after = got.filter((g) => t0 + g.seq * 20 >= recovered).map((g) => g.at - (t0 + g.seq * 20));
      assert.ok(after.length >= 20, `frames spoken after recovery came back (${after.length})`);
      const delay = after.sort((a, b) => a - b)[after.length >> 1]!;
      if (boundMs > 0) {
        // The bound, the lead (60 ms), 40 ± 10 ms each way, and a busy machine's slack.
        assert.ok(delay < boundMs + 500, `delay after recovery ${delay.toFixed(0)} ms, bound ${boundMs} ms`);
        assert.ok(s.latencyDrops >= 50, `the held audio beyond the bound was dropped, counted (${s.latencyDrops})`);
      } else {
        assert.ok(delay > CUT_MS - 500, `without a bound the relay keeps the hold (${delay.toFixed(0)} ms)`);
        assert.ok(delay < 2400 + 500, `…inside the queue bound (120 frames): ${delay.toFixed(0)} ms`);
      }
    }
    const rejected = fx.engine.stats().rejected;
    assert.equal(rejected[ErrorCodes.SLOW_PEER], undefined);
    assert.equal(
      rejected[ErrorCodes.INBOUND_RATE],
      undefined,
      'the held inbound audio released at once is not a flood',
    );
  } finally {
    await proxy.close();
    await fx.close();
  }
});
