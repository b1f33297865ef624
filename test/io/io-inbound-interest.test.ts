import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/index.js';
import { startEngine, until } from '../helpers/engine-fixture.js';
import { PeerThread } from '../helpers/peer-thread-host.js';
import { blockMain, nextCall } from '../helpers/app-thread.js';

test("io: 'worker': a call nobody listens to keeps its media on the I/O thread (a main stall drops nothing); with a listener it crosses", async () => {
  const fx = await startEngine({ io: 'worker', inboundBacklogFrames: 50 });
  const calling = nextCall(fx.engine);
  const peer = await PeerThread.start(fx.url, 910_003);
  try {
    const call = await calling;
    await fx.engine.settled();
    const sending = peer.sendMedia(0, 100);
    await new Promise((r) => setTimeout(r, 20));
    blockMain(1500);
    await sending;
    await fx.engine.settled();
    assert.equal(fx.engine.stats().rejected[ErrorCodes.INBOUND_BACKLOG], undefined, 'nothing crossed, nothing dropped');

    let got = 0;
    call.on('media', () => got++);
    await fx.engine.settled();
    const again = peer.sendMedia(100, 100);
    await new Promise((r) => setTimeout(r, 20));
    blockMain(1500);
    await again;
    await peer.sendMedia(200, 1);
    await until(() => (fx.engine.stats().rejected[ErrorCodes.INBOUND_BACKLOG] ?? 0) === 1, 5000, 'the drop reported');
    assert.ok(got >= 50 && got < 101, `with a listener the media crossed up to the backlog bound (${got})`);
  } finally {
    await peer.close();
    await fx.close();
  }
});
