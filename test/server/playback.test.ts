import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Call, Playback } from '../../src/index.js';
import { TONE_FRAME } from '../../src/demo/demo-frames.js';
import { startEngine, until } from '../helpers/engine-fixture.js';
import { ListeningPeer } from '../helpers/listening-peer.js';
import { listen } from '../helpers/peer-ear.js';

const tone = (frames: number): Buffer => Buffer.concat(Array.from({ length: frames }, () => Buffer.from(TONE_FRAME)));
/** heard()'s bound at markEveryMs 200: a mark interval, with room for a busy test machine. */
const BOUND_MS = 200 + 150;

test("'playback' says when the caller starts and stops hearing each utterance; heard() gives firstAudioMs; both feed the metrics", async () => {
  const fx = await startEngine({ markEveryMs: 200 });
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const peer = await ListeningPeer.connect(fx.url);
    peer.start();
    const [call] = await calling;
    const heard = listen(peer);
    const events: (Playback & { at: number })[] = [];
    call.on('playback', (p) => events.push({ ...p, at: performance.now() }));

    const beganA = performance.now();
    call.beginUtterance('a');
    call.send(tone(50));
    call.endUtterance();
    await until(() => events.length >= 2, 5000, 'utterance a heard and done');
    await new Promise((r) => setTimeout(r, 300));
    const beganB = performance.now();
    call.beginUtterance('b');
    call.send(tone(100));
    // The peer counts what it played since the last clear: a's second, then b's.
    await peer.waitFor(() => peer.playedNow() >= 1000 + 600, 5000, '600 ms of b played');
    call.clear();
    const clearedAt = performance.now();

    assert.deepEqual(
      events.map(({ speaking, utterance }) => ({ speaking, utterance })),
      [
        { speaking: true, utterance: 'a' },
        { speaking: false, utterance: 'a' },
        { speaking: true, utterance: 'b' },
        { speaking: false, utterance: 'b' },
      ],
    );
    const startA = heard.starts[0]!;
    const endA = heard.starts[49]! + 20;
    const startB = heard.starts[50]!;
    const near = (at: number, truth: number, what: string): void =>
      assert.ok(Math.abs(at - truth) <= BOUND_MS, `${what}: ${(at - truth).toFixed(1)} ms off the peer's play-out`);
    near(events[0]!.at, startA, 'a starts');
    near(events[1]!.at, endA, 'a ends');
    near(events[2]!.at, startB, 'b starts');
    assert.equal(events[3]!.at <= clearedAt, true, 'the stop at a clear is emitted by clear() itself');

    const a = call.heard('a')!;
    const b = call.heard('b')!;
    assert.ok(a.firstAudioMs !== null && b.firstAudioMs !== null);
    near(beganA + a.firstAudioMs, startA, 'a firstAudioMs');
    near(beganB + b.firstAudioMs, startB, 'b firstAudioMs');

    const text = await fx.engine.metrics.metrics();
    assert.match(text, /^ptime_first_audio_seconds_count 2$/m);
    assert.match(text, /^ptime_barge_in_heard_seconds_count 1$/m);
  } finally {
    await fx.close();
  }
});
