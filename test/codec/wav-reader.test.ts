import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, PtimeError, type ErrorCode } from '../../src/errors.js';
import { MAX_WAV_BYTES, parseWav, readWavFile } from '../../src/codec/wav-reader.js';

import { ascii, chunk, fmt, s16le, wav, type FmtFields } from '../helpers/wav-bytes.js';

function throwsCoded(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof PtimeError && e.code === code && message.test(e.message));
}

const bad = (fn: () => unknown, message: RegExp): void => throwsCoded(fn, ErrorCodes.INVALID_AUDIO, message);

test('mono PCM16: samples, rate, channels and duration; any byte offset; output is a fresh buffer', () => {
  const pcm = [0, 1, -1, 32767, -32768, 1234];
  const file = wav([fmt({ rate: 8000 }), chunk('data', s16le(pcm))]);
  const got = parseWav(file);
  assert.deepEqual(got, { samples: Int16Array.from(pcm), sampleRate: 8000, channels: 1, durationMs: 0.75 });

  // An odd byte offset (e.g. a slice of a pooled Buffer) cannot back an Int16Array view.
  const slab = new Uint8Array(file.length + 1);
  slab.set(file, 1);
  const shifted = parseWav(slab.subarray(1));
  assert.deepEqual(shifted.samples, Int16Array.from(pcm));
  assert.notEqual(shifted.samples.buffer, slab.buffer);
  assert.equal(shifted.samples.byteOffset, 0);
  assert.equal(shifted.samples.buffer.byteLength, pcm.length * 2);
});

test('stereo is downmixed to the rounded mean of L and R, ties away from zero, within int16', () => {
  const frames: Array<[number, number, number]> = [
    [1, 2, 2], // 1.5
    [-1, -2, -2], // -1.5
    [3, 0, 2], // 1.5
    [100, -100, 0],
    [32767, -32768, -1], // -0.5
    [32767, 32767, 32767],
    [-32768, -32768, -32768],
    [32767, 32766, 32767], // 32766.5
    [-32768, -32767, -32768], // -32767.5
    [1000, 1003, 1002], // 1001.5
    [10, 13, 12], // 11.5
    [10, 12, 11],
  ];
  const interleaved = frames.flatMap(([l, r]) => [l, r]);
  const got = parseWav(wav([fmt({ channels: 2, rate: 16000 }), chunk('data', s16le(interleaved))]));
  assert.deepEqual(
    got.samples,
    Int16Array.from(frames, ([, , m]) => m),
  );
  assert.equal(got.channels, 2);
  assert.equal(got.sampleRate, 16000);
  assert.equal(got.durationMs, 0.75);
});

test('chunks in any order: LIST before fmt, odd-sized chunk with pad byte, fmt after data, trailing junk', () => {
  const pcm = [5, -5, 7, -7];
  const list = chunk('LIST', [...ascii('INFOISFT'), 5, 0, 0, 0, ...ascii('ptim'), 0]); // 17 bytes + pad
  assert.equal(list.length, 8 + 17 + 1);
  const odd = chunk('junk', [1, 2, 3]); // 3 bytes + pad
  const fact = chunk('fact', [4, 0, 0, 0]);
  const a = parseWav(wav([list, fmt({ rate: 22050 }), odd, chunk('data', s16le(pcm)), fact]));
  assert.deepEqual(a.samples, Int16Array.from(pcm));
  assert.equal(a.sampleRate, 22050);
  assert.equal(a.durationMs, (4 * 1000) / 22050);

  const b = parseWav(wav([odd, chunk('data', s16le(pcm)), list, fmt({ rate: 24000 })]));
  assert.deepEqual(b.samples, Int16Array.from(pcm));
  assert.equal(b.sampleRate, 24000);

  // A few stray bytes after the last chunk, or a cut-off LIST once both chunks are found, are harmless.
  const tail = wav([fmt(), chunk('data', s16le(pcm))]);
  const withJunk = Uint8Array.from([...tail, 0, 0, 0]);
  assert.deepEqual(parseWav(withJunk).samples, Int16Array.from(pcm));
  const cutList = Uint8Array.from([...tail, ...chunk('LIST', [1, 2, 3, 4], 400)]);
  assert.deepEqual(parseWav(cutList).samples, Int16Array.from(pcm));
});

test('WAVE_FORMAT_EXTENSIBLE with the PCM SubFormat is read like plain PCM', () => {
  const interleaved = [100, 200, -300, -301, 32767, 32767];
  const got = parseWav(wav([fmt({ format: 0xfffe, channels: 2, rate: 48000 }), chunk('data', s16le(interleaved))]));
  assert.deepEqual(got.samples, Int16Array.from([150, -301, 32767]));
  assert.equal(got.sampleRate, 48000);
  assert.equal(got.channels, 2);

  const mono = parseWav(wav([fmt({ format: 0xfffe, rate: 44100 }), chunk('data', s16le([9, 8, 7]))]));
  assert.deepEqual(mono.samples, Int16Array.from([9, 8, 7]));
  assert.equal(mono.sampleRate, 44100);
});

