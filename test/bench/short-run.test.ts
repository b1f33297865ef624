import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../bench/lib/run-scenario.js';

// The bench is tested for behaviour, not speed: a short run against a real `ptime serve` process
// (and one baseline behind the same server) must produce a report whose counts add up.

test('a 5-call, 2 s run against ptime serve: frames received = frames the server sent', async () => {
  const r = await runScenario({ scenario: 'short', pacer: 'ptime', calls: 5, seconds: 2, rampPerSec: 50 });
  assert.equal(r.check.serverExit, 0, 'the server shut down cleanly on SIGTERM');
  assert.equal(r.check.failedToConnect, 0);
  assert.equal(r.calls, 5);
  assert.ok(r.aggregate.framesReceived > 5 * 50, `frames came back (${r.aggregate.framesReceived})`);
  assert.equal(r.aggregate.framesReceived, r.check.serverFramesSent);
  assert.equal(
    r.calls_detail!.reduce((n, c) => n + c.framesReceived, 0),
    r.aggregate.framesReceived,
  );
  assert.deepEqual(
    r.aggregate.late.map((l) => l.bufferMs),
    [0, 20, 60],
  );
  for (const l of r.aggregate.late) {
    assert.equal(l.frames, r.aggregate.framesReceived);
    assert.ok(l.late >= 0 && l.late <= l.frames);
  }
  assert.ok(
    r.aggregate.late[2]!.late <= r.aggregate.late[0]!.late,
    'a deeper jitter buffer never has more late frames',
  );
  assert.equal(
    r.aggregate.intervalMs.count,
    r.aggregate.framesReceived - 5,
    'one interval per frame after each call’s first',
  );
  assert.ok(r.server.cpuPct !== null && r.server.rssMb !== null, 'server figures were read from its log');
  assert.equal(r.server.drops, 0);
});

test('a baseline runs behind the same server and demo app, and its counts add up too', async () => {
  const r = await runScenario({ scenario: 'short', pacer: 'interval', calls: 3, seconds: 1, rampPerSec: 50 });
  assert.equal(r.pacer, 'interval');
  assert.equal(r.check.serverExit, 0);
  assert.ok(r.aggregate.framesReceived > 0);
  assert.equal(r.aggregate.framesReceived, r.check.serverFramesSent);
  assert.equal(r.server.pacerCpuPct, null, 'a main-thread baseline has no pacer thread');
});
