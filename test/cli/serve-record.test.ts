import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../src/cli/serve.js';
import type { Call, RecordedInfo } from '../../src/index.js';
import { ListeningPeer } from '../helpers/listening-peer.js';
import { readRecording } from '../helpers/recording-file.js';

test('ptime serve --record-dir: a demo call with a barge-in leaves DIR/<streamSid>.wav, stereo, the bot cut at the clear', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ptime-serve-rec-'));
  const engine = await serve(['--port', '0', '--host', '127.0.0.1', '--log-level', 'silent', '--record-dir', dir]);
  assert.ok(engine);
  try {
    const calling = once(engine, 'call') as Promise<[Call]>;
    const peer = await ListeningPeer.connect(`ws://127.0.0.1:${engine.address()!.port}/media`);
    peer.start({ mode: 'tone' });
    const [call] = await calling;
    const recorded = once(call, 'recorded') as Promise<[RecordedInfo]>;
    await peer.waitFor(() => peer.playedNow() >= 500, 5000, 'tone playing');
    peer.dtmf('5');
    await peer.waitFor(() => peer.playedAtClear.length === 1, 5000, 'the barge-in clear');
    await new Promise((r) => setTimeout(r, 200));
    peer.stop();
    const [info] = await recorded;
    assert.deepEqual(await readdir(dir), [`${call.streamSid}.wav`]);
    const rec = await readRecording(info.path!);
    assert.equal(rec.sampleRate, 8000);
    const botMs = rec.right.filter((v) => v !== 0).length / 8;
    // The tone plays until the clear (what the peer heard of it), not the second queued behind it.
    assert.ok(
      Math.abs(botMs - peer.playedAtClear[0]!) <= 40,
      `${botMs} ms of tone recorded, ${peer.playedAtClear[0]!.toFixed(1)} ms heard`,
    );
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
});
