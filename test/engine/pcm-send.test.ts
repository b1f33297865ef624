import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { SampleRate } from '../../src/codec/sample-rates.js';
import { mulawDecode, mulawEncode, Resampler, type Call, type MarkResult } from '../../src/index.js';
import { startCall, startEngine, type Fixture } from '../helpers/engine-fixture.js';
import { payloadBytes, type TwilioClient } from '../helpers/twilio-client.js';
import { readStamp, seeded, stampedFrame } from '../helpers/seeded.js';

/** TTS-like audio: two tones plus a little noise, seeded. */
function speech(rate: number, ms: number, seed: number): Int16Array {
  const rnd = seeded(seed);
  const n = Math.round((rate * ms) / 1000);
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    x[i] = Math.round(
      9000 * Math.sin(2 * Math.PI * 440 * t) + 5000 * Math.sin(2 * Math.PI * 1870 * t) + 800 * (rnd() - 0.5),
    );
  }
  return x;
}

/** What the framer must emit for `bytes`: whole frames, the remainder padded with mu-law silence. */
function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 160) * 160).fill(0xff);
  out.set(bytes);
  return out;
}

function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The reference: one Resampler over the whole signal, tail included. */
function convertWhole(x: Int16Array, rate: number): Int16Array {
  const r = new Resampler(rate, 8000);
  const body = r.process(x);
  const tail = r.flush();
  const all = new Int16Array(body.length + tail.length);
  all.set(body);
  all.set(tail, body.length);
  return all;
}

/** The wire as a list: media payload bytes and mark names, in arrival order. */
function wire(c: TwilioClient): (Uint8Array | string)[] {
  return c.received
    .filter((m) => m.event === 'media' || m.event === 'mark')
    .map((m) => (m.event === 'media' ? payloadBytes(m) : `mark:${m.mark!.name}`));
}

function mediaBytes(c: TwilioClient): Uint8Array {
  return join(c.received.filter((m) => m.event === 'media').map(payloadBytes));
}

async function withCall(
  opts: Parameters<typeof startEngine>[0],
  body: (fx: Fixture, c: TwilioClient, call: Call) => Promise<void>,
): Promise<void> {
  const fx = await startEngine({ lead: 50, queue: 256, highWaterMark: 200, ...opts });
  try {
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    await body(fx, c, call);
  } finally {
    await fx.close();
  }
}

for (const [label, poolMinMs] of [
  ['inline', 1_000_000],
  ['pool', 0],
] as const) {
  test(`sendPcm16 (${label}): 24 kHz TTS in random chunks plays exactly the one-piece conversion`, async () => {
    await withCall({ codecPoolMinMs: poolMinMs, codecThreads: 2 }, async (fx, c, call) => {
      const x = speech(24000, 1200, 1);
      const rnd = seeded(2);
      for (let i = 0; i < x.length;) {
        const size = 1 + Math.floor(rnd() * 4000);
        call.sendPcm16(x.subarray(i, Math.min(x.length, i + size)), 24000);
        i += size;
      }
      call.flush();
      const expected = padded(mulawEncode(convertWhole(x, 24000)));
      await c.waitFor(() => mediaBytes(c).length >= expected.length, 10_000, 'all the audio');
      assert.equal(expected.length, 60 * 160, '1.2 s is 60 frames');
      assert.deepEqual(mediaBytes(c), expected);
      if (label === 'pool') assert.ok(fx.engine.stats().codec.jobs > 0, 'the pool ran jobs');
      else assert.equal(fx.engine.stats().codec.jobs, 0, 'inline never touches the pool');
      assert.equal(call.stats().codecPendingFrames, 0);
    });
  });
}

test('sendPcm16 keeps the order of send() and mark() while pool jobs finish out of order', async () => {
  for (const seed of [3, 4, 5]) {
    await withCall({ codecPoolMinMs: 0, codecThreads: 2 }, async (_fx, c, call) => {
      const big = speech(48000, 600, seed); // a long job ...
      const small = speech(48000, 40, seed + 10); // ... and a short one behind it, on another thread
      const x = stampedFrame(7);
      const y = stampedFrame(8);
      call.sendPcm16(big, 48000);
      call.send(x);
      call.sendPcm16(small, 48000);
      const marked = call.mark('m1');
      call.send(y);
      assert.ok(call.stats().codecPendingFrames > 0, 'the big chunk is still in the pool');

      const r = new Resampler(48000, 8000);
      const beforeMark = padded(
        join([mulawEncode(r.process(big)), x, mulawEncode(r.process(small)), mulawEncode(r.flush())]),
      );
      await c.waitFor(
        (m) => m.filter((e) => e.event === 'media').length >= beforeMark.length / 160 + 1,
        10_000,
        'everything',
      );
      const got = wire(c);
      const markAt = got.indexOf('mark:m1');
      assert.equal(
        markAt,
        beforeMark.length / 160,
        `seed ${seed}: the mark comes right after the audio sent before it`,
      );
      assert.deepEqual(
        join(got.slice(0, markAt) as Uint8Array[]),
        beforeMark,
        `seed ${seed}: PCM, bytes, PCM, tail, in call order`,
      );
      assert.equal(got.length, markAt + 2);
      assert.equal(readStamp(got[markAt + 1] as Uint8Array), 8, 'send() after the mark plays after it');
      c.echoMark('m1');
      assert.deepEqual(await marked, { name: 'm1', status: 'played' });
    });
  }
});

