import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A speech-like WAV (16 kHz mono: a 3 Hz syllable envelope over two tones) in a temporary file, so
 * a `file`-mode scenario needs no asset. `remove()` deletes it.
 */
export function speechLikeWavFile(seconds: number): { audioFile: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ptime-bench-wav-'));
  const audioFile = join(dir, 'speech-like.wav');
  writeFileSync(audioFile, wav16k(seconds));
  return { audioFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function wav16k(seconds: number): Buffer {
  const rate = 16000;
  const n = rate * seconds;
  const out = Buffer.alloc(44 + n * 2);
  out.write('RIFF', 0);
  out.writeUInt32LE(36 + n * 2, 4);
  out.write('WAVEfmt ', 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36);
  out.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t); // syllable-like 3 Hz
    const v = envelope * (0.4 * Math.sin(2 * Math.PI * 220 * t) + 0.2 * Math.sin(2 * Math.PI * 1250 * t));
    out.writeInt16LE(Math.round(v * 32767 * 0.8), 44 + i * 2);
  }
  return out;
}
