import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseWav } from '../../src/codec/wav-reader.js';

export interface Recording {
  sampleRate: number;
  left: Int16Array;
  right: Int16Array;
  fileBytes: number;
}

/**
 * Read a call recording and hold it to the format: a 44-byte header whose two sizes match the
 * file exactly (a WAV reader that trusts them gets every sample), PCM, 2 channels, 16 bits.
 */
export async function readRecording(path: string): Promise<Recording> {
  const bytes = await readFile(path);
  const wav = parseWav(bytes, path); // the project's reader accepts it
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(bytes.toString('latin1', 0, 4), 'RIFF');
  assert.equal(v.getUint32(4, true), bytes.length - 8, 'RIFF size = file − 8');
  assert.equal(bytes.toString('latin1', 8, 16), 'WAVEfmt ');
  assert.equal(v.getUint16(20, true), 1, 'PCM');
  assert.equal(v.getUint16(22, true), 2, 'stereo');
  assert.equal(v.getUint16(34, true), 16, '16-bit');
  assert.equal(bytes.toString('latin1', 36, 40), 'data');
  assert.equal(v.getUint32(40, true), bytes.length - 44, 'data size = file − 44');
  assert.equal(wav.channels, 2);
  const frames = (bytes.length - 44) / 4;
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = v.getInt16(44 + i * 4, true);
    right[i] = v.getInt16(46 + i * 4, true);
  }
  return { sampleRate: v.getUint32(24, true), left, right, fileBytes: bytes.length };
}

/** Where each value occurs in `pcm`: the first position and the count, for values in `of`. */
export function runsOf(
  pcm: Int16Array,
  of: ReadonlyMap<number, number>,
): Map<number, { first: number; count: number }> {
  const out = new Map<number, { first: number; count: number }>();
  for (let i = 0; i < pcm.length; i++) {
    const key = of.get(pcm[i]!);
    if (key === undefined) continue;
    const r = out.get(key);
    if (r) r.count++;
    else out.set(key, { first: i, count: 1 });
  }
  return out;
}
