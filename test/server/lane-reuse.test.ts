import { test } from 'node:test';
import { lineOf } from '../../src/engine/call-line.js';
import assert from 'node:assert/strict';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { TONE_FRAME } from '../../src/demo/demo-frames.js';
import type { Call } from '../../src/index.js';
import { startEngine, until } from '../helpers/engine-fixture.js';
import { TwilioClient } from '../helpers/twilio-client.js';
import { seeded } from '../helpers/seeded.js';

// Lane reuse under churn, at the socket. LanePool hands a released lane to the very next call
// (LIFO), while the pacer thread reads its open/close commands only at the top of its loop and
// keeps each lane's wire prefix, which holds the streamSid. Whatever the interleaving, every
// message a socket receives must name that socket's stream: a frame built with the previous
// call's prefix carries the previous call's streamSid, and Twilio would drop it.
//
// What gives that interleaving its chances:
// - tone mode: the demo fills the queue inside the 'call' event, so audio is queued in the same
//   tick as the lane is acquired;
// - each churner has its next socket connected already and sends its `start` in the same tick as
//   the current call's stop or hang-up, so main releases a lane and takes it again back to back;
// - many churners at once, and a few steady calls, so the pacer is often in the middle of a step;
// - pacerNice 19: the pacer thread yields the CPU to any other thread (main's GC helpers, the
//   test runner), so it is more often stopped between reading its commands and visiting a lane.
//   That window exists at any priority; this only widens it, as a loaded host does. On a loaded
//   2-core machine, with the bug, this test failed in 3 runs of 8 without it and in 26 of 26 with it.
// Nothing is timed: only what arrived on which socket.

const SEED = 0x1a7e_2e05;
const STEADY = 4;
const CHURNERS = 24;
const CALLS_PER_CHURNER = 80;
/**
 * Sockets count against maxCalls from the upgrade. A churner holds its current call, its next
 * socket, and the call it just hung up until the server sees that socket close (rarely two of
 * those). Lanes are created on demand and reused LIFO, so this bound does not decide reuse.
 */
const MAX_CALLS = STEADY + 4 * CHURNERS;

const ENDINGS = ['stop', 'stop-then-close', 'close', 'terminate'] as const;
type Ending = (typeof ENDINGS)[number];

const TONE_B64 = Buffer.from(TONE_FRAME).toString('base64');

interface Churned {
  client: TwilioClient;
  ending: Ending;
  /** Media frames to receive before hanging up (0: hang up at once). */
  framesBeforeEnd: number;
  /** Send a digit first: the demo answers it with clear() and a mark. */
  dtmf: boolean;
}

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of items) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** Messages on `client` that do not name its own stream, for the assertion message. */
function foreign(client: TwilioClient): string[] {
  return client.received.flatMap((m, i) =>
    m.streamSid === client.streamSid ? [] : [`#${i} ${m.event} for ${String(m.streamSid)}`],
  );
}

function hangUp(client: TwilioClient, ending: Ending): void {
  switch (ending) {
    case 'stop':
      client.stop();
      break;
    case 'stop-then-close':
      client.stop();
      client.close();
      break;
    case 'close':
      client.close();
      break;
    case 'terminate':
      client.ws.terminate();
      break;
  }
}

/** `calls` tone calls back to back; each ends in the same tick as the next one starts. */
async function churner(url: string, rnd: () => number, calls: number, out: Churned[]): Promise<void> {
  let spare = await TwilioClient.connect(url);
  let current: Churned | null = null;
  /** Stopped calls whose socket is still open (Twilio closes it a moment after `stop`). */
  let lingering: TwilioClient[] = [];
  const closes: Promise<number>[] = [];
  const close = (c: TwilioClient): void => {
    c.close();
    closes.push(c.closed());
  };
  try {
    for (let i = 0; i < calls; i++) {
      const next: Churned = {
        client: spare,
        ending: ENDINGS[Math.floor(rnd() * ENDINGS.length)]!,
        framesBeforeEnd: Math.floor(rnd() * 4),
        dtmf: rnd() < 0.15,
      };
      out.push(next);
      const ended = current;
      if (ended) hangUp(ended.client, ended.ending);
      next.client.start({ mode: 'tone' });
      // Bookkeeping only now: nothing goes out between the hang-up and the next start.
      lingering.forEach(close);
      lingering = [];
      if (ended?.ending === 'stop') lingering.push(ended.client);
      else if (ended) closes.push(ended.client.closed());
      current = next;
      const connecting = TwilioClient.connect(url);
      connecting.catch(() => {}); // awaited below; a failure must not be unhandled meanwhile
      if (next.framesBeforeEnd > 0) {
        const n = next.framesBeforeEnd;
        await next.client.waitFor(
          (m) => m.filter((x) => x.event === 'media').length >= n,
          10_000,
          `${n} frames on a churned call`,
        );
      }
      if (next.dtmf) next.client.dtmf('7');
      spare = await connecting;
    }
  } finally {
    if (current) hangUp(current.client, 'stop-then-close');
    if (current) closes.push(current.client.closed());
    lingering.forEach(close);
    close(spare);
    await Promise.all(closes);
  }
}

