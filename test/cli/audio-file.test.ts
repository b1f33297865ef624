import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pcm16ToMulaw8k } from '../../src/codec/telephony.js';
import { TwilioClient, payloadBytes } from '../helpers/twilio-client.js';
import { chunk, fmt, wav } from '../helpers/wav-bytes.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const WAIT_MS = 10_000;
const children = new Set<ChildProcess>();
let dir = '';

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** 0.3 s of 24 kHz stereo: a 600 Hz tone left, 1100 Hz right, as interleaved s16le. */
function stereoTone(): { bytes: Uint8Array; mono: Int16Array } {
  const n = 7200;
  const bytes = new Uint8Array(n * 4);
  const v = new DataView(bytes.buffer);
  const mono = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const l = Math.round(8000 * Math.sin((2 * Math.PI * 600 * i) / 24000));
    const r = Math.round(6000 * Math.sin((2 * Math.PI * 1100 * i) / 24000));
    v.setInt16(i * 4, l, true);
    v.setInt16(i * 4 + 2, r, true);
    const sum = l + r;
    mono[i] = sum >= 0 ? Math.floor((sum + 1) / 2) : -Math.floor((-sum + 1) / 2); // mean, ties away from zero
  }
  return { bytes, mono };
}

async function tempFile(name: string, bytes: Uint8Array): Promise<string> {
  dir ||= await mkdtemp(join(tmpdir(), 'ptime-audio-'));
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

function run(args: string[]): {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => (children.delete(child), resolve(code))),
  );
  return { child, lines, stderr: () => stderr, exited };
}

test('serve --audio-file: a call with mode "file" hears the WAV (stereo 24 kHz → mono 8 kHz mu-law), looped', async () => {
  const { bytes, mono } = stereoTone();
  const path = await tempFile('tone.wav', wav([fmt({ channels: 2, rate: 24000 }), chunk('data', bytes)]));
  const s = run(['--audio-file', path]);
  try {
    const deadline = Date.now() + WAIT_MS;
    let serving: Record<string, unknown> | undefined;
    while (!serving && Date.now() < deadline) {
      serving = s.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => String(l['msg']).startsWith('ptime serving'));
      if (!serving) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(serving, `server started; stderr: ${s.stderr()}`);
    const loaded = s.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['msg'] === 'audio file loaded for mode "file"');
    assert.deepEqual([loaded?.['sampleRate'], loaded?.['channels'], loaded?.['durationMs']], [24000, 2, 300]);

    const c = await TwilioClient.connect(`ws://127.0.0.1:${serving['port'] as number}/media`);
    c.start({ mode: 'file' });
    const file = pcm16ToMulaw8k(mono, 24000); // 2400 bytes = 15 frames
    assert.equal(file.length, 2400);
    await c.waitFor(
      (m) => m.filter((x) => x.event === 'media').length >= 40,
      WAIT_MS,
      '40 frames: more than twice round the file',
    );
    const got = Buffer.concat(c.media.slice(0, 40).map(payloadBytes));
    const expected = Buffer.concat([file, file, file]).subarray(0, 40 * 160);
    assert.ok(got.equals(expected), 'the file, then the file again from its start, with no gap');
    c.close();
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

test('serve --audio-file refuses an unsupported or missing file at start, naming it', async () => {
  const float = await tempFile(
    'float.wav',
    wav([fmt({ format: 3, bits: 32, blockAlign: 4 }), chunk('data', new Uint8Array(64))]),
  );
  const a = run(['--audio-file', float]);
  assert.equal(await a.exited, 2);
  assert.match(
    a.stderr(),
    /PTIME_ERR_INVALID_AUDIO: WAV file .*float\.wav: audioFormat 3 \(IEEE float\) is not supported; convert to 16-bit PCM/,
  );

  const missing = join(tmpdir(), 'no-such-ptime-file.wav');
  const b = run(['--audio-file', missing]);
  assert.equal(await b.exited, 2);
  assert.match(b.stderr(), /--audio-file: cannot read .*no-such-ptime-file\.wav \(ENOENT\)/);
});
