import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test("the published Call type shows the API in README, not the engine's internals", () => {
  const dts = readFileSync(join(ROOT, 'dist/src/engine/call.d.ts'), 'utf8');
  const body = dts.slice(dts.indexOf('export declare class Call'));
  for (const internal of [
    'pushFrame(',
    'deliverMedia(',
    'onFrame(',
    'onMark(',
    'release(',
    'readonly lane:',
    'intervals:',
    'constructor(',
    'markEchoed(',
    'beginEnding(',
  ]) {
    assert.ok(!body.includes(internal), `Call's .d.ts exposes ${internal}`);
  }
  for (const api of [
    'send(',
    'sendPcm16(',
    'speak(',
    'writable(',
    'beginUtterance(',
    'heard(',
    'mark(',
    'clear(',
    'close(',
    'stats(',
    'readonly format:',
  ]) {
    assert.ok(body.includes(api), `Call's .d.ts lacks ${api}`);
  }
  assert.match(body, /sendPcm16\([^)]*sampleRate: SampleRate\)/, 'sendPcm16 is typed with SampleRate');
});
