import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttentionReader, AttentionWriter } from '../../src/pacer/attention-ring.js';
import { readBatch } from '../../src/handback/batch-reader.js';
import { PacerCore } from '../../src/pacer/pacer-core.js';
import { attentionSlots, controlBytes, type LaneWire } from '../../src/pacer/pacer-layout.js';
import { LaneRing } from '../../src/ring/lane-ring.js';
import { CORE_OPTIONS } from '../helpers/core-harness.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';
import { wsPayload } from '../../src/pacer/ws-frame.js';

/** A core and one lane of `frameBytes`, opened with `wire`; `step` returns each message's bytes. */
function rig(frameBytes: number, wire: LaneWire, lead = 0) {
  const slots = attentionSlots(4);
  const control = new SharedArrayBuffer(controlBytes(slots));
  const attention = new AttentionWriter(control, slots);
  const core = new PacerCore({ ...CORE_OPTIONS, lead, phases: 1 }, new AttentionReader(control, slots));
  const ring = new LaneRing(120, undefined, 0, frameBytes);
  core.open(0, ring.sab, wire, ring.owner);
  const wakeLane = (): void => {
    attention.push(0, new Int32Array(ring.sab, 0, 64));
  };
  const push = (from: number, n: number): void => {
    for (let i = 0; i < n; i++) {
      ring.pushFrame(stampedFrame(from + i, new Uint8Array(frameBytes)), 0);
      if (ring.pacerIdle()) wakeLane();
    }
  };
  /** Every record as it is, WebSocket header included. */
  const frames: Buffer[] = [];
  const step = (now: number): Buffer[] => {
    core.step(now);
    const out: Buffer[] = [];
    const batch = core.batch.take();
    if (batch) {
      readBatch(batch, {
        frame: (_l, _g, _o, w) => {
          out.push(Buffer.from(wsPayload(w)));
          frames.push(Buffer.from(w));
          return false;
        },
        mark: () => undefined,
      });
      core.batch.recycle(batch);
    }
    return out;
  };
  return { core, ring, push, step, frames, wake: wakeLane };
}

const none = new Uint8Array(0);
const decode = (m: Buffer): number[] => {
  const bytes = Buffer.from((JSON.parse(m.toString()) as { p: string }).p, 'base64');
  return Array.from({ length: bytes.length / 320 }, (_, i) => readStamp(bytes, i * 320, 320));
};

test('binary lanes: each message is the raw frame of the lane’s size (640 bytes of L16 16 kHz), one per 20 ms', () => {
  const r = rig(640, { prefix: none, suffix: none, binary: true, framesPerMessage: 1 });
  r.push(0, 5);
  const msgs = [...r.step(0), ...r.step(20), ...r.step(40)];
  assert.deepEqual(
    msgs.map((m) => m.length),
    [640, 640, 640],
  );
  assert.deepEqual(
    msgs.map((m) => readStamp(m, 0, 640)),
    [0, 1, 2],
  );
  // Each record is the whole WebSocket frame: FIN + binary, 16-bit length 640, no mask.
  assert.deepEqual(
    r.frames.map((f) => [...f.subarray(0, 4), f.length]),
    Array.from({ length: 3 }, () => [0x82, 126, 640 >> 8, 640 & 0xff, 644]),
  );
});

test('text lanes: every record is one whole text frame, its header sized to the message (7-bit or 16-bit length)', () => {
  const tiny = rig(30, {
    prefix: Buffer.from('{"p":"'),
    suffix: Buffer.from('"}'),
    binary: false,
    framesPerMessage: 1,
  });
  tiny.push(0, 1);
  const [small] = tiny.step(0);
  assert.equal(small!.length, 6 + 40 + 2);
  assert.deepEqual([...tiny.frames[0]!.subarray(0, 2)], [0x81, 48], 'FIN + text, 7-bit length, no mask bit');
  const twilio = rig(160, {
    prefix: Buffer.from('{"p":"'),
    suffix: Buffer.from('"}'),
    binary: false,
    framesPerMessage: 1,
  });
  twilio.push(0, 1);
  const [msg] = twilio.step(0);
  assert.equal(msg!.length, 6 + 216 + 2);
  assert.deepEqual([...twilio.frames[0]!.subarray(0, 4)], [0x81, 126, 0, 224], 'FIN + text, 16-bit length 224');
});

test('batching lanes (Exotel): a message carries up to framesPerMessage frames as one base64 payload; the schedule moves 20 ms per frame; a mark ends a batch', () => {
  const r = rig(
    320,
    { prefix: Buffer.from('{"p":"'), suffix: Buffer.from('"}'), binary: false, framesPerMessage: 4 },
    0,
  );
  r.push(0, 6);
  r.ring.pushMark(7);
  r.push(6, 3);
  assert.deepEqual(
    r.step(0).map(decode),
    [
      [0, 1, 2, 3],
      [4, 5],
    ],
    'two messages may be out at once (lead + one message); the mark ends the second',
  );
  assert.deepEqual(
    r.step(100).map(decode),
    [],
    'three frames queued, the carrier holds 20 ms more: wait for a full message',
  );
  assert.deepEqual(r.step(120).map(decode), [[6, 7, 8]], 'the carrier is down to the lead (0): what is queued goes');
});

test('batching lanes with a real-time producer: the first message waits for a full batch (or times out), then every message is full', () => {
  const wire = { prefix: Buffer.from('{"p":"'), suffix: Buffer.from('"}'), binary: false, framesPerMessage: 4 };
  const short = rig(320, wire, 0);
  short.push(0, 1);
  assert.deepEqual(short.step(0).map(decode), [], 'one frame: wait for a full message');
  assert.deepEqual(short.step(60).map(decode), []);
  assert.deepEqual(
    short.step(80).map(decode),
    [[0]],
    'a short utterance goes once its audio has waited a message long',
  );

  const live = rig(320, wire, 0);
  const msgs: number[][] = [];
  for (let t = 0, seq = 0; t <= 480; t += 20) {
    live.push(seq++, 1);
    msgs.push(...live.step(t).map(decode));
  }
  assert.deepEqual(
    msgs.map((m) => m.length),
    [4, 4, 4, 4, 4, 4],
    'every message full',
  );
  assert.deepEqual(
    msgs.flat(),
    Array.from({ length: 24 }, (_, k) => k),
    'in order, nothing lost',
  );
});

test('a paused lane (Asterisk MEDIA_XOFF) sends nothing and keeps its queue; resumed, it plays on from where it stopped', () => {
  const r = rig(160, { prefix: none, suffix: none, binary: true, framesPerMessage: 1 });
  r.push(0, 3);
  assert.equal(r.step(0).length, 1);
  r.ring.setPaused(true);
  assert.deepEqual([...r.step(20), ...r.step(40), ...r.step(60)], []);
  r.push(3, 2);
  assert.deepEqual(r.step(80), [], 'new audio on a paused lane waits too');
  assert.equal(r.ring.depth(), 4);
  r.ring.setPaused(false);
  r.wake();
  const msgs = [...r.step(100), ...r.step(120), ...r.step(140), ...r.step(160)];
  assert.deepEqual(
    msgs.map((m) => readStamp(m, 0, 160)),
    [1, 2, 3, 4],
  );
});
