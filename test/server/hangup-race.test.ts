import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Call, SampleRate } from '../../src/index.js';
import { startEngine, until, type Fixture } from '../helpers/engine-fixture.js';
import type { TwilioClient } from '../helpers/twilio-client.js';
import { seeded } from '../helpers/seeded.js';

/**
 * What a bot does on a call, on timers, with no guard of its own: the way a real app calls the API
 * between awaits (an LLM turn, a TTS stream), so the caller may hang up, or the engine start
 * draining, between any two of its calls. None of them may throw for that reason, and every promise
 * they return must settle.
 */
class Bot {
  pendingPromises = 0;
  readonly rejections: unknown[] = [];
  readonly speakStatuses = new Map<string, number>();
  private utterances: string[] = [];
  private turns = 0;

  constructor(
    private readonly call: Call,
    private readonly rand: () => number,
  ) {}

  /** Turns every 5–60 ms until a few turns after the call ended. */
  async run(): Promise<void> {
    let afterEnd = 0;
    while (afterEnd < 6) {
      await sleep(5 + Math.floor(this.rand() * 55));
      this.turn();
      if (this.call.state === 'closed') afterEnd++;
    }
  }

  private track<T>(p: Promise<T>, onValue?: (v: T) => void): void {
    this.pendingPromises++;
    p.then(
      (v) => {
        this.pendingPromises--;
        onValue?.(v);
      },
      (err: unknown) => {
        this.pendingPromises--;
        this.rejections.push(err);
      },
    );
  }

  private turn(): void {
    const call = this.call;
    const n = ++this.turns;
    const op = Math.floor(this.rand() * 16);
    switch (op) {
      case 0:
        call.send(new Uint8Array(1 + Math.floor(this.rand() * 800)).fill(0x7f));
        break;
      case 1: {
        const rates: SampleRate[] = [8000, 16000, 24000];
        const rate = rates[Math.floor(this.rand() * rates.length)] ?? 8000;
        // Long chunks go to the codec pool: a hang-up while they convert must lose nothing else.
        call.sendPcm16(new Int16Array(Math.floor((rate / 1000) * (5 + this.rand() * 150))).fill(1000), rate);
        break;
      }
      case 2:
        call.flush();
        break;
      case 3:
        this.track(call.mark(`m${n}`));
        break;
      case 4:
        this.utterances.push(call.beginUtterance());
        break;
      case 5:
        call.endUtterance();
        break;
      case 6:
      case 7:
        this.speak(n);
        break;
      case 8:
        call.clear();
        break;
      case 9:
        this.track(call.writable());
        break;
      case 10: {
        const id = this.utterances[Math.floor(this.rand() * this.utterances.length)];
        call.heard();
        if (id !== undefined) call.heard(id);
        break;
      }
      case 11:
        if (this.rand() < 0.5) call.enableInboundPcm16(16000);
        else call.disableInboundPcm16();
        break;
      case 12:
        void call.stats();
        void call.queueDepth;
        void call.accepting;
        break;
      case 13: {
        // A turn cut by the app's own VAD: the signal aborts mid-utterance.
        const ac = new AbortController();
        this.speak(n, ac.signal);
        setTimeout(() => ac.abort(), Math.floor(this.rand() * 200));
        break;
      }
      case 14:
        if (this.rand() < 0.1) call.close();
        break;
      default:
        call.send(new Uint8Array(160).fill(0xff));
    }
  }

  private speak(n: number, signal?: AbortSignal): void {
    const rand = this.rand;
    const chunks = 1 + Math.floor(rand() * 20);
    // A TTS stream: chunks arrive over time, some as PCM at another rate.
    async function* tts(): AsyncGenerator<Uint8Array | { pcm: Int16Array; sampleRate: SampleRate }> {
      for (let i = 0; i < chunks; i++) {
        await sleep(Math.floor(rand() * 30));
        yield i % 3 === 2 ? { pcm: new Int16Array(480).fill(500), sampleRate: 24000 } : new Uint8Array(400).fill(0x55);
      }
    }
    const opts = signal ? { utterance: `s${n}`, signal } : { utterance: `s${n}` };
    this.track(this.call.speak(tts(), opts), (r) =>
      this.speakStatuses.set(r.status, (this.speakStatuses.get(r.status) ?? 0) + 1),
    );
  }
}

