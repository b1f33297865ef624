import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import { polyphaseFilter } from '../../src/codec/polyphase-filter.js';
import { Resampler, resample } from '../../src/codec/resampler.js';
import { SUPPORTED_RATES } from '../../src/codec/sample-rates.js';
import { seeded } from '../helpers/seeded.js';

/** Noise plus a sweep: exercises every phase with non-trivial values. */
function signal(n: number, seed: number): Int16Array {
  const rnd = seeded(seed);
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round(8000 * Math.sin(i * i * 1e-5) + 12000 * (rnd() - 0.5));
  return x;
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Feeds `x` in random chunk sizes (0 and 1 included), then flushes. */
function chunked(r: Resampler, x: Int16Array, rnd: () => number, maxChunk: number): Int16Array {
  const parts: Int16Array[] = [];
  for (let i = 0; i < x.length;) {
    const pick = rnd();
    const size = pick < 0.1 ? 0 : pick < 0.2 ? 1 : Math.floor(rnd() * maxChunk);
    parts.push(r.process(x.subarray(i, Math.min(x.length, i + size))));
    i += size;
  }
  parts.push(r.flush());
  return concat(parts);
}

const polyphaseTaps = (from: number, to: number): number => polyphaseFilter(from, to).taps;

const PAIRS = SUPPORTED_RATES.flatMap((a) => SUPPORTED_RATES.map((b) => [a, b] as const));

test('chunked == whole, sample for sample, for every rate pair and random chunkings', () => {
  let seed = 1;
  for (const [from, to] of PAIRS) {
    const x = signal(3000 + (seed % 7) * 111, seed);
    const whole = resample(x, from, to);
    for (let trial = 0; trial < 3; trial++) {
      const rnd = seeded(1000 * seed + trial);
      const got = chunked(new Resampler(from, to), x, rnd, [5, 160, 1200][trial]!);
      assert.deepEqual(got, whole, `${from}→${to} trial ${trial}`);
    }
    seed++;
  }
});

test('a big chunk (buffer grows, then shrinks back) followed by small ones is still exact', () => {
  for (const [from, to] of [
    [48000, 8000],
    [8000, 44100],
    [22050, 16000],
  ] as const) {
    const x = signal(60000, to);
    const r = new Resampler(from, to);
    const got = concat([
      r.process(x.subarray(0, 50000)),
      r.process(x.subarray(50000, 50007)),
      r.process(x.subarray(50007)),
      r.flush(),
    ]);
    assert.deepEqual(got, resample(x, from, to), `${from}→${to}`);
    r.process(x);
    assert.ok(r.snapshot().history.length <= polyphaseTaps(from, to), 'only one filter span is kept between calls');
  }
});

test('total output length is exactly ceil(n · to / from), including tiny inputs', () => {
  const rnd = seeded(7);
  for (const [from, to] of PAIRS) {
    for (const n of [0, 1, 2, 3, 79, 80, 441, 442, Math.floor(rnd() * 5000)]) {
      const want = Math.ceil((n * to) / from);
      assert.equal(resample(signal(n, n), from, to).length, want, `${from}→${to} n=${n}`);
      assert.ok(Math.abs(want - Math.round((n * to) / from)) <= 1);
    }
  }
});

test('a stream continues exactly across snapshot/restore into another instance', () => {
  const rnd = seeded(99);
  for (const [from, to] of PAIRS) {
    const x = signal(4000, from + to);
    const whole = resample(x, from, to);
    const cut = 1 + Math.floor(rnd() * 3000);
    const a = new Resampler(from, to);
    const head = a.process(x.subarray(0, cut));
    const b = new Resampler(from, to);
    b.restore(structuredClone(a.snapshot())); // as if it crossed a thread
    const tail = concat([b.process(x.subarray(cut)), b.flush()]);
    assert.deepEqual(concat([head, tail]), whole, `${from}→${to} cut ${cut}`);
  }
});

test('flush() resets: the next stream on the same instance starts from silence', () => {
  const r = new Resampler(44100, 8000);
  const x = signal(2000, 5);
  const first = concat([r.process(x), r.flush()]);
  const second = concat([r.process(x), r.flush()]);
  assert.deepEqual(second, first);
  assert.equal(r.flush().length, 0, 'flush on an empty stream emits nothing');
});

test('empty chunks return empty output and do not disturb the stream', () => {
  const r = new Resampler(24000, 8000);
  assert.equal(r.process(new Int16Array(0)).length, 0);
  const x = signal(960, 3);
  const out = concat([r.process(new Int16Array(0)), r.process(x), r.process(new Int16Array(0)), r.flush()]);
  assert.deepEqual(out, resample(x, 24000, 8000));
  assert.equal(resample(new Int16Array(0), 8000, 48000).length, 0);
});

test('equal rates pass samples through unchanged (a copy, not the caller buffer)', () => {
  const x = signal(500, 11);
  const r = new Resampler(16000, 16000);
  const y = r.process(x);
  assert.deepEqual(y, x);
  assert.notEqual(y.buffer, x.buffer);
  assert.equal(r.flush().length, 0);
});

test('unsupported rates are refused with PTIME_ERR_SAMPLE_RATE naming the supported ones', () => {
  for (const [from, to] of [
    [11025, 8000],
    [8000, 32000],
    [0, 8000],
    [8000, Number.NaN],
    [44100.5, 8000],
  ]) {
    assert.throws(
      () => new Resampler(from!, to!),
      (err: unknown) =>
        err instanceof PtimeError &&
        err.code === ErrorCodes.SAMPLE_RATE &&
        /unsupported (input|output) sample rate/.test(err.message) &&
        err.message.includes('8000, 16000, 22050, 24000, 44100, 48000 Hz'),
    );
  }
  assert.throws(() => resample(new Int16Array(4), 8000, 96000), { code: ErrorCodes.SAMPLE_RATE });
});

test('non-Int16Array input and foreign state are refused with coded errors', () => {
  const r = new Resampler(24000, 8000);
  for (const bad of [new Float32Array(3), new Uint8Array(4), [1, 2], null]) {
    assert.throws(
      () => r.process(bad as unknown as Int16Array),
      (err: unknown) =>
        err instanceof PtimeError && err.code === ErrorCodes.INVALID_AUDIO && /must be an Int16Array/.test(err.message),
    );
  }
  const other = new Resampler(48000, 8000).snapshot();
  assert.throws(
    () => r.restore(other),
    (err: unknown) =>
      err instanceof PtimeError &&
      err.code === ErrorCodes.CODEC_JOB &&
      /48000→8000 Hz, this resampler is 24000→8000 Hz/.test(err.message),
  );
  const s = r.snapshot();
  assert.throws(() => r.restore({ ...s, phase: 5 }), { code: ErrorCodes.CODEC_JOB, message: /phase 5 out of range/ });
  assert.throws(() => r.restore({ ...s, history: new Int16Array(5000) }), { code: ErrorCodes.CODEC_JOB });
  assert.throws(() => r.restore({ ...s, centre: 1.5 }), { code: ErrorCodes.CODEC_JOB });
});

test('advance() leaves exactly the state process() leaves, for every rate pair and random chunks', () => {
  for (const from of SUPPORTED_RATES) {
    const rnd = seeded(from + 7);
    const x = signal(from / 2, from); // 0.5 s
    const real = new Resampler(from, 8000);
    const shadow = new Resampler(from, 8000);
    for (let i = 0; i < x.length;) {
      const size = Math.floor(rnd() * (rnd() < 0.2 ? 8 : 3000));
      const part = x.subarray(i, Math.min(x.length, i + size));
      real.process(part);
      shadow.advance(part);
      assert.deepEqual(shadow.snapshot(), real.snapshot(), `${from} Hz after ${i + part.length} samples`);
      i += size;
    }
    assert.deepEqual(shadow.flush(), real.flush(), `${from} Hz: the tails match too`);
  }
});
