import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createEngine, type Call } from '../../src/index.js';
import { startEngine } from '../helpers/engine-fixture.js';

const NUMBER = '+15551234567';

async function startCallWithNumber(logCallParameters: boolean): Promise<string> {
  const fx = await startEngine({ logCallParameters });
  try {
    const calling = once(fx.engine, 'call') as Promise<[Call]>;
    const c = await fx.connect();
    c.start({ caller: NUMBER, mode: 'echo' });
    const [call] = await calling;
    assert.equal(call.customParameters['caller'], NUMBER, 'the app still gets it');
    return JSON.stringify(fx.logs);
  } finally {
    await fx.close();
  }
}

test('logs carry no caller number by default: customParameters are logged by name only, unless logCallParameters', async () => {
  const quiet = await startCallWithNumber(false);
  assert.ok(!quiet.includes(NUMBER), 'the number is nowhere in the captured log');
  assert.match(quiet, /"customParameterNames":\["caller","mode"\]/);
  const told = await startCallWithNumber(true);
  assert.ok(told.includes(NUMBER), 'logCallParameters: true logs them');
});

test('the library is quiet by default: its own logger is at warn and logs no figures line', async () => {
  const engine = await createEngine({ port: 0, host: '127.0.0.1' });
  try {
    assert.equal(engine.logger.level, 'warn');
    assert.equal(engine.options.logFigures, false);
  } finally {
    await engine.close();
  }
});
