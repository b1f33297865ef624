import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Piscina } from 'piscina';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import {
  type CodecJob,
  type CodecReply,
  type MulawResult,
  transferListOf,
  unwrapCodecReply,
} from '../../src/codec/codec-job.js';
import { mulawEncode } from '../../src/codec/g711.js';
import { Resampler } from '../../src/codec/resampler.js';
import { runCodecJob } from '../../src/codec/run-codec-job.js';
import { pcm16ToMulaw8k } from '../../src/codec/telephony.js';
import { seeded } from '../helpers/seeded.js';
import { tone } from './tone-fit.js';

const WORKER = new URL('../../workers/codec.js', import.meta.url).href;

test('inline runCodecJob: one-shot and streaming jobs, unknown op refused', () => {
  const x = tone(1000, 48000, 9600, 8000);
  const one = runCodecJob({ op: 'pcm16ToMulaw8k', samples: x, rate: 48000 }) as MulawResult;
  assert.deepEqual(one.mulaw, pcm16ToMulaw8k(x, 48000));
  assert.equal(one.state, null);
  const start = new Resampler(48000, 8000).snapshot();
  const a = runCodecJob({
    op: 'pcm16ToMulaw8k',
    samples: x.subarray(0, 5000),
    rate: 48000,
    state: start,
  }) as MulawResult;
  const b = runCodecJob({
    op: 'pcm16ToMulaw8k',
    samples: x.subarray(5000),
    rate: 48000,
    state: a.state,
    flush: true,
  }) as MulawResult;
  assert.deepEqual(Uint8Array.from([...a.mulaw, ...b.mulaw]), one.mulaw);
  assert.throws(
    () => runCodecJob({ op: 'transcode' } as unknown as CodecJob),
    (err: unknown) =>
      err instanceof PtimeError &&
      err.code === ErrorCodes.CODEC_JOB &&
      /unknown codec job op "transcode"/.test(err.message),
  );
  assert.throws(() => runCodecJob({ op: 'pcm16ToMulaw8k', samples: x, rate: 24000, state: start }), {
    code: ErrorCodes.SAMPLE_RATE,
  });
});

test('transferListOf moves whole buffers only, never a shared Buffer pool slab', () => {
  const own = new Int16Array(480);
  assert.deepEqual(transferListOf({ op: 'pcm16ToMulaw8k', samples: own, rate: 24000 }), [own.buffer]);
  const slice = new Int16Array(960).subarray(480);
  assert.deepEqual(transferListOf({ op: 'pcm16ToMulaw8k', samples: slice, rate: 24000 }), []);
  const pooled = Buffer.from('small'); // lives inside Node's 8 KiB pool
  assert.deepEqual(transferListOf({ op: 'mulaw8kToPcm16', mulaw: pooled, rate: 16000 }), []);
});

test('a stream mixing inline chunks and pool chunks equals one inline pass (real piscina worker)', async () => {
  const pool = new Piscina<CodecJob, CodecReply>({ filename: WORKER, maxThreads: 2 });
  try {
    const rnd = seeded(42);
    const x = Int16Array.from({ length: 24000 * 3 }, (_, i) =>
      Math.round(9000 * Math.sin(i / 7) + 6000 * (rnd() - 0.5)),
    );
    const want = pcm16ToMulaw8k(x, 24000);
    const stream = new Resampler(24000, 8000);
    const out: number[] = [];
    let i = 0;
    let pooled = 0;
    while (i < x.length) {
      const size = Math.min(x.length - i, 1 + Math.floor(rnd() * 6000));
      const last = i + size === x.length;
      if (rnd() < 0.5) {
        out.push(...pcm16ToMulaw8k(x.subarray(i, i + size), 24000, stream));
        if (last) out.push(...mulawEncode(stream.flush()));
      } else {
        const job: CodecJob = {
          op: 'pcm16ToMulaw8k',
          samples: x.slice(i, i + size),
          rate: 24000,
          state: stream.snapshot(),
          flush: last,
        };
        const transferList = transferListOf(job);
        const reply = unwrapCodecReply(await pool.run(job, { transferList })) as MulawResult;
        assert.equal(job.samples.byteLength, 0, 'the input buffer was moved, not copied');
        stream.restore(reply.state!);
        out.push(...reply.mulaw);
        pooled++;
      }
      i += size;
    }
    assert.ok(pooled > 0);
    assert.deepEqual(Uint8Array.from(out), want);
  } finally {
    await pool.destroy();
  }
});

test('errors come back from the worker with their code and message', async () => {
  const pool = new Piscina<CodecJob, CodecReply>({ filename: WORKER, maxThreads: 1 });
  try {
    const reply = await pool.run({ op: 'pcm16ToMulaw8k', samples: new Int16Array(4), rate: 11025 });
    assert.deepEqual(reply, {
      op: 'error',
      code: ErrorCodes.SAMPLE_RATE,
      message: 'unsupported input sample rate 11025; supported: 8000, 16000, 22050, 24000, 44100, 48000 Hz',
    });
    assert.throws(
      () => unwrapCodecReply(reply),
      (err: unknown) => err instanceof PtimeError && err.code === ErrorCodes.SAMPLE_RATE,
    );
    const bad = await pool.run({
      op: 'mulaw8kToPcm16',
      mulaw: new Uint16Array(4) as unknown as Uint8Array,
      rate: 16000,
    });
    assert.equal(bad.op === 'error' && bad.code, ErrorCodes.INVALID_AUDIO);
  } finally {
    await pool.destroy();
  }
});