test(
  'lane reuse: under back-to-back churn every message a socket receives names its own stream',
  { timeout: 90_000 },
  async (t) => {
    const fx = await startEngine({ maxCalls: MAX_CALLS, pacerNice: 19 }, 'warn');
    attachDemoApp(fx.engine);
    const engine = fx.engine;
    const calls = new Map<string, Call>();
    const liveOnLane = new Map<number, string>();
    const laneConflicts: string[] = [];
    engine.on('call', (call) => {
      calls.set(call.streamSid, call);
      const lane = lineOf(call)!.lane.index;
      const other = liveOnLane.get(lane);
      if (other !== undefined) laneConflicts.push(`lane ${lane}: ${other} and ${call.streamSid}`);
      liveOnLane.set(lane, call.streamSid);
      call.once('close', () => {
        if (liveOnLane.get(lane) === call.streamSid) liveOnLane.delete(lane);
      });
    });
    const laneOf = (c: TwilioClient): number | undefined => lineOf(calls.get(c.streamSid)!)?.lane.index;
    try {
      const steady: TwilioClient[] = [];
      for (let i = 0; i < STEADY; i++) {
        const c = await fx.connect();
        c.start({ mode: 'tone' });
        steady.push(c);
      }
      await Promise.all(steady.map((c) => c.waitFor((m) => m.length > 0, 10_000, 'steady audio')));

      const rnd = seeded(SEED);
      const churned: Churned[] = [];
      await Promise.all(
        Array.from({ length: CHURNERS }, () =>
          churner(fx.url, seeded(Math.floor(rnd() * 2 ** 32)), CALLS_PER_CHURNER, churned),
        ),
      );
      await until(() => engine.calls.size === STEADY, 10_000, 'churned calls released');

      const lanes = new Set(churned.map((c) => laneOf(c.client)));
      const wrong = churned.filter((c) => foreign(c.client).length > 0);
      t.diagnostic(
        `${churned.length} churned calls on ${lanes.size} lanes, ${churned.reduce((n, c) => n + c.client.received.length, 0)} messages; ` +
          `endings ${JSON.stringify(countBy(churned.map((c) => c.ending)))}; ${wrong.length} sockets got another stream's messages`,
      );
      assert.deepEqual(
        churned.filter((c) => !calls.has(c.client.streamSid)).map((c) => c.client.streamSid),
        [],
        'every churned start got a call',
      );
      assert.ok(lanes.size * 4 < churned.length, `lanes were reused (${churned.length} calls on ${lanes.size} lanes)`);
      assert.deepEqual(laneConflicts, [], 'no lane held by two calls at once');

      // The steady calls ran through all of it unbroken (checked before the churned sockets, so a
      // failure there does not hide how these fared): only their own tone, the pacer never ran
      // dry, nothing dropped, and every frame the engine sent arrived. Stopped first, so the count
      // they are held to stops moving.
      const steadyCalls = steady.map((c) => calls.get(c.streamSid)!);
      assert.ok(
        steadyCalls.every((c) => !c.isClosed),
        'steady calls still up after the churn',
      );
      steady.forEach((c) => c.stop());
      await until(() => engine.calls.size === 0, 10_000, 'steady calls stopped');
      await until(
        () => steady.every((c, i) => c.media.length >= steadyCalls[i]!.stats().framesSent),
        10_000,
        'steady frames in flight delivered',
      );
      for (const [i, c] of steady.entries()) {
        const s = steadyCalls[i]!.stats();
        assert.deepEqual(foreign(c).slice(0, 5), [], `steady call ${i}: only its own stream`);
        assert.equal(
          c.received.filter((m) => m.event !== 'media' || m.media?.payload !== TONE_B64).length,
          0,
          `steady call ${i}: only tone frames`,
        );
        assert.equal(c.media.length, s.framesSent, `steady call ${i}: every frame sent arrived`);
        assert.ok(s.framesSent > 0, `steady call ${i}: streamed`);
        assert.equal(s.underruns, 0, `steady call ${i}: no underrun`);
        assert.equal(s.drops, 0, `steady call ${i}: no drop`);
        await until(() => c.closeCode !== null, 5000, `steady call ${i}: closed after its stop`);
        assert.equal(c.closeCode, 1000, `steady call ${i}: open until our stop, then closed by ptime with 1000`);
      }

      assert.deepEqual(
        wrong.slice(0, 10).map((c) => {
          const bad = foreign(c.client);
          return `${c.client.streamSid} (lane ${laneOf(c.client)}, ${c.client.received.length} messages): ${bad.slice(0, 2).join(', ')}${bad.length > 2 ? `, +${bad.length - 2} more` : ''}`;
        }),
        [],
        `churned sockets that received another stream's messages (${wrong.length} of ${churned.length})`,
      );
      const events = countBy(churned.flatMap((c) => c.client.received.map((m) => m.event)));
      assert.deepEqual(
        Object.keys(events).filter((e) => e !== 'media' && e !== 'mark' && e !== 'clear'),
        [],
        `only media, mark and clear go out (${JSON.stringify(events)})`,
      );
      assert.deepEqual(engine.stats().rejected, {}, 'every message the churners sent was accepted');
    } finally {
      await fx.close();
    }
  },
);
