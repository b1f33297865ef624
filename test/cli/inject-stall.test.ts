import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { attachDemoApp } from '../../src/demo/demo-app.js';
import { injectStalls, parseStall } from '../../src/cli/stall-injector.js';
import { ErrorCodes, PtimeError, type EngineFigures } from '../../src/index.js';
import { startEngine, until } from '../helpers/engine-fixture.js';

test('--inject-stall blocks the main thread (event-loop delay rises) while the pacer keeps ticking', async () => {
  const fx = await startEngine({ figuresIntervalMs: 500 });
  attachDemoApp(fx.engine);
  const ticksDuringStalls: number[] = [];
  const figures: EngineFigures[] = [];
  fx.engine.on('figures', (f) => figures.push(f));
  try {
    const c = await fx.connect();
    c.start({ mode: 'tone' }); // a producer keeps the lane playing, so the pacer has deadlines
    await once(fx.engine, 'call');
    const stop = injectStalls(parseStall('150@400'), () => {
      const before = fx.engine.pacerTicks;
      // Runs right after the blocking callback returns: the ticks the pacer made meanwhile.
      setImmediate(() => ticksDuringStalls.push(fx.engine.pacerTicks - before));
    });
    await until(() => ticksDuringStalls.length >= 3 && figures.length >= 3, 10_000, 'three stalls and figures');
    stop();
    assert.ok(
      ticksDuringStalls.every((t) => t >= 3),
      `the pacer ticked during every 150 ms stall: ${ticksDuringStalls.join(',')}`,
    );
    assert.ok(
      Math.max(...figures.map((f) => f.loopDelayP99Ms)) >= 100,
      `event-loop delay rose: ${figures.map((f) => f.loopDelayP99Ms).join(',')}`,
    );
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 50, 5000, 'audio kept flowing');
  } finally {
    await fx.close();
  }
});

test('a malformed --inject-stall is refused with a coded error', () => {
  for (const bad of ['50', '50@40', '0@100', 'x@y', '50@']) {
    assert.throws(
      () => parseStall(bad),
      (e: unknown) => e instanceof PtimeError && e.code === ErrorCodes.INVALID_OPTION,
    );
  }
  assert.deepEqual(parseStall('50@500'), { blockMs: 50, everyMs: 500 });
});
