import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createEngine, ErrorCodes, PtimeError, type Call, type InboundMedia } from '../../src/index.js';
import { startCall, startEngine, until } from '../helpers/engine-fixture.js';
import { PeerThread } from '../helpers/peer-thread-host.js';
import type { PeerArrival } from '../helpers/peer-thread.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';
import { blockMain, nextCall } from '../helpers/app-thread.js';

const stampOf = (m: PeerArrival): number => readStamp(Buffer.from(m.payload!, 'base64'));
const mediaOf = (r: PeerArrival[]): PeerArrival[] => r.filter((m) => m.event === 'media');

async function waitSent(call: Call, n: number, what: string): Promise<void> {
  await until(() => call.stats().framesSent >= n, 10_000, what);
}

/** Ask the peer for what it received until `pred` holds (10 s at most). */
async function reportUntil(
  peer: PeerThread,
  pred: (r: PeerArrival[]) => boolean,
  what: string,
): Promise<PeerArrival[]> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const { received } = await peer.report();
    if (pred(received)) return received;
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what}; the peer got ${received.length} messages`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("io: 'worker': a 300 ms stall of main is not on the wire, and the inbound frames sent during it arrive after it, in order", async () => {
  const fx = await startEngine({ io: 'worker', lead: 3 });
  const calling = nextCall(fx.engine);
  const peer = await PeerThread.start(fx.url, 900_001);
  try {
    const call = await calling;
    const inbound: number[] = [];
    call.on('media', (m: InboundMedia) => inbound.push(readStamp(m.payload)));
    for (let s = 0; s < 100; s++) call.send(stampedFrame(s)); // 2 s of tone
    await waitSent(call, 10, 'playback under way');
    const sending = peer.sendMedia(5000, 25); // 500 ms of caller audio, from the peer's own clock
    await new Promise((r) => setTimeout(r, 60));
    const [stallStart, stallEnd] = blockMain(300);
    await sending;
    await until(() => inbound.length >= 25, 5000, 'the inbound frames sent during the stall');
    assert.deepEqual(
      inbound,
      Array.from({ length: 25 }, (_, k) => 5000 + k),
      'every inbound frame, in order, nothing lost',
    );
    const media = mediaOf(await reportUntil(peer, (r) => mediaOf(r).length >= 100, 'all 100 frames at the peer'));
    assert.deepEqual(
      media.map(stampOf),
      Array.from({ length: 100 }, (_, k) => k),
      'outbound in order, nothing lost',
    );
    const during = media.filter((m) => m.at > stallStart && m.at < stallEnd).length;
    assert.ok(during >= 5, `frames reached the peer during the stall (${during} of the ~15 due)`);
    let maxGap = 0;
    for (let i = 1; i < media.length; i++) maxGap = Math.max(maxGap, media[i]!.at - media[i - 1]!.at);
    // With io: 'main' this gap is the stall itself (300 ms); the bound is loose for a shared 2-core machine.
    assert.ok(
      maxGap < 200,
      `largest gap between frame arrivals ${maxGap.toFixed(1)} ms, shorter than the 300 ms stall`,
    );
    assert.equal(call.stats().drops, 0);
  } finally {
    await peer.close();
    await fx.close();
  }
});

test("io: 'worker': a mark reached during a stall leaves and is echoed during it, and settles 'played' right after", async () => {
  const fx = await startEngine({ io: 'worker', lead: 0 });
  const calling = nextCall(fx.engine);
  const peer = await PeerThread.start(fx.url, 900_002);
  try {
    const call = await calling;
    for (let s = 0; s < 5; s++) call.send(stampedFrame(s));
    const marked = call.mark('during-stall');
    for (let s = 5; s < 40; s++) call.send(stampedFrame(s));
    let settledAt = 0;
    void marked.then(() => (settledAt = performance.timeOrigin + performance.now()));
    const [, stallEnd] = blockMain(500); // the mark is due 100 ms in
    const result = await marked;
    assert.deepEqual(result, { name: 'during-stall', status: 'played' });
    assert.ok(settledAt >= stallEnd, 'settled on main, after the stall');
    const received = await reportUntil(peer, (r) => r.some((m) => m.event === 'mark'), 'the mark at the peer');
    const mark = received.find((m) => m.event === 'mark');
    assert.ok(mark && mark.at < stallEnd, 'the mark message reached the peer while main was stalled');
    const before = received
      .slice(0, received.indexOf(mark))
      .filter((m) => m.event === 'media')
      .map(stampOf);
    assert.deepEqual(before, [0, 1, 2, 3, 4], 'the mark follows exactly the audio queued before it');
  } finally {
    await peer.close();
    await fx.close();
  }
});

test("io: 'worker': clear() right after a stall: nothing queued before it reaches the socket after it", async () => {
  const fx = await startEngine({ io: 'worker', lead: 3 });
  const calling = nextCall(fx.engine);
  const peer = await PeerThread.start(fx.url, 900_003);
  try {
    const call = await calling;
    for (let s = 0; s < 100; s++) call.send(stampedFrame(s));
    const oldMark = call.mark('old');
    await waitSent(call, 5, 'playback under way');
    blockMain(200); // the I/O thread keeps sending and holds a batch in hand
    call.clear();
    for (let s = 1000; s < 1020; s++) call.send(stampedFrame(s));
    assert.deepEqual(await oldMark, { name: 'old', status: 'cleared' });
    const received = await reportUntil(
      peer,
      (r) => mediaOf(r).some((m) => stampOf(m) === 1019),
      'the new audio at the peer',
    );
    const at = received.findIndex((m) => m.event === 'clear');
    assert.ok(at > 0, 'the clear was sent');
    const after = received.slice(at + 1);
    assert.deepEqual(
      mediaOf(after).map(stampOf),
      Array.from({ length: 20 }, (_, k) => 1000 + k),
      'only the new audio after the clear',
    );
    assert.ok(!after.some((m) => m.event === 'mark'), 'no mark of the old audio after the clear');
    assert.ok(
      mediaOf(received.slice(0, at)).every((m) => stampOf(m) < 1000),
      'no new audio before the clear',
    );
  } finally {
    await peer.close();
    await fx.close();
  }
});

test("io: 'worker': the I/O thread dying closes its calls with 1011 (counted), and a new thread serves new calls on the same port", async () => {
  const fx = await startEngine({ io: 'worker' });
  try {
    const a = await fx.connect();
    const b = await fx.connect();
    const callA = await startCall(fx.engine, a);
    const callB = await startCall(fx.engine, b);
    for (let s = 0; s < 50; s++) callA.send(stampedFrame(s));
    const closes = Promise.all(
      [callA, callB].map((c) => once(c, 'close') as Promise<[{ code: number; reason: string }]>),
    );
    await fx.engine.crashIoForDiagnostics();
    const [[ca], [cb]] = (await closes) as [[{ code: number; reason: string }], [{ code: number; reason: string }]];
    assert.deepEqual([ca.code, cb.code], [1011, 1011]);
    assert.equal(fx.engine.stats().rejected[ErrorCodes.IO_FAILED], 2);
    assert.equal(fx.engine.stats().ioRestarts, 1);
    assert.equal(fx.engine.calls.size, 0, 'no lane kept by a dead socket');
    assert.ok(
      fx.logs.some((l) => l.msg.startsWith('I/O thread failed')),
      'logged',
    );
    const c = await fx.connect();
    const callC = await startCall(fx.engine, c);
    for (let s = 0; s < 10; s++) callC.send(stampedFrame(s));
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 10, 5000, 'audio through the new I/O thread');
    assert.deepEqual(
      c.media.map((m) => readStamp(Buffer.from(m.media!.payload, 'base64'))),
      Array.from({ length: 10 }, (_, k) => k),
    );
  } finally {
    await fx.close();
  }
});

test("io: 'worker': inbound media past the backlog bound while main is stalled is dropped and counted; control events never", async () => {
  const fx = await startEngine({ io: 'worker', inboundBacklogFrames: 50 });
  const calling = nextCall(fx.engine);
  const peer = await PeerThread.start(fx.url, 900_004);
  try {
    const call = await calling;
    const inbound: number[] = [];
    call.on('media', (m: InboundMedia) => inbound.push(readStamp(m.payload)));
    const sending = peer.sendMedia(0, 100); // 2 s of caller audio
    await new Promise((r) => setTimeout(r, 20));
    blockMain(2300);
    await sending;
    await peer.sendMedia(100, 5); // main caught up: the drop is reported before these
    await until(() => inbound.includes(104), 5000, 'the frames after the stall');
    const kept = inbound.filter((s) => s < 100);
    assert.ok(kept.length >= 50 && kept.length < 100, `the first frames up to the bound were kept (${kept.length})`);
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, k) => k),
      'in order, the oldest kept',
    );
    assert.deepEqual(inbound.slice(kept.length), [100, 101, 102, 103, 104]);
    await fx.engine.settled();
    assert.equal(
      fx.engine.stats().rejected[ErrorCodes.INBOUND_BACKLOG],
      1,
      'one counted rejection for the dropped run',
    );
  } finally {
    await peer.close();
    await fx.close();
  }
});

test("io: 'worker' needs ptime's own port: server and handleUpgrade() get a coded error that says why", async () => {
  const server = createServer();
  await assert.rejects(
    createEngine({ server, io: 'worker' }),
    (err: unknown) =>
      err instanceof PtimeError && err.code === ErrorCodes.INVALID_OPTION && /own listening port/.test(err.message),
  );
  const fx = await startEngine({ io: 'worker' });
  try {
    assert.throws(
      () => fx.engine.handleUpgrade({} as never, {} as never, Buffer.alloc(0)),
      (err: unknown) =>
        err instanceof PtimeError && err.code === ErrorCodes.INVALID_OPTION && /I\/O thread/.test(err.message),
    );
  } finally {
    await fx.close();
  }
});