/** The carrier's side: inbound audio at 50/s, marks echoed a little later as Twilio does, and a hang-up at `hangUpMs`. */
function carrier(c: TwilioClient, rand: () => number, hangUpMs: number): Promise<void> {
  c.start();
  const media = setInterval(() => {
    if (c.ws.readyState === c.ws.OPEN) c.media160(new Uint8Array(160).fill(0xfe));
  }, 20);
  c.ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { event: string; mark?: { name: string } };
    if (msg.event === 'mark' && msg.mark) {
      const name = msg.mark.name;
      setTimeout(() => {
        if (c.ws.readyState === c.ws.OPEN) c.echoMark(name);
      }, 60);
    }
  });
  return (async () => {
    await sleep(hangUpMs);
    const how = rand();
    if (how < 0.4) c.stop();
    else if (how < 0.7) c.ws.close();
    else c.ws.terminate();
    clearInterval(media);
    if (c.ws.readyState !== c.ws.CLOSED) await c.closed();
  })();
}

interface Faults {
  uncaught: unknown[];
  unhandled: unknown[];
}

function watchFaults(): { faults: Faults; stop: () => void } {
  const faults: Faults = { uncaught: [], unhandled: [] };
  const onUncaught = (err: unknown): void => void faults.uncaught.push(err);
  const onUnhandled = (err: unknown): void => void faults.unhandled.push(err);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  return {
    faults,
    stop: () => {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUnhandled);
    },
  };
}

async function wave(fx: Fixture, rand: () => number, calls: number, hangUpMaxMs: number): Promise<Promise<void>[]> {
  const peers: Promise<void>[] = [];
  for (let i = 0; i < calls; i++) {
    const c = await fx.connect();
    peers.push(carrier(c, rand, 30 + Math.floor(rand() * hangUpMaxMs)));
  }
  return peers;
}

test('hundreds of callers hang up, and the engine drains, at random moments while the app calls every method: nothing throws, every promise settles', async () => {
  const rand = seeded(20261207);
  const { faults, stop } = watchFaults();
  const fx = await startEngine({ maxCalls: 200, lead: 3, markEveryMs: 200, drainMs: 600 });
  const bots: Promise<Bot>[] = [];
  const finished: Bot[] = [];
  fx.engine.on('call', (call) => {
    const bot = new Bot(call, rand);
    bots.push(bot.run().then(() => bot));
  });
  try {
    // Four waves of 60 calls that the callers end (stop, close, or a dropped connection)...
    for (let w = 0; w < 4; w++) await Promise.all(await wave(fx, rand, 60, 1500));
    // ...and a fifth the engine ends: it drains while the bots go on and some callers hang up.
    const last = await wave(fx, rand, 60, 3000);
    await until(() => fx.engine.calls.size >= 40, 5000, 'the last wave started');
    await sleep(200 + Math.floor(rand() * 400));
    await fx.engine.close({ drainMs: 600 });
    await Promise.all(last);
    finished.push(...(await Promise.all(bots)));
    await until(
      () => finished.every((b) => b.pendingPromises === 0),
      5000,
      'every promise the calls handed out to settle',
    );
  } finally {
    await fx.close();
    stop();
  }
  const statuses = new Map<string, number>();
  for (const b of finished) for (const [k, v] of b.speakStatuses) statuses.set(k, (statuses.get(k) ?? 0) + v);
  assert.equal(finished.length, 300, 'every call ran its bot to the end');
  assert.deepEqual(faults.uncaught, [], 'no uncaught exception');
  assert.deepEqual(faults.unhandled, [], 'no unhandled rejection');
  assert.deepEqual(
    finished.flatMap((b) => b.rejections),
    [],
    'no promise a call handed out rejected',
  );
  assert.equal(fx.engine.calls.size, 0);
  // The race is real only if speak() met all three ends: played, cut, and closed under it.
  for (const s of ['played', 'interrupted', 'closed'])
    assert.ok((statuses.get(s) ?? 0) > 0, `some speak() resolved ${s}: ${JSON.stringify([...statuses])}`);
});