test('a data size past the end of the file (streamed WAVs) is clamped to the whole frames present', () => {
  const pcm = [1, 2, 3, 4, 5, 6];
  for (const declared of [0xffffffff, 0, 1_000_000]) {
    const mono = wav([fmt(), chunk('data', s16le(pcm), declared)]);
    assert.deepEqual(parseWav(mono).samples, Int16Array.from(pcm), `declared ${declared}`);
    // A half-written last sample is dropped.
    const cut = mono.subarray(0, mono.length - 1);
    assert.deepEqual(parseWav(cut).samples, Int16Array.from(pcm.slice(0, 5)), `declared ${declared}, odd tail`);
  }
  // Stereo: 3 whole frames + one lone left sample (2 bytes) → the partial frame is dropped.
  const stereo = wav([fmt({ channels: 2 }), chunk('data', s16le([2, 4, 6, 8, 10, 12, 14]), 0xffffffff)]);
  assert.deepEqual(parseWav(stereo).samples, Int16Array.from([3, 7, 11]));
  // A declared size that is not whole frames, inside the file, loses its partial frame too.
  const ragged = wav([fmt({ channels: 2 }), chunk('data', s16le([2, 4, 6, 8, 10]))]);
  assert.deepEqual(parseWav(ragged).samples, Int16Array.from([3, 7]));
});

test('not RIFF/WAVE, RF64, RIFX and truncated headers are refused by name', () => {
  const good = wav([fmt(), chunk('data', s16le([1]))]);
  const id3 = Uint8Array.from([0x49, 0x44, 0x33, 0x03, ...good.subarray(4)]);
  bad(() => parseWav(id3), /^WAV data is not a RIFF\/WAVE file \(starts with 0x49443303\)$/);
  bad(() => parseWav(Uint8Array.from(ascii('OggS....WAVE'))), /not a RIFF\/WAVE file \(starts with "OggS"\)/);
  bad(
    () => parseWav(wav([fmt(), chunk('data', s16le([1]))], 'RIFF', 'AVI ')),
    /not a RIFF\/WAVE file \(RIFF form type "AVI "\)/,
  );
  bad(
    () => parseWav(wav([fmt(), chunk('data', s16le([1]))], 'RF64')),
    /RF64 \(64-bit RIFF\) WAV files are not supported/,
  );
  bad(
    () => parseWav(wav([fmt(), chunk('data', s16le([1]))], 'RIFX')),
    /RIFX \(big-endian RIFF\) WAV files are not supported/,
  );
  bad(() => parseWav(good.subarray(0, 8)), /truncated header: 8 bytes, a RIFF\/WAVE header needs 12/);
  bad(() => parseWav(new Uint8Array(0)), /truncated header: 0 bytes/);
  bad(
    () => parseWav(wav([chunk('fmt ', new Uint8Array(14)), chunk('data', s16le([1]))])),
    /truncated header: fmt chunk is 14 bytes, needs at least 16/,
  );
  bad(() => parseWav(good.subarray(0, 30)), /truncated header: fmt chunk declares 16 bytes but only 10 are present/);
  const shortExt = chunk('fmt ', fmt({ format: 0xfffe }).subarray(8, 8 + 18));
  bad(
    () => parseWav(wav([shortExt, chunk('data', s16le([1]))])),
    /truncated header: WAVE_FORMAT_EXTENSIBLE fmt chunk is 18 bytes, needs 40/,
  );
});

test('missing fmt or data chunk, and fmt hidden behind a data chunk of unknown size', () => {
  bad(() => parseWav(wav([chunk('data', s16le([1, 2]))])), /^WAV data: no fmt chunk found$/);
  bad(() => parseWav(wav([fmt(), chunk('LIST', [1, 2])])), /^WAV data: no data chunk found$/);
  bad(
    () => parseWav(wav([fmt(), chunk('LIST', [1, 2, 3, 4], 500)])),
    /no data chunk found \(the file ends inside chunk "LIST" at byte 36, which declares 500 bytes but has 4\)/,
  );
  bad(
    () => parseWav(Uint8Array.from([...wav([fmt()]), 0x64, 0x61])),
    /no data chunk found \(the file ends inside a chunk header at byte 36\)/,
  );
  bad(
    () => parseWav(wav([chunk('data', s16le([1, 2]), 0xffffffff), fmt()])),
    /no fmt chunk before the data chunk, whose size is unknown or past the end of the file/,
  );
});

