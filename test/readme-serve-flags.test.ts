import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVE_USAGE } from '../src/cli/serve-args.js';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** `ptime serve --help`'s text per flag (a flag's description may run over several lines). */
function usageByFlag(): Map<string, string> {
  const byFlag = new Map<string, string>();
  let current: string | null = null;
  for (const line of SERVE_USAGE.split('\n')) {
    const flag = /^ {2}(--[a-z-]+)/.exec(line)?.[1];
    if (flag !== undefined) {
      current = flag;
      byFlag.set(flag, line);
    } else if (current !== null) byFlag.set(current, `${byFlag.get(current)!} ${line.trim()}`);
  }
  return byFlag;
}

/** The value a default starts with: "8 = 160 ms", "8 (160 ms)" and "`8`" are all 8. */
const leading = (text: string): string => /^[`$]*([^\s,:;(`]+)/.exec(text.trim())?.[1] ?? '';

test("the defaults README's serve flags table gives are the ones `ptime serve --help` prints", () => {
  let compared = 0;
  for (const [flag, text] of usageByFlag()) {
    const stated = /\(default:? ([^;)]*)/.exec(text)?.[1];
    // Credentials default to an environment variable, worded differently in each place.
    if (stated === undefined || /environment variable|no check/.test(stated)) continue;
    const row = new RegExp(`^\\| \`${flag}\`[^|]*\\| ([^|]*) \\|`, 'm').exec(README);
    assert.ok(row, `README's serve flags table has a row for ${flag}`);
    assert.equal(leading(row[1]!), leading(stated), `${flag}: README says ${row[1]!.trim()}, --help says ${stated}`);
    compared++;
  }
  assert.ok(compared >= 15, `the defaults of most flags were compared (${compared})`);
});
