import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { getPriority } from 'node:os';
import { pino } from 'pino';
import { createEngine, type PacerStats } from '../../src/index.js';

test('pacerNice changes the pacer thread only, and the pacer reports it', async () => {
  const mainBefore = getPriority(0);
  // Raising the nice value (lower priority) needs no privilege, so this runs anywhere.
  const target = Math.min(19, mainBefore + 5);
  const engine = await createEngine({ pacerNice: target, logger: pino({ level: 'silent' }) });
  try {
    const [stats] = (await once(engine, 'pacerStats')) as [PacerStats];
    assert.equal(stats.niceError, null);
    assert.equal(stats.nice, target, 'the pacer thread runs at the requested nice value');
    assert.equal(getPriority(0), mainBefore, 'the main thread kept its own');
  } finally {
    await engine.close();
  }
});
