import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, mulawDecode, type Call, type PtimeError, type RecordedInfo } from '../../src/index.js';
import { startEngine, until, type Fixture } from '../helpers/engine-fixture.js';
import { ListeningPeer } from '../helpers/listening-peer.js';
import { listen } from '../helpers/peer-ear.js';
import { readRecording, runsOf } from '../helpers/recording-file.js';
import { parseWav } from '../../src/codec/wav-reader.js';

const SAMPLES_PER_MS = 8;
const FRAME = 160;

/** The bot's frame k is all one mu-law byte, so every recorded sample names its frame. */
const botByte = (k: number): number => 0x10 + k;
/** The caller's frame k likewise, from a range that decodes to other values. */
const callerByte = (k: number): number => 0x90 + k;
const valueOf = (byte: number): number => mulawDecode(Uint8Array.of(byte))[0]!;
const frames = (n: number, byte: (k: number) => number, from = 0): Uint8Array[] =>
  Array.from({ length: n }, (_, k) => new Uint8Array(FRAME).fill(byte(from + k)));

async function callWithPeer(fx: Fixture): Promise<{ call: Call; peer: ListeningPeer }> {
  const calling = once(fx.engine, 'call') as Promise<[Call]>;
  const peer = await ListeningPeer.connect(fx.url);
  peer.start();
  const [call] = await calling;
  return { call, peer };
}

