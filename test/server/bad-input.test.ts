import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { ErrorCodes, type ErrorCode } from '../../src/index.js';
import { startEngine, streamFrames, until } from '../helpers/engine-fixture.js';
import { payloadBytes } from '../helpers/twilio-client.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';

test('bad input is rejected, counted and logged; a control call streaming beside it is untouched', async () => {
  const fx = await startEngine({ maxPayload: 4096 });
  attachDemoApp(fx.engine);
  const seen: ErrorCode[] = [];
  fx.engine.on('rejected', (r) => seen.push(r.code));
  try {
    const control = await fx.connect();
    control.start();
    const controlAudio = streamFrames(
      control,
      Array.from({ length: 150 }, (_, k) => stampedFrame(k)),
    );

    const bad = await fx.connect();
    const send = (m: unknown) => bad.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
    // streamSid null: leave the field out entirely.
    const media = (payload: string, streamSid: string | null = bad.streamSid) =>
      send({
        event: 'media',
        ...(streamSid === null ? {} : { streamSid }),
        media: { track: 'inbound', chunk: '1', timestamp: '0', payload },
      });
    const good = Buffer.from(stampedFrame(1)).toString('base64');

    const expected: [string, () => void][] = [
      [ErrorCodes.NOT_STARTED, () => media(good)],
      [ErrorCodes.BAD_JSON, () => send('{"event":')],
      [ErrorCodes.BINARY_FRAME, () => bad.ws.send(Buffer.from([1, 2, 3]))],
      [ErrorCodes.UNKNOWN_EVENT, () => send({ event: 'dance' })],
      [ErrorCodes.BAD_MESSAGE, () => send('[1,2]')],
      [
        ErrorCodes.DUPLICATE_START,
        () => {
          bad.start();
          bad.start();
        },
      ],
      [ErrorCodes.STREAM_SID, () => media(good, 'MZ-someone-else')],
      [ErrorCodes.STREAM_SID, () => media(good, null)],
      [ErrorCodes.BAD_PAYLOAD, () => media('!'.repeat(216))],
      [ErrorCodes.PAYLOAD_SIZE, () => media(Buffer.alloc(80).toString('base64'))],
      [ErrorCodes.BAD_MESSAGE, () => send({ event: 'mark', streamSid: bad.streamSid, mark: { name: '' } })],
      [ErrorCodes.MARK_NAME, () => send({ event: 'mark', streamSid: bad.streamSid, mark: { name: 'm'.repeat(500) } })],
    ];
    for (const [code, act] of expected) {
      const before = seen.length;
      act();
      await until(() => seen.length > before, 5000, `a rejection with ${code}`);
      assert.equal(seen.at(-1), code, `expected ${code}, got ${seen.at(-1)}`);
    }
    // The bad stream is still usable after all that: its valid media still echoes.
    bad.media160(stampedFrame(42));
    await bad.waitFor((m) => m.some((x) => x.event === 'media'), 5000, 'echo on the bad stream');

    // Oversize message: ws closes that socket with 1009; counted.
    bad.ws.send('x'.repeat(5000));
    assert.equal(await bad.closed(), 1009);

    // Wrong media format on a fresh socket: refused with 1003 and never becomes a call.
    const odd = await fx.connect();
    odd.start({}, { encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 });
    assert.equal(await odd.closed(), 1003);

    await controlAudio;
    await control.waitFor((m) => m.filter((x) => x.event === 'media').length >= 150, 10_000, 'control audio');
    assert.deepEqual(
      control.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 150 }, (_, k) => k),
      'control call intact and in order',
    );

    const counted = fx.engine.stats().rejected;
    assert.equal(counted[ErrorCodes.MESSAGE_TOO_BIG], 1);
    assert.equal(counted[ErrorCodes.MEDIA_FORMAT], 1);
    assert.equal(counted[ErrorCodes.STREAM_SID], 2);
    const total = Object.values(counted).reduce((a, b) => a + b, 0);
    assert.equal(total, expected.length + 2, 'every rejection counted once');
    const controlCall = [...fx.engine.calls].find((c) => c.streamSid === control.streamSid)!;
    assert.equal(controlCall.stats().rejected, 0);
    assert.ok(fx.logs.some((l) => l.msg === 'rejected' && l['code'] === ErrorCodes.PAYLOAD_SIZE));
  } finally {
    await fx.close();
  }
});

test('rejection logs are throttled: a flood of bad messages gives one line per code per 2 s', async () => {
  const fx = await startEngine({ inboundBurst: 1000 }); // all 500 reach the parser
  try {
    const c = await fx.connect();
    c.start();
    await once(fx.engine, 'call');
    for (let i = 0; i < 500; i++) c.ws.send('not json');
    await until(() => (fx.engine.stats().rejected[ErrorCodes.BAD_JSON] ?? 0) >= 500, 5000, '500 rejections');
    const lines = fx.logs.filter((l) => l.msg === 'rejected');
    assert.equal(lines.length, 1);
    assert.equal(fx.engine.stats().rejected[ErrorCodes.BAD_JSON], 500);
  } finally {
    await fx.close();
  }
});
