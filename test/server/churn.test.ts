import { test } from 'node:test';
import { lineOf } from '../../src/engine/call-line.js';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { TONE_FRAME } from '../../src/demo/demo-frames.js';
import { ErrorCodes, type Call, type Engine } from '../../src/index.js';
import { startEngine, until } from '../helpers/engine-fixture.js';
import { payloadBytes, TwilioClient } from '../helpers/twilio-client.js';
import { readStamp, seeded, stampedFrame } from '../helpers/seeded.js';

// Churn: thousands of short calls opened and closed (some abruptly, mid-send) while a few steady
// calls stream. Afterwards every lane must be free, no call, socket, timer or listener may be left
// behind, the heap must be flat, and the steady calls must not have lost or reordered a frame.
//
// Leaks are looked for three ways, none of them timed:
// - objects: a WeakRef to every churned Call; after a full GC none may still be alive. A Call is
//   kept alive by anything that leaks its session, socket, logger or a listener closing over it,
//   so this catches one leaked call, exactly.
// - handles and listeners: sockets (process.getActiveResourcesInfo), timers, the listeners on the
//   engine, on process and on the steady calls, and no process 'warning' (MaxListenersExceeded).
// - bytes: heapUsed after a full GC, after a warm-up and at the end, against a bound per churned
//   call. node --test gives us no --expose-gc, so we turn it on the way jest's leak detector does
//   (v8.setFlagsFromString, then `gc` from a fresh context). After a forced GC the figure moves by
//   a few hundred KB between runs, where heapUsed without GC swings by the young generation's size
//   (tens of MB) with timing alone, so a bound loose enough for that would miss a real leak. What
//   still grows after warm-up is V8's optimised code (heap snapshots show code, deopt data and
//   relocation info, not app objects): ~0.3 MB over the measured waves, well inside the bound.

const STEADY_ECHO = 3;
const STEADY_TONE = 1;
const STEADY = STEADY_ECHO + STEADY_TONE;
const MAX_CALLS = 120;
const WAVES = 30;
const PER_WAVE = 100;
/** Heap is measured after this wave (warm: code compiled, pools and caches at size) and at the end. */
const WARM_WAVE = 10;
/** Heap growth allowed per churned call after warm-up, bytes: 2 MB over the 2,000 measured calls
 * (measured: ~200 B/call, all of it optimised code; keeping every closed Call alive costs ~5 KB/call). */
const HEAP_BYTES_PER_CALL = 1000;
const SEED = 0x5eed_c0de;

const ENDINGS = [
  'stop-then-close',
  'close-no-stop',
  'terminate-mid-send',
  'close-before-start',
  'start-then-terminate',
  'server-close',
] as const;
type Ending = (typeof ENDINGS)[number];

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc(); // weak callbacks and finalizers may free more on a second pass
  return process.memoryUsage().heapUsed;
}

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of items) out[x] = (out[x] ?? 0) + 1;
  return out;
}

function listenerCounts(emitter: {
  eventNames(): (string | symbol)[];
  listenerCount(name: string | symbol): number;
}): Record<string, number> {
  return Object.fromEntries(emitter.eventNames().map((n) => [String(n), emitter.listenerCount(n)]));
}

/** `p`, or a rejection naming `what` if it has not settled after `ms` (so a hang fails, and says where). */
async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A steady echo call: stamped frames at 50/s on an absolute clock until stopped. What comes back
 * is checked as it arrives and then discarded, so the test's own heap does not grow with it.
 */
class SteadyEcho {
  sent = 0;
  verified = 0;
  readonly errors: string[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    readonly client: TwilioClient,
    readonly call: Call,
    private readonly base: number,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    const t0 = performance.now();
    const frame = new Uint8Array(160);
    while (!this.stopped) {
      const wait = t0 + this.sent * 20 - performance.now();
      if (wait > 0) await sleep(wait);
      this.client.media160(stampedFrame(this.base + this.sent, frame));
      this.sent++;
    }
  }