test('record: the bot channel is what the peer played, cut at the clear; the caller channel is what the peer sent; both within one frame', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ptime-rec-'));
  const fx = await startEngine({ record: { dir }, markEveryMs: 200 });
  try {
    const { call, peer } = await callWithPeer(fx);
    const heard = listen(peer);
    const recorded = once(call, 'recorded') as Promise<[RecordedInfo]>;
    const callerSentAt = performance.now();
    const sending = peer.streamAudio(frames(50, callerByte));
    await new Promise((r) => setTimeout(r, 200));
    call.beginUtterance('first');
    for (const f of frames(75, botByte)) call.send(f);
    await peer.waitFor(() => peer.playedNow() >= 700, 5000, '700 ms of the first utterance played');
    call.clear();
    await new Promise((r) => setTimeout(r, 300));
    call.beginUtterance('second');
    for (const f of frames(10, botByte, 75)) call.send(f);
    call.endUtterance();
    await until(() => call.heard('second')?.state === 'played', 5000, 'the second utterance played');
    await sending;
    await new Promise((r) => setTimeout(r, 100)); // positions are within a frame: let the last one end
    peer.stop();
    const [info] = await recorded;

    assert.equal(info.path, join(dir, `${call.streamSid}.wav`));
    const rec = await readRecording(info.path);
    assert.equal(rec.sampleRate, 8000);
    assert.equal(info.bytes, rec.fileBytes);
    assert.equal((await stat(info.path)).size, info.bytes);
    assert.ok(Math.abs(info.durationMs - rec.left.length / SAMPLES_PER_MS) <= 1, 'durationMs is the file’s');

    // The caller: every frame whole, back to back as the carrier's timestamps place them.
    const callerValues = new Map(Array.from({ length: 50 }, (_, k) => [valueOf(callerByte(k)), k] as const));
    const left = runsOf(rec.left, callerValues);
    assert.equal(left.size, 50, 'every caller frame is in the left channel');
    const l0 = left.get(0)!.first;
    for (const [k, r] of left) {
      assert.equal(r.count, FRAME, `caller frame ${k} whole`);
      assert.equal(r.first, l0 + k * FRAME, `caller frame ${k} at its timestamp`);
    }

    // The bot: frames at the positions they played at the peer, relative to the caller's audio.
    assert.equal(heard.clears.length, 1);
    const clearAt = heard.clears[0]!;
    const botValues = new Map(Array.from({ length: 85 }, (_, k) => [valueOf(botByte(k)), k] as const));
    const right = runsOf(rec.right, botValues);
    const firstStarts = heard.starts.slice(0, heard.starts.length - 10);
    const secondStarts = heard.starts.slice(heard.starts.length - 10);
    let playedFirst = 0;
    let recordedFirst = 0;
    for (let k = 0; k < 75; k++) {
      const start = firstStarts[k];
      const truth = start === undefined ? 0 : Math.min(Math.max(clearAt - start, 0), 20);
      playedFirst += truth;
      const r = right.get(k);
      recordedFirst += r?.count ?? 0;
      if (truth === 0 && start !== undefined && start >= clearAt + 20)
        assert.equal(r, undefined, `bot frame ${k} was flushed by the clear: not in the recording`);
      if (truth === 20 && r) {
        const want = l0 + (start! - callerSentAt) * SAMPLES_PER_MS;
        assert.ok(Math.abs(r.first - want) <= FRAME, `bot frame ${k} at ${r.first}, played at ${want.toFixed(0)}`);
      }
    }
    assert.ok(
      Math.abs(recordedFirst - playedFirst * SAMPLES_PER_MS) <= FRAME,
      `first utterance: ${recordedFirst / SAMPLES_PER_MS} ms recorded, ${playedFirst.toFixed(1)} ms played before the clear`,
    );
    for (let k = 0; k < 10; k++) {
      const r = right.get(75 + k);
      assert.ok(r, `bot frame ${75 + k} of the second utterance is recorded`);
      assert.equal(r.count, FRAME, `bot frame ${75 + k} whole`);
      const want = l0 + (secondStarts[k]! - callerSentAt) * SAMPLES_PER_MS;
      assert.ok(Math.abs(r.first - want) <= FRAME, `bot frame ${75 + k} at ${r.first}, played at ${want.toFixed(0)}`);
    }
    // Nothing but those frames and silence on the bot's side.
    const stray = rec.right.filter((v) => v !== 0 && !botValues.has(v)).length;
    assert.equal(stray, 0, 'the bot channel holds only the bot’s frames and silence');
  } finally {
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('record: a path that cannot be written gives PTIME_ERR_RECORDING naming it and why; the call goes on', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ptime-rec-'));
  const notADir = join(dir, 'file');
  await writeFile(notADir, 'x');
  const fx = await startEngine({ markEveryMs: 200 });
  try {
    const { call, peer } = await callWithPeer(fx);
    const failed = once(call, 'recordError') as Promise<[PtimeError]>;
    const target = join(notADir, 'call.wav');
    assert.equal(call.record(target), true);
    const [err] = await failed;
    assert.equal(err.code, ErrorCodes.RECORDING);
    assert.match(
      err.message,
      new RegExp(`cannot record the call to ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `),
    );
    assert.match(err.message, /\((ENOTDIR|EEXIST)\)$/);
    for (const f of frames(10, botByte)) call.send(f);
    assert.deepEqual(await call.mark('after'), { name: 'after', status: 'played' }, 'the call plays on');
    assert.ok(peer.frames >= 10);
    assert.equal(call.state, 'open');
    if (existsSync('/dev/full')) {
      // A disk that is full: every write fails with ENOSPC.
      const full = once(call, 'recordError') as Promise<[PtimeError]>;
      assert.equal(call.record('/dev/full'), true, 'a failed recording can be started again elsewhere');
      const [noSpace] = await full;
      assert.equal(noSpace.code, ErrorCodes.RECORDING);
      assert.equal(noSpace.message, 'cannot record the call to /dev/full: no space left on the device (ENOSPC)');
      for (const f of frames(5, botByte)) call.send(f);
      assert.deepEqual(await call.mark('after-full'), { name: 'after-full', status: 'played' }, 'the call plays on');
    }
    const recorded = once(call, 'recorded') as Promise<[RecordedInfo]>;
    assert.equal(call.record(join(dir, 'third.wav')), true, 'and once more, somewhere writable');
    call.close();
    const [info] = await recorded;
    assert.equal(info.path, join(dir, 'third.wav'));
    await readRecording(info.path);
  } finally {
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('record: a call that ends abruptly leaves a valid file up to its end, and it is valid while the call runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ptime-rec-'));
  const fx = await startEngine({ record: { dir } });
  try {
    const { call, peer } = await callWithPeer(fx);
    const recorded = once(call, 'recorded') as Promise<[RecordedInfo]>;
    const startedAt = performance.now();
    for (const f of frames(90, botByte)) call.send(f);
    await peer.waitFor(() => peer.playedNow() >= 1500, 5000, '1.5 s played');
    const file = join(dir, `${call.streamSid}.wav`);
    await until(() => statSync(file).size > 44, 5000, 'audio on disk');
    const midway = await readRecording(file);
    assert.ok(midway.left.length > 0, 'audio is on disk, under a header that says so, before the call ends');
    peer.ws.terminate();
    const [info] = await recorded;
    const endedAt = performance.now();
    const rec = await readRecording(info.path!);
    const ms = rec.left.length / SAMPLES_PER_MS;
    assert.ok(
      ms >= 1500 && ms <= endedAt - startedAt + 40,
      `${ms} ms recorded of a ${(endedAt - startedAt).toFixed(0)} ms call`,
    );
    assert.equal(call.state, 'closed');
  } finally {
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('record: to the application\'s stream, the same WAV with its sizes "unknown", and the stream ended with the call', async () => {
  const fx = await startEngine();
  try {
    const { call, peer } = await callWithPeer(fx);
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    const ended = once(sink, 'end');
    const recorded = once(call, 'recorded') as Promise<[RecordedInfo]>;
    assert.equal(call.record(sink), true);
    assert.equal(call.record(sink), false, 'one recording at a time');
    for (const f of frames(20, botByte)) call.send(f);
    assert.deepEqual(await call.mark('end'), { name: 'end', status: 'played' });
    assert.ok(peer.frames >= 20);
    await new Promise((r) => setTimeout(r, 100)); // positions are within a frame: let the last one end
    call.close();
    const [info] = await recorded;
    await ended;
    const bytes = Buffer.concat(chunks);
    assert.equal(info.path, null);
    assert.equal(info.bytes, bytes.length);
    assert.equal(bytes.readUInt32LE(4), 0xffffffff, 'RIFF size unknown');
    assert.equal(bytes.readUInt32LE(40), 0xffffffff, 'data size unknown');
    assert.equal(parseWav(bytes).channels, 2);
    const right = new Int16Array(Math.floor((bytes.length - 44) / 4));
    for (let i = 0; i < right.length; i++) right[i] = bytes.readInt16LE(46 + i * 4);
    const values = new Map(Array.from({ length: 20 }, (_, k) => [valueOf(botByte(k)), k] as const));
    const runs = runsOf(right, values);
    assert.equal(runs.size, 20, 'every bot frame is in the stream');
    for (const [k, r] of runs) assert.equal(r.count, FRAME, `frame ${k} whole`);
  } finally {
    await fx.close();
  }
});

test('record() in the middle of an utterance: audio sent after it is placed where it played, after what was queued before', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ptime-rec-'));
  const fx = await startEngine({ markEveryMs: 200 });
  try {
    const { call, peer } = await callWithPeer(fx);
    const heard = listen(peer);
    for (const f of frames(50, botByte)) call.send(f);
    await peer.waitFor(() => peer.playedNow() >= 300, 5000, '300 ms played');
    const path = join(dir, 'late.wav');
    const recorded = once(call, 'recorded') as Promise<[RecordedInfo]>;
    const recordedFrom = performance.now();
    assert.equal(call.record(path), true);
    for (const f of frames(25, botByte, 50)) call.send(f);
    assert.deepEqual(await call.mark('end'), { name: 'end', status: 'played' });
    // Positions are within a frame: a hang-up right at the echo could cut the last frame by that much.
    await new Promise((r) => setTimeout(r, 100));
    call.close();
    const [info] = await recorded;
    const rec = await readRecording(info.path!);
    const values = new Map(Array.from({ length: 75 }, (_, k) => [valueOf(botByte(k)), k] as const));
    const runs = runsOf(rec.right, values);
    assert.deepEqual(
      [...runs.keys()].sort((a, b) => a - b),
      Array.from({ length: 25 }, (_, k) => 50 + k),
      'only the audio sent after record()',
    );
    for (const [k, r] of runs) {
      assert.equal(r.count, FRAME, `frame ${k} whole`);
      const want = (heard.starts[k]! - recordedFrom) * SAMPLES_PER_MS;
      assert.ok(Math.abs(r.first - want) <= FRAME, `frame ${k} at ${r.first}, played at ${want.toFixed(0)}`);
    }
  } finally {
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  }
});
