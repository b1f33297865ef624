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

test('pacerRealtime puts the pacer thread alone under SCHED_FIFO (or says why not), and pacing goes on', async () => {
  const { execFileSync } = await import('node:child_process');
  const { startCall, startEngine } = await import('../helpers/engine-fixture.js');
  const { stampedFrame } = await import('../helpers/seeded.js');
  const fx = await startEngine({ pacerRealtime: 5 });
  try {
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const check = (): void => {
        if (
          fx.logs.some(
            (l) =>
              l.msg === 'pacer thread runs under SCHED_FIFO' ||
              l.msg.startsWith('could not put the pacer thread under SCHED_FIFO'),
          )
        )
          resolve();
        else if (Date.now() - t0 > 5000) reject(new Error('no line about SCHED_FIFO within 5 s'));
        else setTimeout(check, 20);
      };
      check();
    });
    const ok = fx.logs.find((l) => l.msg === 'pacer thread runs under SCHED_FIFO');
    if (ok) {
      // The kernel agrees, for that thread only.
      const policy = execFileSync('chrt', ['-p', String(ok['tid'])], { encoding: 'utf8' });
      assert.match(policy, /SCHED_FIFO/);
      assert.match(policy, /priority: 5/);
      assert.match(
        execFileSync('chrt', ['-p', String(process.pid)], { encoding: 'utf8' }),
        /SCHED_OTHER/,
        'main keeps the normal scheduler',
      );
    }
    const c = await fx.connect();
    const call = await startCall(fx.engine, c);
    for (let s = 0; s < 10; s++) call.send(stampedFrame(s));
    await c.waitFor((m) => m.filter((x) => x.event === 'media').length >= 10, 5000, 'frames paced');
  } finally {
    await fx.close();
  }
});

test('pacerTimerSlackUs sets the pacer thread its own timer slack; 0 (the default) leaves what it inherited; main keeps its own', async () => {
  const { readFileSync } = await import('node:fs');
  const mainSlack = Number(readFileSync(`/proc/${process.pid}/timerslack_ns`, 'utf8'));
  const slackOf = async (pacerTimerSlackUs: number | undefined): Promise<PacerStats> => {
    const engine = await createEngine({
      ...(pacerTimerSlackUs === undefined ? {} : { pacerTimerSlackUs }),
      logger: pino({ level: 'silent' }),
    });
    try {
      const [stats] = (await once(engine, 'pacerStats')) as [PacerStats];
      return stats;
    } finally {
      await engine.close();
    }
  };
  const one = await slackOf(1);
  assert.equal(one.timerSlackError, null);
  assert.equal(one.timerSlackNs, 1000, 'the kernel reads back 1 µs for the pacer thread');
  assert.equal((await slackOf(250)).timerSlackNs, 250_000);
  assert.equal(
    (await slackOf(undefined)).timerSlackNs,
    mainSlack,
    'by default the thread keeps the slack it inherited',
  );
  assert.equal((await slackOf(0)).timerSlackNs, mainSlack);
  assert.equal(
    Number(readFileSync(`/proc/${process.pid}/timerslack_ns`, 'utf8')),
    mainSlack,
    'the main thread kept its own',
  );
  await assert.rejects(
    createEngine({ pacerTimerSlackUs: -1, logger: pino({ level: 'silent' }) }),
    (e: Error & { code?: string }) =>
      e.code === 'PTIME_ERR_INVALID_OPTION' && /pacerTimerSlackUs must be an integer from 0 to 50000/.test(e.message),
  );
});