  /** Check and drop what has arrived so far: every frame, in order, none foreign. */
  drain(): void {
    for (const m of this.client.received.splice(0)) {
      if (m.event !== 'media') {
        this.errors.push(`unexpected ${m.event}`);
        continue;
      }
      const seq = readStamp(payloadBytes(m));
      if (seq !== this.base + this.verified && this.errors.length < 10)
        this.errors.push(`frame ${this.verified}: got seq ${seq}`);
      this.verified++;
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }
}

/** Calls the engine started, by streamSid, and how each one ended. */
class CallBook {
  readonly live = new Map<string, Call>();
  /** Every call the engine started, weakly: a leaked one stays alive after a full GC. */
  readonly refs: WeakRef<Call>[] = [];
  /** Two live calls on one lane: a lane handed out while still in use (released twice). */
  readonly laneConflicts: string[] = [];
  started = 0;
  closed = 0;
  doubleClose = 0;
  private waiters = new Map<string, (call: Call) => void>();

  constructor(engine: Engine) {
    engine.on('call', (call) => {
      this.started++;
      this.refs.push(new WeakRef(call));
      for (const other of this.live.values()) {
        if (lineOf(other)!.lane.index === lineOf(call)!.lane.index)
          this.laneConflicts.push(`lane ${lineOf(call)!.lane.index}: ${other.streamSid} and ${call.streamSid}`);
      }
      this.live.set(call.streamSid, call);
      let closes = 0;
      call.on('close', () => {
        if (++closes > 1) this.doubleClose++;
        else this.closed++;
        this.live.delete(call.streamSid);
      });
      this.waiters.get(call.streamSid)?.(call);
      this.waiters.delete(call.streamSid);
    });
  }

