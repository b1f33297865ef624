import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TONE_FRAME } from '../../src/demo/demo-frames.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';
import { TwilioClient, payloadBytes, type Outbound } from '../helpers/twilio-client.js';

/** This file runs from dist/test/cli/, so this is the compiled CLI, as `ptime` would run it. */
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Caps on every wait, so a broken server fails the test instead of hanging it. Never asserted. */
const WAIT_MS = 10_000;

type LogLine = Record<string, unknown>;

interface Server {
  child: ChildProcess;
  port: number;
  url: string;
  logs: LogLine[];
  stderr: () => string;
  waitForLog(pred: (l: LogLine) => boolean, what: string, ms?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();

function track(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  children.add(child);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function startServer(extra: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--log-level', 'info', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = track(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));

  const logs: LogLine[] = [];
  let waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return; // not a pino line
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const l = parsed as LogLine;
    logs.push(l);
    waiters = waiters.filter((w) => (w.pred(l) ? (w.resolve(l), false) : true));
  });
  const waitForLog = (pred: (l: LogLine) => boolean, what: string, ms = WAIT_MS): Promise<LogLine> => {
    const seen = logs.find(pred);
    if (seen) return Promise.resolve(seen);
    const found = new Promise<LogLine>((resolve) => waiters.push({ pred, resolve }));
    const died = exited.then(({ code, signal }): never => {
      throw new Error(`server exited (code ${code}, signal ${signal}) before ${what}; stderr: ${stderr}`);
    });
    return withTimeout(Promise.race([found, died]), ms, `${what}; stderr: ${stderr}`);
  };

  const serving = await waitForLog(
    (l) => typeof l['msg'] === 'string' && l['msg'].startsWith('ptime serving'),
    '"ptime serving" log line',
  );
  const port = serving['port'];
  assert.equal(typeof port, 'number', `port in ${JSON.stringify(serving)}`);
  return {
    child,
    port: port as number,
    url: `ws://127.0.0.1:${port as number}/media`,
    logs,
    stderr: () => stderr,
    waitForLog,
    exited,
  };
}

/** Runs the CLI to completion (killed if it outlives `ms`). */
async function runCli(args: string[], ms = WAIT_MS): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const { code } = await exited;
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function assertMediaFor(c: TwilioClient, m: Outbound): Buffer {
  assert.equal(m.event, 'media');
  assert.equal(m.streamSid, c.streamSid);
  const bytes = payloadBytes(m);
  assert.equal(bytes.length, 160);
  return bytes;
}

const mediaCount =
  (n: number) =>
  (msgs: Outbound[]): boolean =>
    msgs.filter((m) => m.event === 'media').length >= n;

let shared: Promise<Server> | null = null;
/** One server for the per-call tests: each call gets its own socket, so they do not interfere. */
function server(): Promise<Server> {
  shared ??= startServer();
  return shared;
}

after(async () => {
  // Shut the shared server down the way an operator would, then make sure nothing outlives the file.
  const s = await shared?.catch(() => null);
  if (s && s.child.exitCode === null && s.child.signalCode === null) {
    s.child.kill('SIGTERM');
    await withTimeout(s.exited, WAIT_MS, 'shared server exit').catch(() => undefined);
  }
  for (const child of children) child.kill('SIGKILL');
});

test('serve logs "ptime serving" with the port it bound when given --port 0', async () => {
  const s = await server();
  assert.ok(s.port > 0 && s.port < 65536);
});

test('echo (the default mode): 40 distinct frames come back in order, byte for byte', async () => {
  const s = await server();
  const c = await TwilioClient.connect(s.url);
  try {
    c.start();
    const sent = Array.from({ length: 40 }, (_, i) => stampedFrame(1000 + i));
    for (const f of sent) c.media160(f);
    await c.waitFor(mediaCount(40), WAIT_MS, '40 echoed frames');
    const media = c.media;
    assert.equal(media.length, 40);
    media.forEach((m, i) => assert.deepEqual(new Uint8Array(assertMediaFor(c, m)), sent[i], `frame ${i}`));
    // Echo sends only what it got: no clear, no mark of the app's, nothing else. The engine's own
    // marks (every 500 ms of audio by default, for call.heard()) ride along and are ptime's.
    const own = (m: Outbound): boolean => m.event === 'mark' && (m.mark?.name ?? '').startsWith('ptime.');
    assert.deepEqual(new Set(c.received.filter((m) => !own(m)).map((m) => m.event)), new Set(['media']));
    assert.ok(c.received.some(own), 'the engine marks its audio (markEveryMs 500)');
  } finally {
    c.close();
  }
});

test('silence mode: the server produces frames of mu-law silence (0xFF) on its own', async () => {
  const s = await server();
  const c = await TwilioClient.connect(s.url);
  try {
    c.start({ mode: 'silence' });
    // About 0.4 s of audio at the default lead; the cap is generous because the machine is noisy.
    await c.waitFor(mediaCount(20), WAIT_MS, '20 silence frames');
    for (const m of c.media)
      assert.ok(
        assertMediaFor(c, m).every((b) => b === 0xff),
        'every byte is 0xFF',
      );
  } finally {
    c.close();
  }
});

test('tone mode: every frame is the demo TONE_FRAME, which is a real waveform', async () => {
  assert.equal(TONE_FRAME.length, 160);
  assert.ok(new Set(TONE_FRAME).size > 1, 'the tone is not one repeated byte');
  const s = await server();
  const c = await TwilioClient.connect(s.url);
  try {
    c.start({ mode: 'tone' });
    await c.waitFor(mediaCount(20), WAIT_MS, '20 tone frames');
    for (const m of c.media) assert.deepEqual(new Uint8Array(assertMediaFor(c, m)), TONE_FRAME);
  } finally {
    c.close();
  }
});

test('tone mode: DTMF "5" clears, then marks "dtmf-5", and the tone carries on after the mark', async () => {
  const s = await server();
  const c = await TwilioClient.connect(s.url);
  try {
    c.start({ mode: 'tone' });
    await c.waitFor(mediaCount(5), WAIT_MS, 'tone before the digit');
    c.dtmf('5');
    const isMark = (m: Outbound): boolean => m.event === 'mark' && m.mark?.name === 'dtmf-5';
    await c.waitFor((msgs) => msgs.some(isMark), WAIT_MS, 'mark dtmf-5');
    const clearAt = c.received.findIndex((m) => m.event === 'clear');
    const markAt = c.received.findIndex(isMark);
    assert.ok(clearAt >= 0, 'a clear was sent');
    assert.ok(clearAt < markAt, `clear (#${clearAt}) comes before the mark (#${markAt})`);
    assert.deepEqual(c.received[clearAt], { event: 'clear', streamSid: c.streamSid, at: c.received[clearAt]!.at });
    assert.equal(c.received[markAt]!.streamSid, c.streamSid);
    assert.equal(c.received.filter((m) => m.event === 'clear').length, 1);
    // The demo logs what the caller heard of the utterance the clear cut, before its mark.
    const line = await s.waitForLog(
      (l) => l['msg'] === 'barge-in' && l['streamSid'] === c.streamSid,
      'the barge-in line',
    );
    assert.equal(line['utterance'], 'tone');
    for (const k of ['heardMs', 'sentMs', 'confirmedMs']) assert.equal(typeof line[k], 'number', k);
    assert.ok((line['heardMs'] as number) <= (line['sentMs'] as number));

    // The producer refills after the clear, so tone must follow the mark.
    await c.waitFor((msgs) => msgs.slice(markAt + 1).some((m) => m.event === 'media'), WAIT_MS, 'tone after the mark');
    for (const m of c.received.slice(markAt + 1).filter((x) => x.event === 'media')) {
      assert.deepEqual(new Uint8Array(assertMediaFor(c, m)), TONE_FRAME);
    }
  } finally {
    c.close();
  }
});

test('after stop the server releases the stream and closes the socket (1000 "stop"): nothing arrives after the stop', async () => {
  const s = await server();
  const c = await TwilioClient.connect(s.url);
  try {
    // Silence mode produces without being fed, so frames after stop could only come from a leak.
    c.start({ mode: 'silence' });
    await c.waitFor(mediaCount(5), WAIT_MS, 'frames before stop');
    c.stop();
    const [code, reason] = (await withTimeout(once(c.ws, 'close'), WAIT_MS, 'the close after stop')) as [
      number,
      Buffer,
    ];
    assert.deepEqual([code, reason.toString()], [1000, 'stop']);
    await s.waitForLog(
      (l) => l['msg'] === 'call ended' && l['streamSid'] === c.streamSid,
      'call ended log for the stream',
    );
    // The close frame comes after every frame the server sent: nothing can follow it.
    const stopAt = c.received.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(c.received.length, stopAt);
  } finally {
    c.close();
  }
});

test('serve --queue 5000 exits 2 with PTIME_ERR_QUEUE_BOUND', async () => {
  const r = await runCli(['serve', '--port', '0', '--queue', '5000']);
  assert.equal(r.code, 2, `stderr: ${r.stderr}`);
  assert.match(r.stderr, /PTIME_ERR_QUEUE_BOUND/);
  assert.match(r.stderr, /5000/);
});

test('serve --lead x exits 2 with a usage error that names the flag', async () => {
  const r = await runCli(['serve', '--port', '0', '--lead', 'x']);
  assert.equal(r.code, 2, `stderr: ${r.stderr}`);
  assert.match(r.stderr, /--lead/);
  assert.match(r.stderr, /Usage: ptime/);
});

test('SIGTERM: the server closes open calls with 1001 and exits 0', async () => {
  // Its own server: this one is meant to die.
  const s = await startServer();
  const c = await TwilioClient.connect(s.url);
  c.start();
  c.media160(stampedFrame(7));
  // An echoed frame proves the call is live on the server before the signal.
  await c.waitFor(mediaCount(1), WAIT_MS, 'echo before SIGTERM');
  s.child.kill('SIGTERM');
  const code = await withTimeout(c.closed(), WAIT_MS, 'client close');
  assert.equal(code, 1001);
  const exit = await withTimeout(s.exited, WAIT_MS, 'server exit');
  assert.deepEqual(exit, { code: 0, signal: null }, `stderr: ${s.stderr()}`);
  assert.ok(s.logs.some((l) => l['msg'] === 'shutting down' && l['signal'] === 'SIGTERM'));
});

test('SIGTERM drains queued audio before closing with 1001; a second signal exits at once', async () => {
  const s = await startServer();
  const c = await TwilioClient.connect(s.url);
  c.start();
  for (let seq = 0; seq < 100; seq++) c.media160(stampedFrame(seq)); // 2 s echoed back, queued on the server
  await c.waitFor(mediaCount(5), WAIT_MS, 'playback under way');
  s.child.kill('SIGTERM');
  await s.waitForLog((l) => l['msg'] === 'shutting down' && l['drainMs'] === 5000, 'the drain starting');
  const before = c.media.length;
  assert.ok(before < 100, 'still draining when the second signal comes');
  s.child.kill('SIGTERM');
  const exit = await withTimeout(s.exited, WAIT_MS, 'server exit after the second signal');
  assert.deepEqual(exit, { code: 1, signal: null });
  assert.ok(c.media.length < 100, `cut short at ${c.media.length} frames`);

  // And one signal alone: every queued frame goes out first, then 1001 and exit 0.
  const t = await startServer();
  const d = await TwilioClient.connect(t.url);
  d.start();
  for (let seq = 0; seq < 50; seq++) d.media160(stampedFrame(seq));
  await d.waitFor(mediaCount(5), WAIT_MS, 'playback under way');
  t.child.kill('SIGTERM');
  assert.equal(await withTimeout(d.closed(), WAIT_MS, 'client close'), 1001);
  assert.equal(d.media.length, 50, 'all 50 frames before the close');
  assert.deepEqual(await withTimeout(t.exited, WAIT_MS, 'server exit'), { code: 0, signal: null });
});

test('--io worker: echo through the I/O thread, then SIGTERM plays the queue out, closes with 1001 and exits 0', async () => {
  const s = await startServer(['--io', 'worker']);
  const c = await TwilioClient.connect(s.url);
  c.start();
  for (let seq = 0; seq < 50; seq++) c.media160(stampedFrame(seq));
  await c.waitFor(mediaCount(5), WAIT_MS, 'playback under way');
  s.child.kill('SIGTERM');
  assert.equal(await withTimeout(c.closed(), WAIT_MS, 'client close'), 1001);
  assert.deepEqual(
    c.media.map((m) => readStamp(assertMediaFor(c, m))),
    Array.from({ length: 50 }, (_, k) => k),
    'all 50 frames, in order, before the close',
  );
  assert.deepEqual(
    await withTimeout(s.exited, WAIT_MS, 'server exit'),
    { code: 0, signal: null },
    `stderr: ${s.stderr()}`,
  );
  assert.ok(
    s.logs.some((l) => l['msg'] === 'figures' && typeof l['ioCpuPct'] !== 'undefined'),
    'the figures line carries the I/O thread',
  );
});

test('serve --io sideways exits 2 with a usage error that names the flag', async () => {
  const r = await runCli(['serve', '--port', '0', '--io', 'sideways']);
  assert.equal(r.code, 2, `stderr: ${r.stderr}`);
  assert.match(r.stderr, /--io must be main or worker/);
});

test('serve on a taken --port exits 2 with one line naming PTIME_ERR_LISTEN and the port, no stack, in both I/O modes', async () => {
  const taken = createServer();
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const port = (taken.address() as { port: number }).port;
  try {
    for (const io of ['main', 'worker']) {
      const r = await runCli(['serve', '--port', String(port), '--host', '127.0.0.1', '--io', io]);
      assert.equal(r.code, 2, `--io ${io}: stderr: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `ptime: PTIME_ERR_LISTEN: cannot listen on 127.0.0.1:${port}: the address is in use (EADDRINUSE)\n`,
        `--io ${io}`,
      );
    }
    // In a cluster the start error would repeat in every new worker: the primary exits 2 too.
    const r = await runCli(['serve', '--workers', '2', '--port', String(port), '--host', '127.0.0.1']);
    assert.equal(r.code, 2, `--workers 2: stderr: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(
        `^ptime: PTIME_ERR_LISTEN: cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use \\(EADDRINUSE\\)$`,
        'm',
      ),
    );
  } finally {
    taken.close();
  }
});
