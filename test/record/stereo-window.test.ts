import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StereoWindow } from '../../src/record/stereo-window.js';
import { recordingFileName } from '../../src/record/recording-file-name.js';
import { parseWav } from '../../src/codec/wav-reader.js';
import { wavHeader, wavSizes, WAV_HEADER_BYTES } from '../../src/codec/wav-writer.js';

const samples = (bytes: Uint8Array): Int16Array => new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);

test('StereoWindow: each channel at its position, silence between, late and far-ahead audio dropped and counted', () => {
  const w = new StereoWindow(100, 4);
  w.put(0, 2, Int16Array.of(1, 2, 3));
  w.put(1, 4, Int16Array.of(7, 8));
  assert.deepEqual([...samples(w.take(6))], [0, 0, 0, 0, 1, 0, 2, 0, 3, 7, 0, 8]);
  assert.equal(w.base, 6);
  w.put(0, 4, Int16Array.of(9, 9, 5)); // two samples too late
  w.put(1, 104, Int16Array.of(4, 4, 4, 4)); // past base + 100 by two
  assert.equal(w.dropped, 4);
  const rest = samples(w.take(106));
  assert.equal(rest.length, 200);
  assert.deepEqual([...rest.subarray(0, 2)], [5, 0]);
  assert.deepEqual([...rest.subarray(196)], [0, 4, 0, 4]);
  assert.deepEqual([...samples(w.take(110))], new Array(8).fill(0), 'what was taken is not handed out again');
});

test('wavHeader: a stereo 16-bit header the reader takes; wavSizes matches it', () => {
  const pcm = new Uint8Array(16);
  const file = new Uint8Array(WAV_HEADER_BYTES + pcm.length);
  file.set(wavHeader(8000, 2, pcm.length));
  const wav = parseWav(file);
  assert.equal(wav.channels, 2);
  assert.equal(wav.sampleRate, 8000);
  assert.equal(wav.samples.length, 4);
  const sizes = wavSizes(pcm.length);
  assert.deepEqual([...sizes.riff], [...file.subarray(4, 8)]);
  assert.deepEqual([...sizes.data], [...file.subarray(40, 44)]);
});

test('recordingFileName: a carrier id can neither leave the directory nor hide the file', () => {
  assert.equal(recordingFileName('MZ0123abc'), 'MZ0123abc.wav');
  assert.equal(recordingFileName('../../etc/passwd'), '_._.._etc_passwd.wav');
  assert.equal(recordingFileName('.hidden'), '_hidden.wav');
  assert.equal(recordingFileName('a/b\\c d'), 'a_b_c_d.wav');
  assert.equal(recordingFileName(''), '_.wav');
});