test('send() behind a pool job counts against highWaterMark: a fill loop stops, drain fires, nothing is dropped', async () => {
  await withCall(
    { codecPoolMinMs: 0, queue: 120, highWaterMark: 50, lowWaterMark: 25, lead: 3 },
    async (_fx, c, call) => {
      call.sendPcm16(speech(24000, 200, 20), 24000); // 10 frames, converting on the pool
      call.flush(); // the resampler's tail completes frame 10, so the bytes below start on a frame edge
      let accepted = 0;
      while (accepted < 1000 && call.send(stampedFrame(accepted))) accepted++;
      const sent = accepted + 1; // the send() that said "stop" queued its frame too
      // Before any of it reaches the ring: 10 converting + `sent` waiting behind the job (+ the tail).
      assert.ok(
        sent >= 35 && sent <= 40,
        `send() said stop after ${sent} frames: the job's 10 plus those waiting reach highWaterMark 50`,
      );
      await once(call, 'drain');
      await c.waitFor((m) => m.filter((e) => e.event === 'media').length >= 10 + sent, 10_000, 'all the audio');
      const stamps = c.media.slice(10).map((m) => readStamp(payloadBytes(m)));
      assert.deepEqual(
        stamps,
        Array.from({ length: sent }, (_, i) => i),
        'the bytes after the PCM, in order',
      );
      assert.equal(call.stats().drops, 0);
    },
  );
});

test('clear() while a pool job is out: its audio never plays, the mark behind it is cleared', async () => {
  await withCall({ codecPoolMinMs: 0, lead: 3 }, async (fx, c, call) => {
    const results: MarkResult[] = [];
    call.sendPcm16(speech(48000, 3000, 6), 48000);
    const pending = call.mark('behind-the-job');
    call.clear();
    assert.deepEqual(await pending, { name: 'behind-the-job', status: 'cleared' });
    call.on('mark', (r) => results.push(r));
    for (let seq = 1000; seq < 1005; seq++) call.send(stampedFrame(seq));
    await c.waitFor((m) => m.filter((e) => e.event === 'media').length >= 5, 5000, 'post-clear audio');
    const jobs = fx.engine.stats().codec.jobs;
    assert.equal(jobs, 1);
    await new Promise((r) => setTimeout(r, 300)); // the pool job has long finished by now
    const media = c.received.filter((m) => m.event === 'media').map((m) => readStamp(payloadBytes(m)));
    assert.deepEqual(media, [1000, 1001, 1002, 1003, 1004], 'only the audio sent after clear()');
    assert.equal(call.stats().codecPendingFrames, 0);
    assert.deepEqual(results, []);
  });
});

