import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * README's TypeScript snippets compile under `tsc --strict` against the published types, so the
 * examples cannot drift from the API again. Each ```ts block becomes a file importing 'ptime' (the
 * built package, as an app would), with the names a snippet takes as given (your STT, TTS, model
 * socket) declared ahead of it.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PRELUDE = `import type { Call as __Call } from 'ptime';
declare const stt: { write(samples: Int16Array): void };
declare const tts: { on(event: 'audio', f: (pcm: Buffer) => void): void; on(event: 'done', f: () => void): void };
declare const call: __Call;
declare const item: { id: string };
declare const realtime: { send(data: string): void };
declare function onCallerSpeechStarted(f: () => void): void;
`;

test("README's TypeScript snippets compile with tsc --strict against the package's types", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(snippets.length >= 2, `found ${snippets.length} ts snippets`);
  const dir = join(ROOT, 'dist', 'readme-snippets');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'ptime'), 'dir');
  const files = snippets.map((code, i) => {
    const file = `snippet-${i + 1}.ts`;
    writeFileSync(join(dir, file), `${PRELUDE}${code}\nexport {};\n`);
    return file;
  });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        types: ['node'],
        skipLibCheck: true,
      },
      files,
    }),
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')],
      { encoding: 'utf8', stdio: 'pipe' },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    assert.fail(`README snippets do not compile:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
});
