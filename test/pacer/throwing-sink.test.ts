import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacedHost as PacerHost } from '../helpers/paced-host.js';
import { LaneRing } from '../../src/ring/lane-ring.js';
import { until } from '../helpers/engine-fixture.js';
import { readStamp, stampedFrame } from '../helpers/seeded.js';
import { messageText, wireFor } from '../helpers/core-harness.js';

const seqOf = (wire: Buffer | string): number =>
  readStamp(Buffer.from((JSON.parse(messageText(wire)) as { media: { payload: string } }).media.payload, 'base64'));

test('a sink that throws loses only its own frames: the other calls of the same batch are delivered', async () => {
  const host = new PacerHost({
    lead: 3,
    spinUs: 0,
    phases: 1,
    catchUpFrames: 2,
    lateMs: 2,
    maxInflightBatches: 500,
    nice: null,
  });
  const errors = host.sinkErrors;
  try {
    const bad = new LaneRing(120);
    const good = new LaneRing(120);
    const got: number[] = [];
    host.open(0, bad.sab, wireFor('MZ-BAD'), {
      onFrame: () => {
        throw new Error('application bug in a sink');
      },
      onMark: () => undefined,
    });
    host.open(1, good.sab, wireFor('MZ-GOOD'), {
      onFrame: (_g, wire) => {
        got.push(seqOf(wire));
        return false;
      },
      onMark: () => undefined,
    });
    // Queued before the wake, so both lanes start on the same step and share every batch.
    for (let s = 0; s < 10; s++) {
      bad.pushFrame(stampedFrame(s), 0);
      good.pushFrame(stampedFrame(s), 0);
    }
    host.wake(0);
    host.wake(1);
    await until(() => got.length === 10, 5000, 'every frame of the healthy call');
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(errors.length > 0, 'the throwing sink is reported');
    assert.ok(
      errors.every((e) => e.lane === 0),
      'as its own lane',
    );
  } finally {
    await host.stop();
  }
});
