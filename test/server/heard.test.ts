import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ErrorCodes, type Call, type Interruption, type MarkResult } from '../../src/index.js';
import { TONE_FRAME } from '../../src/demo/demo-frames.js';
import { startEngine, until, type Fixture } from '../helpers/engine-fixture.js';
import { ListeningPeer } from '../helpers/listening-peer.js';

const FRAME_MS = 20;
const tone = (ms: number): Buffer =>
  Buffer.concat(Array.from({ length: ms / FRAME_MS }, () => Buffer.from(TONE_FRAME)));

async function callWithPeer(fx: Fixture): Promise<{ call: Call; peer: ListeningPeer }> {
  const calling = once(fx.engine, 'call') as Promise<[Call]>;
  const peer = await ListeningPeer.connect(`ws://127.0.0.1:${fx.engine.address()!.port}/media`);
  peer.start();
  const [call] = await calling;
  return { call, peer };
}

test('heard(): confirmed ≤ what the caller really heard ≤ … and the estimate stays within a mark interval of it; internal marks never reach the app; utterancePlayed fires', async () => {
  const fx = await startEngine({ lead: 3, markEveryMs: 200 });
  try {
    const { call, peer } = await callWithPeer(fx);
    const appMarks: MarkResult[] = [];
    call.on('mark', (r) => appMarks.push(r));
    const played: string[] = [];
    call.on('utterancePlayed', ({ utterance }) => played.push(utterance));
    assert.equal(call.heard(), null, 'no audio yet');
    assert.equal(call.beginUtterance('hello'), 'hello');
    call.send(tone(1600));
    void call.mark('app-1');
    const samples: { truth: number; heard: number; confirmed: number; sent: number }[] = [];
    await peer.waitFor(() => peer.frames >= 10, 5000, 'audio flowing');
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 130));
      const h = call.heard()!;
      const truth = peer.playedNow();
      assert.equal(h.utterance, 'hello');
      assert.equal(h.exact, true);
      samples.push({ truth, heard: h.heardMs, confirmed: h.confirmedMs, sent: h.sentMs });
    }
    for (const s of samples) {
      assert.ok(
        s.confirmed <= s.truth + 1,
        `confirmed ${s.confirmed} ms is at most what was played (${s.truth.toFixed(1)})`,
      );
      assert.ok(
        s.confirmed <= s.heard && s.heard <= s.sent,
        `confirmed ${s.confirmed} ≤ heard ${s.heard} ≤ sent ${s.sent}`,
      );
      // The bound of the model: a mark interval plus the lead, with room for a busy test machine.
      assert.ok(Math.abs(s.heard - s.truth) <= 200 + 60 + 150, `heard ${s.heard} vs truth ${s.truth.toFixed(1)}`);
    }
    call.endUtterance();
    await until(() => played.includes('hello'), 8000, 'the utterance confirmed played');
    const done = call.heard('hello')!;
    assert.deepEqual(
      { state: done.state, heardMs: done.heardMs, confirmedMs: done.confirmedMs, sentMs: done.sentMs },
      { state: 'played', heardMs: 1600, confirmedMs: 1600, sentMs: 1600 },
    );
    await until(() => appMarks.length === 1, 5000, 'the app mark');
    assert.deepEqual(appMarks, [{ name: 'app-1', status: 'played' }], 'only the app’s own mark surfaced');
    assert.ok(
      call.stats().internalMarks >= 8,
      `${call.stats().internalMarks} internal marks (every 200 ms of 1.6 s, and the end)`,
    );
    assert.ok(
      peer.echoed.some((n) => n.startsWith('ptime.')),
      'the carrier saw and echoed the engine’s marks',
    );
  } finally {
    await fx.close();
  }
});

test('clear(): reports each cut utterance with what was heard, freezes it, ignores late acknowledgements of cleared audio; audio after it is a new utterance', async () => {
  const fx = await startEngine({ lead: 3, markEveryMs: 200 });
  try {
    const { call, peer } = await callWithPeer(fx);
    const events: Interruption[] = [];
    call.on('interrupted', (i) => events.push(i));
    const appMarks: MarkResult[] = [];
    call.on('mark', (r) => appMarks.push(r));
    // 2 s and its marks stay under the 120-slot queue: nothing is dropped at the bound.
    call.beginUtterance('first');
    call.send(tone(400));
    call.beginUtterance('second');
    call.send(tone(1600));
    void call.mark('after-second');
    await until(() => call.heard()?.utterance === 'second' && call.heard()!.heardMs >= 300, 8000, 'second playing');
    const cuts = call.clear();
    assert.deepEqual(
      cuts.map((c) => c.utterance),
      ['second'],
      'first had played; second is cut',
    );
    assert.deepEqual(events, cuts, "each cut is emitted as 'interrupted'");
    const cut = cuts[0]!;
    assert.equal(cut.droppedMs, 1600 - cut.heardMs);
    assert.ok(cut.heardMs <= cut.sentMs);
    const frozen = call.heard('second')!;
    assert.equal(frozen.state, 'cleared');
    assert.equal(frozen.heardMs, cut.heardMs);
    await peer.waitFor(() => peer.playedAtClear.length === 1, 5000, 'the clear at the peer');
    const real = peer.playedAtClear[0]! - 400; // the peer counts from its last clear: first and second both
    assert.ok(
      Math.abs(cut.heardMs - real) <= 100 + 60 + 150,
      `heard ${cut.heardMs} vs really played ${real.toFixed(1)}`,
    );
    // The peer echoes what it held (Twilio does): those are of cleared audio and change nothing.
    await until(() => appMarks.length === 1, 5000, 'the app mark settled');
    assert.deepEqual(appMarks, [{ name: 'after-second', status: 'cleared' }]);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(call.heard('second'), frozen, 'frozen: late acknowledgements of cleared audio are ignored');
    assert.equal(call.heard('first')!.state, 'played');
    call.send(tone(200));
    await until(() => call.heard()?.state === 'playing' || call.heard()?.state === 'queued', 5000, 'new audio');
    assert.notEqual(call.heard()!.utterance, 'second', 'audio after a clear starts a new (implicit) utterance');
  } finally {
    await fx.close();
  }
});

