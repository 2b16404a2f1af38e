// The re-entry guard: refuses the Db inside its own transaction, and leaves the process without promise hooks once no
// transaction runs. Checked in a child process, where nothing else (the test runner) may have installed hooks.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SHARED = fileURLToPath(new URL('./shared.ts', import.meta.url));

const SCRIPT = `
import { executionAsyncId } from 'node:async_hooks';
import { ReentryGuard } from ${JSON.stringify(SHARED)};
// A promise continuation has an async id only while promise hooks are installed.
const hooked = () => new Promise((r) => setTimeout(r, 1)).then(() => Promise.resolve().then(() => executionAsyncId() !== 0));
const guard = new ReentryGuard();
const out = { before: await hooked() };
const refused = async () => { try { guard.check('query'); return false; } catch { return true; } };
out.inside = await guard.run(async () => { await new Promise((r) => setTimeout(r, 1)); return { refused: await refused(), hooked: await hooked() }; });
out.outsideMeanwhile = await Promise.all([guard.run(() => new Promise((r) => setTimeout(r, 20))), new Promise((r) => setTimeout(r, 5)).then(refused)]).then((x) => x[1]);
out.after = await hooked();
out.afterRefused = await refused();
out.again = await guard.run(refused);
out.afterAgain = await hooked();
console.log(JSON.stringify(out));
`;

it('refuses re-entry only inside a transaction, and installs no promise hooks while none runs', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    encoding: 'utf8',
  });
  expect(JSON.parse(out)).toEqual({
    before: false,
    inside: { refused: true, hooked: true },
    outsideMeanwhile: false,
    after: false,
    afterRefused: false,
    again: true,
    afterAgain: false,
  });
});
