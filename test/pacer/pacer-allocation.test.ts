import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from 'node:inspector';
import { AttentionReader, AttentionWriter } from '../../src/pacer/attention-ring.js';
import { ItemList } from '../../src/pacer/item-list.js';
import { PacerCore } from '../../src/pacer/pacer-core.js';
import { attentionSlots, controlBytes } from '../../src/pacer/pacer-layout.js';
import { LaneRing } from '../../src/ring/lane-ring.js';
import { CORE_OPTIONS, wireFor } from '../helpers/core-harness.js';

// Garbage on the pacer thread is paid in scavenges that stop it, and a young generation that keeps
// the pages it grew. The pacer's side of a frame (step, build, batch reuse) must allocate nothing:
// V8's sampling heap profiler, counting objects the GC has already collected too, attributes every
// sampled allocation to the function that made it.

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

function post<T>(s: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    s.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))),
  );
}

/** Bytes sampled in functions of src/pacer (the pacer's code) while `run` ran. */
async function pacerBytesDuring(run: () => void): Promise<{ bytes: number; where: string[] }> {
  const s = new Session();
  s.connect();
  try {
    await post(s, 'HeapProfiler.enable');
    await post(s, 'HeapProfiler.startSampling', {
      samplingInterval: 128,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    run();
    const { profile } = await post<{ profile: { head: ProfileNode } }>(s, 'HeapProfiler.stopSampling');
    let bytes = 0;
    const where: string[] = [];
    const walk = (n: ProfileNode): void => {
      if (n.selfSize > 0 && /\/src\/pacer\//.test(n.callFrame.url)) {
        bytes += n.selfSize;
        where.push(
          `${n.callFrame.functionName} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1} ${n.selfSize} B`,
        );
      }
      n.children.forEach(walk);
    };
    walk(profile.head);
    return { bytes, where };
  } finally {
    s.disconnect();
  }
}

test('the pacer builds frames for 1000 lanes in 4 phases without allocating', async () => {
  const lanes = 1000;
  const slots = attentionSlots(lanes);
  const control = new SharedArrayBuffer(controlBytes(slots));
  const attention = new AttentionWriter(control, slots);
  const core = new PacerCore({ ...CORE_OPTIONS, lead: 3 }, new AttentionReader(control, slots));
  const rings: LaneRing[] = [];
  const headers: Int32Array[] = [];
  for (let i = 0; i < lanes; i++) {
    const ring = new LaneRing(120);
    rings.push(ring);
    headers.push(new Int32Array(ring.sab, 0, 64));
    core.open(i, ring.sab, wireFor(`MZ${String(i).padStart(32, '0')}`), ring.owner);
  }
  const frame = new Uint8Array(160).fill(0x7f);
  let now = 1000;
  const run = (ticks: number): void => {
    for (let t = 0; t < ticks; t++) {
      // A producer in real time: one frame per lane per 20 ms, the pacer waking every 5 ms.
      if (t % 4 === 0) {
        for (let i = 0; i < lanes; i++) {
          rings[i]!.pushFrame(frame, 0);
          if (rings[i]!.pacerIdle()) attention.push(i, headers[i]!);
        }
      }
      core.step(now);
      const batch = core.batch.take();
      if (batch) core.batch.recycle(batch);
      now += 5;
    }
  };
  run(2000); // optimised code, a settled schedule and batch buffers in the pool
  const before = core.framesBuilt;
  const { bytes, where } = await pacerBytesDuring(() => run(4000));
  const frames = core.framesBuilt - before;
  assert.equal(frames, 1_000_000);
  // Before the fix: about 28 B a frame (the due list's store dropped and regrown on every wake).
  assert.ok(bytes / frames < 0.5, `${(bytes / frames).toFixed(2)} B per frame in the pacer: ${where.join('; ')}`);
  for (const r of rings) assert.equal(r.drops, 0);
});

test('an item list keeps its order and count, and is reused after clear()', () => {
  const list = new ItemList<object>();
  const a = {};
  list.push(a);
  list.push({});
  assert.equal(list.length, 2);
  assert.equal(list.at(0), a);
  list.clear();
  assert.equal(list.length, 0);
  list.push(a);
  assert.equal(list.length, 1);
  assert.equal(list.at(0), a);
});
