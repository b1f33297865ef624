import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { twiml, type Call } from '../../src/index.js';
import { TwilioPeer } from '../../src/testing/index.js';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { startEngine } from '../helpers/engine-fixture.js';
import { stampedFrame } from '../helpers/seeded.js';

test("ptime/testing's TwilioPeer drives a real call: audio at 50/s, the app's echo heard at real time, DTMF, stop closes with 1000 'stop'", async () => {
  const fx = await startEngine({ lead: 3 });
  attachDemoApp(fx.engine);
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const peer = await TwilioPeer.connect(fx.url);
    peer.start({ mode: 'echo' });
    const [call] = await calling;
    const closed = once(call, 'close') as Promise<[{ code: number; reason: string }]>;
    await peer.streamAudio(Array.from({ length: 25 }, (_, k) => stampedFrame(k)));
    await peer.waitFor(() => peer.frames === 25, 5000, 'the echo');
    peer.dtmf('3');
    await peer.waitFor(() => peer.echoed.includes('dtmf-3'), 5000, 'the mark echoed after play-out');
    assert.equal(peer.playedAtClear.length, 1, 'the clear reached the peer');
    peer.stop();
    const [code, reason] = (await once(peer.ws, 'close')) as [number, Buffer];
    assert.deepEqual([code, reason.toString()], [1000, 'stop']);
    assert.deepEqual((await closed)[0], { code: 1000, reason: 'stop' });
  } finally {
    await fx.close();
  }
});

test('twiml.connectStream: the TwiML for a bidirectional stream, every value escaped; a non-WebSocket URL is refused', () => {
  assert.equal(
    twiml.connectStream({
      url: 'wss://voice.example.com/media?a=1&b=2',
      parameters: { mode: 'tone', note: '<"x" & \'y\'>' },
    }),
    '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://voice.example.com/media?a=1&amp;b=2">' +
      '<Parameter name="mode" value="tone"/><Parameter name="note" value="&lt;&quot;x&quot; &amp; &apos;y&apos;&gt;"/></Stream></Connect></Response>',
  );
  assert.throws(() => twiml.connectStream({ url: 'https://x' }), /ws:\/\/ or wss:\/\//);
});