  /** The engine's Call for a stream whose `start` was sent. */
  callFor(streamSid: string): Promise<Call> {
    const call = this.live.get(streamSid);
    if (call) return Promise.resolve(call);
    return new Promise((resolve) => this.waiters.set(streamSid, resolve));
  }
}

interface ChurnContext {
  url: string;
  book: CallBook;
  /** Churned clients whose socket has not closed yet (terminated if the test fails). */
  open: Set<TwilioClient>;
  /** Close codes the clients saw when the application closed the call. */
  serverCloseCodes: number[];
  /** What went wrong in a churned call (collected, so one failure does not abandon the wave). */
  problems: string[];
}

/** One churned call, ended the way `ending` says. Resolves once the client's socket has closed. */
async function churnOne(cx: ChurnContext, rnd: () => number, ending: Ending): Promise<void> {
  await sleep(Math.floor(rnd() * 40)); // spread the wave so connects, streams and ends overlap
  let client: TwilioClient | null = null;
  try {
    client = await TwilioClient.connect(cx.url);
    cx.open.add(client);
    await endCall(cx, client, rnd, ending);
  } catch (err) {
    cx.problems.push(`${ending}: ${(err as Error).message}`);
    client?.ws.terminate();
  } finally {
    if (client) cx.open.delete(client);
  }
}

async function endCall(cx: ChurnContext, client: TwilioClient, rnd: () => number, ending: Ending): Promise<void> {
  const frames = 2 + Math.floor(rnd() * 6);
  const mode = rnd() < 0.5 ? 'echo' : 'tone';
  const waitForAudio = rnd() < 0.5;
  const dtmf = rnd() < 0.3; // demo app: clear() + mark(): a mark left pending at the end
  const frame = stampedFrame(0xdead);

  if (ending === 'close-before-start') {
    if (rnd() < 0.5) client.sendJson({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    if (rnd() < 0.5) client.close();
    else client.ws.terminate();
    await client.closed();
    return;
  }
  client.start({ mode });
  if (ending === 'start-then-terminate') {
    client.ws.terminate(); // `start` may or may not have reached the server: both are fine
    await client.closed();
    return;
  }
  for (let i = 0; i < frames; i++) client.media160(frame);
  if (waitForAudio) await client.waitFor((m) => m.some((x) => x.event === 'media'), 10_000, 'first outbound frame');
  if (dtmf) client.dtmf('5');
  switch (ending) {
    case 'stop-then-close':
      client.stop();
      client.close();
      break;
    case 'close-no-stop':
      client.close();
      break;
    case 'terminate-mid-send':
      for (let i = 0; i < 20; i++) client.media160(frame); // still in the socket's buffer when it dies
      client.ws.terminate();
      break;
    case 'server-close':
      (await cx.book.callFor(client.streamSid)).close();
      break;
  }
  const code = await client.closed();
  if (ending === 'server-close') cx.serverCloseCodes.push(code);
}

/**
 * Open one stream more than there are lanes. It is refused either at the upgrade (HTTP 503) or
 * after its `start` (close 1013); either is a refusal, anything else is not.
 */
async function oneTooMany(url: string): Promise<string> {
  let client: TwilioClient;
  try {
    client = await TwilioClient.connect(url);
  } catch (err) {
    return /\b503\b/.test((err as Error).message) ? 'refused' : `upgrade failed: ${(err as Error).message}`;
  }
  client.start();
  const code = await client.closed();
  return code === 1013 ? 'refused' : `closed ${code}`;
}

test(
  'churn: ~3,000 short calls ended every which way leave no lane, socket, listener or heap behind',
  { timeout: 120_000 },
  async (t) => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const fx = await startEngine({ maxCalls: MAX_CALLS, queue: 512 }, 'warn');
    attachDemoApp(fx.engine);
    const engine = fx.engine;
    const book = new CallBook(engine);
    const rnd = seeded(SEED);
    const cx: ChurnContext = { url: fx.url, book, open: new Set(), serverCloseCodes: [], problems: [] };
    const steady: SteadyEcho[] = [];
    let closeError: Error | null;
    try {
      // Steady calls. A queue of 512 frames (10 s) rather than 120: the echo producer is this
      // process's own event loop, and on a loaded 2-core machine a multi-second stall must not turn
      // into a drop that fails a test about leaks.
      for (let i = 0; i < STEADY_ECHO; i++) {
        const c = await fx.connect();
        c.start({ mode: 'echo' });
        steady.push(new SteadyEcho(c, await book.callFor(c.streamSid), (i + 1) * 1_000_000));
      }
      const toneClient = await fx.connect();
      toneClient.start({ mode: 'tone' });
      const toneCall = await book.callFor(toneClient.streamSid);
      const toneB64 = Buffer.from(TONE_FRAME).toString('base64');
      let toneFrames = 0;
      let toneForeign = 0;
      const drainTone = (): void => {
        for (const m of toneClient.received.splice(0)) {
          if (m.event !== 'media') continue;
          toneFrames++;
          if (m.media!.payload !== toneB64) toneForeign++;
        }
      };
      const steadyCalls = new Set<Call>([...steady.map((s) => s.call), toneCall]);
      await until(() => engine.calls.size === STEADY, 10_000, 'steady calls up');

      const engineListeners = listenerCounts(engine);
      const processListeners = listenerCounts(process);
      const steadyListeners = [...steadyCalls].map((c) => listenerCounts(c));
      const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
      const socketsBefore = sockets();
      const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

      const endings: Ending[] = [];
      const heapByWave: number[] = [];
      let heapWarm = 0;
      let callsAtWarm = 0;
      for (let wave = 1; wave <= WAVES; wave++) {
        const kinds = Array.from({ length: PER_WAVE }, () => ENDINGS[Math.floor(rnd() * ENDINGS.length)]!);
        endings.push(...kinds);
        await Promise.all(kinds.map((k) => churnOne(cx, seeded(Math.floor(rnd() * 2 ** 32)), k)));
        assert.deepEqual(book.laneConflicts, [], `wave ${wave}: no lane is used by two calls at once`);
        assert.deepEqual(cx.problems.slice(0, 5), [], `wave ${wave}: every churned call ran as scripted`);
        await until(() => engine.calls.size === STEADY, 10_000, `wave ${wave}: churned calls released`);
        await until(() => sockets() === socketsBefore, 10_000, `wave ${wave}: sockets back to ${socketsBefore}`);
        steady.forEach((s) => s.drain());
        drainTone();
        if (wave >= WARM_WAVE) {
          heapByWave.push(heapAfterGc());
          if (wave === WARM_WAVE) {
            heapWarm = heapByWave[0]!;
            callsAtWarm = endings.length;
          }
        }
      }

      // Every started call closed exactly once and is gone from the engine.
      assert.equal(engine.calls.size, STEADY);
      assert.ok(
        [...engine.calls].every((c) => steadyCalls.has(c)),
        'only the steady calls are left',
      );
      assert.equal(engine.stats().calls, STEADY);
      assert.equal(book.doubleClose, 0, "no call emitted 'close' twice");
      assert.equal(book.closed, book.started - STEADY, "every churned call that started emitted 'close'");
      assert.ok(
        book.started - STEADY >=
          endings.filter((e) => e !== 'close-before-start' && e !== 'start-then-terminate').length,
      );
      const codes = cx.serverCloseCodes;
      assert.ok(
        codes.length > 0 && codes.every((c) => c === 1000),
        `call.close() closes with 1000 (got ${JSON.stringify(countBy(codes.map(String)))})`,
      );

      // Sockets: both ends of every churned connection are gone (loopback: client and server side
      // are both in this process). Timers: none left running for a dead call.
      await until(() => sockets() === socketsBefore, 10_000, `sockets back to ${socketsBefore}`);
      const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      assert.ok(timersAfter <= timersBefore, `no timer left behind (${timersBefore} before, ${timersAfter} after)`);

      // Listeners on everything we can reach.
      assert.deepEqual(listenerCounts(engine), engineListeners, 'engine listeners unchanged');
      assert.deepEqual(listenerCounts(process), processListeners, 'process listeners unchanged');
      assert.deepEqual(
        [...steadyCalls].map((c) => listenerCounts(c)),
        steadyListeners,
        'steady calls gained no listeners',
      );
      assert.deepEqual(
        warnings.map((w) => `${w.name}: ${w.message}`),
        [],
        'no process warning (MaxListenersExceededWarning or other)',
      );

      // No churned Call survived the last full GC (heapAfterGc ran after the last wave).
      const survivors = book.refs
        .map((r) => r.deref())
        .filter((c): c is Call => c !== undefined && !steadyCalls.has(c));
      assert.deepEqual(
        survivors.map((c) => c.streamSid),
        [],
        'no churned call is still reachable',
      );

      // Heap flat after warm-up.
      const heapEnd = heapByWave[heapByWave.length - 1]!;
      const churnedSinceWarm = endings.length - callsAtWarm;
      const growth = heapEnd - heapWarm;
      t.diagnostic(
        `heap after GC, MB, waves ${WARM_WAVE}..${WAVES}: ${heapByWave.map((h) => (h / 1048576).toFixed(1)).join(' ')}`,
      );
      t.diagnostic(
        `growth ${(growth / 1048576).toFixed(2)} MB over ${churnedSinceWarm} calls = ${(growth / churnedSinceWarm).toFixed(0)} B/call`,
      );
      assert.ok(
        growth < churnedSinceWarm * HEAP_BYTES_PER_CALL,
        `heap grew ${(growth / 1048576).toFixed(2)} MB over ${churnedSinceWarm} churned calls (bound ${HEAP_BYTES_PER_CALL} B/call)`,
      );

      // The steady calls: every frame back, in order, nothing lost or foreign.
      await Promise.all(steady.map((s) => s.stop()));
      await until(
        () => {
          steady.forEach((s) => s.drain());
          return steady.every((s) => s.verified >= s.sent);
        },
        15_000,
        'steady echoes',
      );
      drainTone();
      for (const [i, s] of steady.entries()) {
        assert.deepEqual(s.errors, [], `steady call ${i}: frames in order`);
        assert.equal(s.verified, s.sent, `steady call ${i}: every frame back`);
        assert.equal(s.call.stats().drops, 0, `steady call ${i}: no drops`);
      }
      assert.ok(
        toneFrames > 0 && toneForeign === 0,
        `tone call heard only its tone (${toneFrames} frames, ${toneForeign} foreign)`,
      );
      assert.equal(toneCall.stats().drops, 0);

      // Churn is not misbehaviour: messages a peer sent before it saw the application's close are
      // not read, a torn frame from a terminated peer is not a protocol error, and no lane was ever
      // short. So nothing at all is rejected.
      const rejected = engine.stats().rejected;
      t.diagnostic(
        `churned ${endings.length} calls (${book.started - STEADY} started): ${JSON.stringify(countBy(endings))}; rejected ${JSON.stringify(rejected)}`,
      );
      assert.deepEqual(rejected, {}, 'no rejection');

      // Every lane came back: with maxCalls 120, exactly 120 - STEADY more calls start, on distinct
      // lanes, and the next one is refused. A leaked lane would refuse one early; a lane released
      // twice would be handed to two calls at once (or let one call too many in).
      const fill: TwilioClient[] = [];
      for (let i = 0; i < MAX_CALLS - STEADY; i++) {
        try {
          fill.push(await fx.connect());
        } catch (err) {
          assert.fail(`fill stream ${i} of ${MAX_CALLS - STEADY} refused at the upgrade: ${(err as Error).message}`);
        }
      }
      fill.forEach((c) => c.start({ mode: 'echo' }));
      // A call that never starts is closed (1013 when no lane is free): race the two.
      const started = await Promise.all(fill.map((c) => Promise.race([cx.book.callFor(c.streamSid), c.closed()])));
      const refused = started.flatMap((x, i) => (typeof x === 'number' ? [`fill call ${i}: closed ${x}`] : []));
      assert.deepEqual(refused, [], `all ${MAX_CALLS - STEADY} free lanes were there`);
      const fillCalls = started as Call[];
      const lanes = new Set([...engine.calls].map((c) => lineOf(c)!.lane.index));
      assert.equal(engine.calls.size, MAX_CALLS);
      assert.equal(lanes.size, MAX_CALLS, 'every live call has its own lane');
      assert.equal(await oneTooMany(fx.url), 'refused', 'stream maxCalls + 1 is refused');
      // With io: 'worker' the count reaches main one I/O turn after the refusal.
      await until(() => engine.stats().rejected[ErrorCodes.TOO_MANY_CALLS] !== undefined, 2000, 'the refusal counted');
      assert.equal(engine.stats().rejected[ErrorCodes.TOO_MANY_CALLS], 1);

      // A recycled lane never plays a previous call's audio: each new call hears only its own frames.
      fill.forEach((c, i) => {
        for (let k = 0; k < 3; k++) c.media160(stampedFrame(90_000_000 + i * 10 + k));
      });
      await Promise.all(
        fill.map((c) =>
          c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 3, 15_000, 'recycled-lane echoes'),
        ),
      );
      await sleep(100);
      fill.forEach((c, i) => {
        assert.deepEqual(
          c.media.map((m) => readStamp(payloadBytes(m))),
          [0, 1, 2].map((k) => 90_000_000 + i * 10 + k),
          `fill call ${i} (lane ${lineOf(fillCalls[i]!)!.lane.index})`,
        );
      });
    } finally {
      process.off('warning', onWarning);
      for (const c of cx.open) c.ws.terminate();
      await Promise.all(steady.map((s) => s.stop()));
      // A close that hangs must not hide the failure that got us here; it fails the test below.
      closeError = await withDeadline(fx.close(), 20_000, 'engine.close()').then(
        () => null,
        (err: Error) => err,
      );
    }
    assert.equal(closeError, null);
    // And a closed engine leaves nothing running: no socket, server, worker or port. (Polled: a
    // closed handle leaves the list in the loop's close phase, just after close() resolves.)
    const left = (): string[] => process.getActiveResourcesInfo().filter((r) => /^(TCP|Worker|MessagePort)/.test(r));
    await until(() => left().length === 0, 5000, 'no socket, server or port left after engine.close()');
  },
);