test('sendPcm16 refuses bad input with a coded error and queues nothing; the call and its neighbour carry on', async () => {
  await withCall({ codecPoolMinMs: 0 }, async (fx, c, call) => {
    const other = await fx.connect();
    const otherCall = await startCall(fx.engine, other);
    for (let seq = 0; seq < 20; seq++) otherCall.send(stampedFrame(seq));
    const bad: [unknown, number, string, RegExp][] = [
      [new Uint8Array(321), 16000, 'PTIME_ERR_INVALID_AUDIO', /odd byte length \(321\)/],
      [
        new Int16Array(320),
        11025,
        'PTIME_ERR_SAMPLE_RATE',
        /unsupported sendPcm16 sample rate 11025; supported: 8000, 16000, 22050, 24000, 44100, 48000/,
      ],
      [new Int16Array(0), 16000, 'PTIME_ERR_INVALID_AUDIO', /empty \(0 samples\)/],
      [new Uint8Array(0), 16000, 'PTIME_ERR_INVALID_AUDIO', /empty \(0 samples\)/],
      [
        Float32Array.of(0, 0.5, Number.NaN),
        16000,
        'PTIME_ERR_INVALID_AUDIO',
        /sample 2 is NaN; float samples must be finite and within \[-1, 1\]/,
      ],
      [Float32Array.of(0, 1.5), 16000, 'PTIME_ERR_INVALID_AUDIO', /sample 1 is 1\.5/],
      [Float32Array.of(Number.NEGATIVE_INFINITY), 16000, 'PTIME_ERR_INVALID_AUDIO', /sample 0 is -Infinity/],
      [[1, 2, 3], 16000, 'PTIME_ERR_INVALID_AUDIO', /got Array/],
      ['abc', 16000, 'PTIME_ERR_INVALID_AUDIO', /got string/],
    ];
    // Bad rates on purpose: the runtime check must catch what the type would.
    for (const [audio, rate, code, message] of bad) {
      assert.throws(
        () => call.sendPcm16(audio as Int16Array, rate as SampleRate),
        (e: unknown) => e instanceof Error && (e as { code?: string }).code === code && message.test(e.message),
        `${String(audio)} @ ${rate}`,
      );
    }
    assert.equal(call.queueDepth, 0);
    assert.equal(call.stats().codecPendingFrames, 0);
    assert.equal(fx.engine.stats().codec.jobs, 0, 'nothing reached the pool');
    // The same call still works, and the first good chunk starts a clean stream.
    call.sendPcm16(speech(16000, 100, 9), 16000);
    call.flush();
    await c.waitFor((m) => m.filter((e) => e.event === 'media').length >= 5, 5000, 'the good chunk');
    assert.deepEqual(mediaBytes(c), padded(mulawEncode(convertWhole(speech(16000, 100, 9), 16000))));
    await other.waitFor((m) => m.filter((e) => e.event === 'media').length >= 20, 5000, 'the neighbour');
    assert.deepEqual(
      other.media.map((m) => readStamp(payloadBytes(m))),
      Array.from({ length: 20 }, (_, i) => i),
    );
    call.close();
    assert.equal(call.sendPcm16(new Int16Array(10), 16000), false, 'a closed call queues nothing and says so');
    assert.throws(
      () => call.sendPcm16(new Int16Array(0), 16000),
      (e: unknown) => (e as { code?: string }).code === 'PTIME_ERR_INVALID_AUDIO',
    );
  });
});

test('sendPcm16 takes s16le bytes and floats in [-1, 1] as the same audio as an Int16Array', async () => {
  const x = speech(22050, 400, 11);
  const expected = padded(mulawEncode(convertWhole(x, 22050)));
  const bytes = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  const floats = Float32Array.from(x, (v) => v / 32768);
  for (const input of [bytes, floats]) {
    await withCall({}, async (_fx, c, call) => {
      call.sendPcm16(input, 22050);
      call.flush();
      await c.waitFor(() => mediaBytes(c).length >= expected.length, 5000, 'the audio');
      assert.deepEqual(mediaBytes(c), expected, input.constructor.name);
    });
  }
});

test('inbound audio as PCM16 at 16 or 8 kHz, opt-in per call, one resampler stream per call', async () => {
  await withCall({}, async (_fx, c, call) => {
    const mu = mulawEncode(convertWhole(speech(8000, 500, 12), 8000)); // 25 frames of mu-law
    const got16: Int16Array[] = [];
    const got8: Int16Array[] = [];
    let mediaEvents = 0;
    call.on('media', () => mediaEvents++);
    assert.throws(
      () => call.enableInboundPcm16(44100 as 16000),
      (e: unknown) =>
        (e as { code?: string }).code === 'PTIME_ERR_SAMPLE_RATE' &&
        /must be one of 8000, 16000 Hz \(got 44100\)/.test((e as Error).message),
    );
    call.enableInboundPcm16(16000);
    call.on('pcm16', (p) => {
      assert.equal(p.track, 'inbound');
      (p.sampleRate === 16000 ? got16 : got8).push(p.samples);
    });
    for (let k = 0; k < 25; k++) c.media160(mu.subarray(k * 160, (k + 1) * 160));
    await new Promise<void>((resolve) => {
      const check = (): void => (mediaEvents >= 25 ? resolve() : void setTimeout(check, 5));
      check();
    });
    const ref = new Resampler(8000, 16000).process(mulawDecode(mu));
    const all16 = new Int16Array(got16.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of got16) {
      all16.set(p, o);
      o += p.length;
    }
    // Exactly 20 ms per event: the resampler's delay is carried, so the first frame gives none.
    assert.equal(got16.length, 24, 'one pcm16 event per media frame after the first');
    assert.ok(
      got16.every((p) => p.length === 320),
      'each exactly 20 ms at 16 kHz',
    );
    assert.deepEqual(all16, ref.subarray(0, 24 * 320), 'chunk by chunk equals one pass over the whole');
    call.disableInboundPcm16();
    call.enableInboundPcm16(8000);
    c.media160(mu.subarray(0, 160));
    await new Promise<void>((resolve) => {
      const check = (): void => (mediaEvents >= 26 ? resolve() : void setTimeout(check, 5));
      check();
    });
    assert.equal(got8.length, 1);
    assert.equal(got8[0]!.length, 160);
  });
});
