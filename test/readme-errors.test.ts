import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '../src/index.js';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

test("README's errors table lists exactly the exported error codes, each once", () => {
  const section = README.slice(
    README.indexOf('\n## Errors\n'),
    README.indexOf('\n## ', README.indexOf('\n## Errors\n') + 1),
  );
  const rows = [...section.matchAll(/^\| `(PTIME_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]!);
  assert.equal(new Set(rows).size, rows.length, `a code listed twice: ${rows.join(', ')}`);
  assert.deepEqual([...rows].sort(), [...Object.values(ErrorCodes)].sort());
});