test('formats other than 16-bit PCM mono/stereo are refused, naming what they are', () => {
  const data = chunk('data', s16le([1, 2, 3, 4]));
  const cases: Array<[FmtFields, RegExp]> = [
    [{ format: 3, bits: 32 }, /audioFormat 3 \(IEEE float\) is not supported; convert to 16-bit PCM/],
    [{ format: 6, bits: 8 }, /audioFormat 6 \(A-law\) is not supported; convert to 16-bit PCM/],
    [{ format: 7, bits: 8 }, /audioFormat 7 \(mu-law\) is not supported; convert to 16-bit PCM/],
    [{ format: 0x55 }, /audioFormat 85 \(MP3\) is not supported/],
    [{ format: 0x1234 }, /audioFormat 4660 is not supported; convert to 16-bit PCM/],
    [{ format: 0xfffe, subFormat: 3, bits: 32 }, /audioFormat 3 \(IEEE float\) is not supported/],
    [
      { format: 0xfffe, subFormat: [...new Array<number>(16).fill(0xab)] },
      /WAVE_FORMAT_EXTENSIBLE with unknown SubFormat GUID abababab-abab-abab-abab-abababababab; convert to 16-bit PCM/,
    ],
    [{ bits: 8 }, /8 bits per sample is not supported; convert to 16-bit PCM/],
    [{ bits: 24 }, /24 bits per sample is not supported; convert to 16-bit PCM/],
    [{ channels: 0, blockAlign: 2 }, /0 channels is not supported; need 1 \(mono\) or 2 \(stereo\)/],
    [{ channels: 6 }, /6 channels is not supported; need 1 \(mono\) or 2 \(stereo\)/],
    [{ channels: 2, blockAlign: 2 }, /fmt blockAlign is 2, but 2 channel\(s\) of 16 bits need 4/],
  ];
  for (const [fields, message] of cases) {
    bad(() => parseWav(wav([fmt(fields), data])), message);
  }
  throwsCoded(
    () => parseWav(wav([fmt({ rate: 11025 }), data])),
    ErrorCodes.SAMPLE_RATE,
    /unsupported WAV data sample rate 11025; supported: 8000, 16000, 22050, 24000, 44100, 48000 Hz/,
  );
});

test('an empty data chunk, a lone partial frame, an oversize buffer and a non-buffer are refused', () => {
  bad(() => parseWav(wav([fmt(), chunk('data', [])])), /data chunk holds no samples \(0 bytes, 2 per frame\)/);
  bad(() => parseWav(wav([fmt(), chunk('data', [7])])), /data chunk holds no samples \(1 bytes, 2 per frame\)/);
  bad(
    () => parseWav(wav([fmt({ channels: 2 }), chunk('data', s16le([1]))])),
    /holds no samples \(2 bytes, 4 per frame\)/,
  );
  // Untouched pages: the size is checked before a byte is read, so this costs no real memory.
  const huge = new Uint8Array(MAX_WAV_BYTES + 1);
  bad(() => parseWav(huge, 'prompt'), /^prompt is 134217729 bytes, over MAX_WAV_BYTES \(134217728\)/);
  bad(() => parseWav([1, 2, 3] as unknown as Uint8Array), /WAV data must be a Uint8Array \(or Buffer\), got Array/);
});

test('readWavFile reads a file from disk; errors name the path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ptime-wav-'));
  try {
    const path = join(dir, 'prompt.wav');
    await writeFile(
      path,
      wav([fmt({ channels: 2, rate: 44100 }), chunk('LIST', [1, 2, 3]), chunk('data', s16le([10, 20, -7, -8]))]),
    );
    const got = await readWavFile(path);
    assert.deepEqual(got.samples, Int16Array.from([15, -8]));
    assert.equal(got.sampleRate, 44100);
    assert.equal(got.channels, 2);

    const float = join(dir, 'float.wav');
    await writeFile(float, wav([fmt({ format: 3, bits: 32 }), chunk('data', new Uint8Array(8))]));
    await assert.rejects(
      readWavFile(float),
      (e: unknown) =>
        e instanceof PtimeError &&
        e.code === ErrorCodes.INVALID_AUDIO &&
        e.message.startsWith(`WAV file ${float}: audioFormat 3 (IEEE float)`),
    );

    // A sparse file: its size is refused from stat, before anything is read.
    const huge = join(dir, 'huge.wav');
    const handle = await open(huge, 'w');
    await handle.truncate(MAX_WAV_BYTES + 1);
    await handle.close();
    await assert.rejects(
      readWavFile(huge),
      (e: unknown) =>
        e instanceof PtimeError &&
        e.code === ErrorCodes.INVALID_AUDIO &&
        e.message.includes(huge) &&
        /over MAX_WAV_BYTES/.test(e.message),
    );

    await assert.rejects(
      readWavFile(dir),
      (e: unknown) =>
        e instanceof PtimeError &&
        e.code === ErrorCodes.INVALID_AUDIO &&
        e.message === `WAV file ${dir} is a directory`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readWavFile on a missing path rejects with ENOENT naming the path', async () => {
  const path = join(tmpdir(), `ptime-missing-${process.pid}-${Date.now()}.wav`);
  await assert.rejects(
    readWavFile(path),
    (e: unknown) => e instanceof Error && (e as NodeJS.ErrnoException).code === 'ENOENT' && e.message.includes(path),
  );
});
