import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { slopePerMin, troughs, type SoakSample } from '../../bench/lib/soak-samples.js';

// The soak is tested for behaviour: a few seconds of it against a real `ptime serve` must churn
// calls, lose no steady frame, release every call and descriptor, and say so in its JSON.

const SOAK = fileURLToPath(new URL('../../bench/soak.js', import.meta.url));

interface SoakJson {
  samples: SoakSample[];
  idle: { fds: number | null };
  end: { fds: number | null; callsOpen: number; serverExit: number | null; serverDrops: number | null };
  steady: {
    calls: number;
    framesSent: number;
    framesEchoed: number;
    framesLost: number;
    sequenceBreaks: number;
    closedEarly: number;
  };
  churn: { churned: number; byEnding: Record<string, number>; connectFailures: number };
}

test(
  'a 4 s soak (8 steady calls, 15 churned/s): calls churned, no steady frame lost, everything released',
  { timeout: 60_000 },
  async () => {
    const out = mkdtempSync(join(tmpdir(), 'ptime-soak-'));
    try {
      const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [SOAK, '--secs', '4', '--steady', '8', '--churn-per-sec', '15', '--warmup-secs', '1', '--out', out],
          (err, so) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: so }),
        );
        child.stdin?.end();
      });
      assert.equal(code, 0, `soak exits 0:\n${stdout}`);
      const r = JSON.parse(readFileSync(join(out, 'soak.json'), 'utf8')) as SoakJson;
      assert.ok(r.samples.length >= 3, `a sample a second (${r.samples.length})`);
      assert.ok(r.churn.churned >= 20, `calls churned (${r.churn.churned})`);
      assert.equal(
        Object.values(r.churn.byEnding).reduce((a, b) => a + b, 0),
        r.churn.churned,
      );
      assert.equal(r.churn.connectFailures, 0);
      assert.equal(r.steady.calls, 8);
      assert.ok(r.steady.framesSent >= 8 * 150, `steady frames sent (${r.steady.framesSent})`);
      assert.equal(r.steady.framesEchoed, r.steady.framesSent);
      assert.equal(r.steady.framesLost, 0);
      assert.equal(r.steady.sequenceBreaks, 0);
      assert.equal(r.end.callsOpen, 0);
      assert.equal(r.end.fds, r.idle.fds, 'descriptors back to the idle count');
      assert.equal(r.end.serverDrops, 0);
      assert.equal(r.end.serverExit, 0);
      assert.match(stdout, /churned \d+ calls/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);

test('the soak rejects a bad flag with exit 2 and names it', async () => {
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(process.execPath, [SOAK, '--secs', 'soon'], (err, _so, se) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: se }),
    );
  });
  assert.equal(code, 2);
  assert.match(stderr, /--secs must be a number >= 1/);
});

const at = (tSec: number, heapUsedMb: number): SoakSample => ({
  tSec,
  heapUsedMb,
  rssMb: heapUsedMb,
  heapTotalMb: heapUsedMb,
  externalMb: 0,
  pacerHeapMb: null,
  calls: 0,
  fds: null,
  churned: 0,
  framesSentTotal: 0,
  dropsTotal: 0,
});

test('slope per minute: least squares over the samples, null when it cannot be had', () => {
  assert.equal(
    slopePerMin([at(0, 10), at(60, 12), at(120, 14)], (s) => s.heapUsedMb),
    2,
  );
  assert.equal(
    slopePerMin([at(0, 10)], (s) => s.heapUsedMb),
    null,
  );
  assert.equal(
    slopePerMin([at(5, 10), at(5, 11)], (s) => s.heapUsedMb),
    null,
  );
});

test('troughs: the lowest sample of each window, so GC sawtooth does not read as growth', () => {
  // A sawtooth that climbs between collections but whose floor is flat.
  const saw = [at(0, 10), at(1, 14), at(2, 18), at(3, 10), at(4, 14), at(5, 18), at(6, 10), at(7, 14), at(8, 18)];
  const t = troughs(saw, 3, (s) => s.heapUsedMb);
  assert.deepEqual(
    t.map((s) => [s.tSec, s.heapUsedMb]),
    [
      [0, 10],
      [3, 10],
      [6, 10],
    ],
  );
  assert.equal(
    slopePerMin(t, (s) => s.heapUsedMb),
    0,
  );
});
