import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InboundMedia } from '../../src/index.js';
import { startEngine, until } from '../helpers/engine-fixture.js';
import { PeerThread } from '../helpers/peer-thread-host.js';
import { readStamp } from '../helpers/seeded.js';
import { nextCall } from '../helpers/app-thread.js';

/** The engine's look for listeners that went away runs every 20 ms: wait a few of them. */
const LOOKS_MS = 80;

test('inbound media reaches a listener added at any time, from the frame after it; removed and re-added listeners too', async () => {
  const fx = await startEngine();
  const calling = nextCall(fx.engine);
  const peer = await PeerThread.start(fx.url, 910_001);
  try {
    const call = await calling; // nobody listens for media at the start
    await peer.sendMedia(0, 20);
    await fx.engine.settled();

    const got: number[] = [];
    const listener = (m: InboundMedia) => got.push(readStamp(m.payload));
    call.on('media', listener);
    await fx.engine.settled(); // the socket side knows before the next frame is sent
    await peer.sendMedia(20, 20);
    await until(() => got.includes(39), 5000, 'frames 20..39');
    assert.deepEqual(
      got,
      Array.from({ length: 20 }, (_, k) => 20 + k),
      'every frame sent after the listener came, in order',
    );

    call.off('media', listener);
    await new Promise((r) => setTimeout(r, LOOKS_MS));
    await peer.sendMedia(40, 10);
    await fx.engine.settled();
    call.on('media', listener);
    await fx.engine.settled();
    await peer.sendMedia(50, 10);
    await until(() => got.includes(59), 5000, 'frames 50..59');
    assert.deepEqual(
      got.slice(20),
      Array.from({ length: 10 }, (_, k) => 50 + k),
      'a listener added again gets media again',
    );

    // removeAllListeners() takes the call's own hook with it: the engine's 20 ms look still sees a new listener.
    call.removeAllListeners();
    await new Promise((r) => setTimeout(r, LOOKS_MS));
    const after: number[] = [];
    call.on('media', (m: InboundMedia) => after.push(readStamp(m.payload)));
    await new Promise((r) => setTimeout(r, LOOKS_MS));
    await fx.engine.settled();
    await peer.sendMedia(60, 10);
    await until(() => after.includes(69), 5000, 'frames 60..69 after removeAllListeners()');
    assert.deepEqual(
      after,
      Array.from({ length: 10 }, (_, k) => 60 + k),
    );
  } finally {
    await peer.close();
    await fx.close();
  }
});

test('PCM16 delivery alone also takes inbound media', async () => {
  const fx = await startEngine();
  const calling = nextCall(fx.engine);
  const peer = await PeerThread.start(fx.url, 910_002);
  try {
    const call = await calling;
    let pcm = 0;
    call.on('pcm16', () => pcm++);
    call.enableInboundPcm16(8000);
    await fx.engine.settled();
    await peer.sendMedia(0, 20);
    await until(() => pcm >= 19, 5000, 'PCM16 events'); // the first frame may fill the resampler
  } finally {
    await peer.close();
    await fx.close();
  }
});