test('utterance boundaries follow the call’s order across codec-pool jobs: audio sent before beginUtterance stays in the earlier one', async () => {
  const fx = await startEngine({ lead: 3, codecPoolMinMs: 0 });
  try {
    const { call } = await callWithPeer(fx);
    call.beginUtterance('pooled');
    call.sendPcm16(new Int16Array(16000).fill(1200), 16000); // 1 s, converted on the pool
    call.beginUtterance('after');
    call.send(tone(400));
    call.endUtterance();
    const sentOf = (id: string): number => {
      try {
        return call.heard(id)?.sentMs ?? -1;
      } catch {
        return -1; // not begun yet: it waits behind the pool job
      }
    };
    await until(() => sentOf('after') === 400, 10_000, 'everything sent');
    assert.equal(call.heard('pooled')!.sentMs, 1000, 'the pool job’s audio, whole, in the first utterance');
    assert.equal(call.heard('after')!.sentMs, 400);
  } finally {
    await fx.close();
  }
});

test('heard() goes on through a pacer restart', async () => {
  const fx = await startEngine({ lead: 3 });
  try {
    const { call } = await callWithPeer(fx);
    const played: string[] = [];
    call.on('utterancePlayed', ({ utterance }) => played.push(utterance));
    call.beginUtterance('through');
    call.send(tone(1000));
    call.endUtterance();
    await until(() => (call.heard('through')?.sentMs ?? 0) >= 200, 5000, 'audio flowing');
    await fx.engine.crashPacerForDiagnostics('throw');
    await until(() => played.includes('through'), 10_000, 'the utterance played to its end after the restart');
    assert.equal(call.heard('through')!.heardMs, 1000);
  } finally {
    await fx.close();
  }
});

test('utterance ids and heard(): coded errors naming the limit; nothing queued is lost', async () => {
  const fx = await startEngine({ lead: 3 });
  try {
    const { call } = await callWithPeer(fx);
    const is = (code: string, re: RegExp) => (e: Error & { code?: string }) => e.code === code && re.test(e.message);
    call.beginUtterance('a');
    call.send(tone(200));
    assert.throws(() => call.beginUtterance(''), is(ErrorCodes.UTTERANCE, /non-empty/));
    assert.throws(() => call.beginUtterance('x'.repeat(257)), is(ErrorCodes.UTTERANCE, /257 bytes; the limit is 256/));
    assert.throws(() => call.beginUtterance('a'), is(ErrorCodes.UTTERANCE, /already in use/));
    assert.throws(() => call.heard('never'), is(ErrorCodes.UTTERANCE, /among the last 32/));
    assert.throws(() => void call.mark('ptime.h1'), is(ErrorCodes.MARK_NAME, /ptime's own/));
    assert.equal(call.queueDepth > 0 || call.heard('a')!.sentMs > 0, true, 'the audio queued before is still there');
    await until(() => call.heard('a')?.sentMs === 200, 5000, 'sent in full');
    for (let i = 0; i < 40; i++) call.beginUtterance(`n${i}`);
    assert.throws(() => call.heard('a'), is(ErrorCodes.UTTERANCE, /aged out/));
    call.close();
    assert.equal(call.beginUtterance('late'), 'late', 'after the end it returns the id and begins nothing');
    assert.equal(call.heard('late'), null);
    assert.throws(() => call.beginUtterance(''), is(ErrorCodes.UTTERANCE, /non-empty/), 'a bad id still throws');
  } finally {
    await fx.close();
  }
});

test('a carrier that never echoes marks: the engine stops adding its own at 64 unsettled (counted, one warning), loses no audio, and starts again once echoes come', async () => {
  const { startCall } = await import('../helpers/engine-fixture.js');
  const fx = await startEngine({ lead: 3, markEveryMs: 40 });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    // 200 frames would bring 100 of the engine's marks; sent 40 at a time so none falls off the queue.
    for (let k = 0; k < 5; k++) {
      call.send(tone(800));
      await c.waitFor(
        (m) => m.filter((x) => x.event === 'media').length >= (k + 1) * 40,
        8000,
        `${(k + 1) * 40} frames`,
      );
    }
    const s = call.stats();
    assert.equal(s.internalMarks, 64, 'MAX_INTERNAL_MARKS_UNSETTLED of them went out');
    assert.equal(s.internalMarksSkipped, 100 - 64);
    assert.equal(s.drops, 0);
    assert.equal(c.media.length, 200, 'every frame was sent');
    const warnings = fx.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('MAX_INTERNAL_MARKS_UNSETTLED'));
    assert.equal(warnings.length, 1, 'one warning for the call, not one per skipped mark');
    // The carrier catches up: every mark it got is echoed, and the engine marks again.
    for (const m of c.received.filter((x) => x.event === 'mark')) c.echoMark(m.mark!.name);
    await until(() => call.heard()!.confirmedMs === 64 * 40, 5000, 'the echoes settled');
    call.send(tone(400));
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 220, 8000, '20 more frames');
    await until(() => call.stats().internalMarks === 64 + 10, 5000, 'the engine marks again');
  } finally {
    await fx.close();
  }
});
