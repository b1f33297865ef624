import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Framer, type FrameSink } from '../../src/engine/framer.js';
import { MULAW_8K } from '../../src/codec/audio-format.js';
import { seeded } from '../helpers/seeded.js';

const FRAME = 160;

/** Keeps a copy of every frame, as the FrameSink contract requires (the framer reuses its tail). */
class CopyingSink implements FrameSink {
  readonly frames: Uint8Array[] = [];

  pushFrame(src: Uint8Array, offset: number): void {
    assert.ok(
      offset >= 0 && offset + FRAME <= src.length,
      `frame [${offset}, ${offset + FRAME}) is outside a ${src.length}-byte source`,
    );
    this.frames.push(src.slice(offset, offset + FRAME));
  }

  concat(): Uint8Array {
    const out = new Uint8Array(this.frames.length * FRAME);
    this.frames.forEach((f, i) => out.set(f, i * FRAME));
    return out;
  }
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

/**
 * Chunk sizes 0..700, with 0 and exactly 160 forced in often: those are the edges where a framer
 * can emit an empty or doubled frame, or lose the carried remainder.
 */
function chunkSize(rand: () => number): number {
  const r = rand();
  if (r < 0.1) return 0;
  if (r < 0.2) return FRAME;
  return Math.floor(rand() * 701);
}

interface Run {
  sink: CopyingSink;
  framer: Framer;
  zeroChunks: number;
  exactChunks: number;
}

/**
 * Writes `stream` in random chunks through a scratch buffer that is overwritten after each write,
 * as a producer reusing one buffer would: any byte the framer kept by reference instead of copying
 * comes out wrong.
 */
function feed(stream: Uint8Array, rand: () => number): Run {
  const sink = new CopyingSink();
  const framer = new Framer(sink, MULAW_8K);
  const scratch = new Uint8Array(700 + 16);
  let zeroChunks = 0;
  let exactChunks = 0;
  for (let at = 0; at < stream.length;) {
    const len = Math.min(chunkSize(rand), stream.length - at);
    if (len === 0) zeroChunks++;
    if (len === FRAME) exactChunks++;
    // A non-zero view offset, so the framer must index relative to the view it is given.
    const off = Math.floor(rand() * 16);
    const chunk = scratch.subarray(off, off + len);
    chunk.set(stream.subarray(at, at + len));
    framer.write(chunk);
    scratch.fill(0xaa);
    at += len;
    assert.ok(framer.pending < FRAME, `pending ${framer.pending} after a write`);
  }
  return { sink, framer, zeroChunks, exactChunks };
}

for (const [seed, n] of [
  [1, 100_003],
  [2, 100_003],
  [42, 100_159],
  [0xdecafbad, 100_081],
  [7, 100_000],
  [99, 37],
] as const) {
  test(`seed ${seed}: ${n} bytes in random chunks come out as the same bytes in 160-byte frames`, () => {
    const rand = seeded(seed);
    const stream = randomBytes(rand, n);
    const { sink, framer, zeroChunks, exactChunks } = feed(stream, rand);
    const whole = Math.floor(n / FRAME) * FRAME;
    const rest = n - whole;

    if (n > 10_000) {
      assert.ok(zeroChunks > 0, 'the run wrote 0-byte chunks');
      assert.ok(exactChunks > 0, 'the run wrote exactly-160-byte chunks');
    }
    assert.equal(sink.frames.length, whole / FRAME);
    for (const f of sink.frames) assert.equal(f.length, FRAME);
    assert.deepEqual(sink.concat(), stream.subarray(0, whole));
    assert.equal(framer.pending, rest);

    const flushed = framer.flush();
    assert.equal(flushed, rest > 0);
    assert.equal(framer.pending, 0);
    if (rest > 0) {
      assert.equal(sink.frames.length, whole / FRAME + 1);
      const last = sink.frames[sink.frames.length - 1]!;
      assert.equal(last.length, FRAME);
      assert.deepEqual(last.subarray(0, rest), stream.subarray(whole));
      // mu-law silence is 0xFF; 0x00 would be a loud click.
      assert.deepEqual(last.subarray(rest), new Uint8Array(FRAME - rest).fill(0xff));
    } else {
      assert.equal(sink.frames.length, whole / FRAME);
    }
    const count = sink.frames.length;
    assert.equal(framer.flush(), false, 'a second flush has nothing to emit');
    assert.equal(sink.frames.length, count);
  });
}

test('flush pads with 0xFF even where an earlier, longer remainder left other bytes', () => {
  const sink = new CopyingSink();
  const framer = new Framer(sink, MULAW_8K);
  framer.write(new Uint8Array(150).fill(0x11));
  framer.write(new Uint8Array(10 + 3).fill(0x22)); // completes a frame, leaves 3 behind
  assert.equal(framer.pending, 3);
  assert.equal(framer.flush(), true);
  assert.equal(sink.frames.length, 2);
  assert.deepEqual(
    sink.frames[1],
    Uint8Array.from({ length: FRAME }, (_, i) => (i < 3 ? 0x22 : 0xff)),
  );
});

test('flush with nothing pending emits nothing and returns false', () => {
  const sink = new CopyingSink();
  const framer = new Framer(sink, MULAW_8K);
  assert.equal(framer.flush(), false);
  framer.write(new Uint8Array(0));
  assert.equal(framer.flush(), false);
  framer.write(new Uint8Array(FRAME * 2).fill(3));
  assert.equal(framer.pending, 0);
  assert.equal(framer.flush(), false);
  assert.equal(sink.frames.length, 2);
});

test('writing after a flush starts a fresh frame rather than continuing the padded one', () => {
  const sink = new CopyingSink();
  const framer = new Framer(sink, MULAW_8K);
  framer.write(new Uint8Array(5).fill(1));
  framer.flush();
  framer.write(new Uint8Array(FRAME).fill(2));
  assert.equal(sink.frames.length, 2);
  assert.deepEqual(sink.frames[1], new Uint8Array(FRAME).fill(2));
  assert.equal(framer.pending, 0);
});

test('reset drops the remainder: the next frame holds only bytes written after it', () => {
  const sink = new CopyingSink();
  const framer = new Framer(sink, MULAW_8K);
  framer.write(new Uint8Array(70).fill(9));
  framer.reset();
  assert.equal(framer.pending, 0);
  assert.equal(framer.flush(), false);
  framer.write(new Uint8Array(FRAME).fill(4));
  assert.equal(sink.frames.length, 1);
  assert.deepEqual(sink.frames[0], new Uint8Array(FRAME).fill(4));
});

test('one byte at a time still yields whole frames in order', () => {
  const sink = new CopyingSink();
  const framer = new Framer(sink, MULAW_8K);
  const stream = Uint8Array.from({ length: FRAME * 3 + 1 }, (_, i) => i & 0xff);
  for (let i = 0; i < stream.length; i++) framer.write(stream.subarray(i, i + 1));
  assert.equal(sink.frames.length, 3);
  assert.deepEqual(sink.concat(), stream.subarray(0, FRAME * 3));
  assert.equal(framer.pending, 1);
});
