/**
 * A picture of one recording around a barge-in: one call against an engine recording it, the
 * caller talking (a 3 Hz warble) while the bot plays a tone, a clear() 1 s into the bot's
 * utterance, then a short second utterance. Draws both channels' envelopes (max |sample| per
 * 5 ms) as an SVG, with the moment the real-time test peer says it stopped hearing the bot (its
 * clock aligned to the recording by the caller's first frame) as a red line on the bot's channel.
 *
 *   npm run build && node dist/bench/recording-picture.js [--out bench/results/recording-barge-in.svg]
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mulawEncode, type Call, type RecordedInfo } from '../src/index.js';
import { createEngine } from '../src/engine/engine.js';
import { TONE_FRAME } from '../src/demo/demo-frames.js';
import { TwilioPeer } from '../src/testing/twilio-peer.js';
import { commandLine } from './lib/command-line.js';

const values = commandLine({
  usage: 'node dist/bench/recording-picture.js',
  purpose: "A picture of one recording's two channels around a barge-in, as an SVG.",
  options: { out: { type: 'string', default: 'bench/results/recording-barge-in.svg' } },
  help: { out: 'where the SVG goes' },
});
const RATE = 8000;
const BIN = 40; // 5 ms

/** The caller's voice: 2.5 s of a 300 Hz tone under a 3 Hz envelope, as mu-law frames. */
function callerFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let k = 0; k < 125; k++) {
    const pcm = new Int16Array(160);
    for (let i = 0; i < 160; i++) {
      const t = (k * 160 + i) / RATE;
      pcm[i] = Math.round(12000 * (0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t)) * Math.sin(2 * Math.PI * 300 * t));
    }
    frames.push(mulawEncode(pcm));
  }
  return frames;
}

const dir = mkdtempSync(join(tmpdir(), 'ptime-picture-'));
const engine = await createEngine({ port: 0, host: '127.0.0.1', record: { dir } });
try {
  const calling = once(engine, 'call') as Promise<[Call]>;
  const peer = await TwilioPeer.connect(`ws://127.0.0.1:${engine.address()!.port}/media`);
  peer.start();
  const [call] = await calling;
  const recorded = once(call, 'recorded') as Promise<[RecordedInfo]>;
  const callerStart = performance.now();
  const talking = peer.streamAudio(callerFrames());
  await new Promise((r) => setTimeout(r, 300));
  call.beginUtterance('first');
  for (let k = 0; k < 100; k++) call.send(TONE_FRAME);
  let firstHeard = 0;
  await peer.waitFor(() => (firstHeard ||= peer.playedNow() > 0 ? performance.now() : 0) > 0, 5000, 'first audio');
  await peer.waitFor(() => peer.playedNow() >= 1000, 5000, '1 s heard');
  call.clear();
  await peer.waitFor(() => peer.playedAtClear.length === 1, 5000, 'the clear');
  const heardMs = peer.playedAtClear[0]!;
  await new Promise((r) => setTimeout(r, 400));
  call.beginUtterance('second');
  for (let k = 0; k < 25; k++) call.send(TONE_FRAME);
  call.endUtterance();
  await talking;
  await new Promise((r) => setTimeout(r, 800));
  peer.stop();
  const [info] = await recorded;
  const b = readFileSync(info.path!);
  const n = (b.length - 44) / 4;
  const env = [new Float64Array(Math.ceil(n / BIN)), new Float64Array(Math.ceil(n / BIN))];
  let firstCaller = -1;
  for (let i = 0; i < n; i++)
    for (const ch of [0, 1]) {
      const v = Math.abs(b.readInt16LE(44 + i * 4 + ch * 2));
      if (ch === 0 && v > 0 && firstCaller < 0) firstCaller = i;
      env[ch]![Math.floor(i / BIN)] = Math.max(env[ch]![Math.floor(i / BIN)]!, v / 32768);
    }
  // The peer's clock on the recording's: its first caller frame went out at callerStart.
  const toX = (ms: number): number => (firstCaller / RATE) * 1000 + (ms - callerStart);
  const cutMs = toX(firstHeard) + heardMs;
  const W = 1000;
  const H = 120;
  const msTotal = (n / RATE) * 1000;
  const x = (ms: number): number => (ms / msTotal) * W;
  const lane = (e: Float64Array, y0: number, colour: string): string =>
    [...e]
      .map(
        (v, i) =>
          `<rect x="${x((i * BIN * 1000) / RATE).toFixed(1)}" y="${(y0 + H / 2 - (v * H) / 2).toFixed(1)}" width="${Math.max(0.5, x((BIN * 1000) / RATE)).toFixed(1)}" height="${Math.max(0.5, v * H).toFixed(1)}" fill="${colour}"/>`,
      )
      .join('');
  const ticks = Array.from(
    { length: Math.floor(msTotal / 500) + 1 },
    (_, i) => `<text x="${x(i * 500).toFixed(1)}" y="${2 * H + 70}" font-size="11">${(i * 0.5).toFixed(1)} s</text>`,
  ).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${2 * H + 80}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="4" y="14" font-size="12">left: the caller</text>${lane(env[0]!, 20, '#2a6')}
<text x="4" y="${H + 44}" font-size="12">right: the bot as heard (clear() 1 s into the first utterance; red: where the test peer stopped hearing it, ${heardMs.toFixed(0)} ms in)</text>${lane(env[1]!, H + 50, '#36c')}
<line x1="${x(cutMs).toFixed(1)}" x2="${x(cutMs).toFixed(1)}" y1="${H + 48}" y2="${2 * H + 52}" stroke="red" stroke-width="1.5"/>
${ticks}
</svg>
`;
  const out = resolve(values.out);
  writeFileSync(out, svg);
  console.log(
    `${out}: ${msTotal.toFixed(0)} ms recorded; the peer heard ${heardMs.toFixed(1)} ms of the first utterance`,
  );
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
