// The hub's module graph leaves out what only workers and clients use: the client SDK (supabase-js, which also warns
// about the Node version at import) and dockerode. It imports @meshcode/worker/core, not @meshcode/worker.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const START = pathToFileURL(fileURLToPath(new URL('./start.ts', import.meta.url))).href;

it('loads neither the client SDK nor dockerode', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hub-imports-'));
  // A resolve hook that prints every bare specifier the hub's modules import.
  const hook = join(dir, 'hook.mjs');
  writeFileSync(
    join(dir, 'resolve.mjs'),
    `export async function resolve(s, c, next) {
       if (!s.startsWith('.') && !s.startsWith('node:') && !s.startsWith('file:')) console.log('IMPORT ' + s);
       return next(s, c);
     }`,
  );
  writeFileSync(
    hook,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'resolve.mjs')).href)});\n`,
  );
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', hook, '--import', 'tsx', '--input-type=module', '-e', `await import(${JSON.stringify(START)});`],
    { cwd: fileURLToPath(new URL('../../..', import.meta.url)), timeout: 60_000 },
  );
  const imported = new Set(
    stdout
      .split('\n')
      .filter((l) => l.startsWith('IMPORT '))
      .map((l) => l.slice(7)),
  );
  // The hook saw the hub's own graph (so an empty list cannot pass).
  expect(imported).toContain('@meshcode/db');
  expect(imported).toContain('@meshcode/worker/core');
  const unwanted = [...imported].filter((s) => /^(@supabase\/|dockerode|@meshcode\/client|@meshcode\/worker$)/.test(s));
  expect(unwanted).toEqual([]);
  expect(stderr).not.toMatch(/deprecated/i);
}, 90_000);
