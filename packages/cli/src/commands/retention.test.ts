// `meshcode retention`: shows and sets how long a project's history is kept.
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createMeshClient, signup } from '@meshcode/client';
import { EXIT } from '../errors';
import { cutOffKeychain, makeSandbox, runCli, uniqueEmail, type Sandbox } from '../testing/cli';
import { useTestHub } from '../testing/hub';

const hub = useTestHub();
let restoreBus: () => void;
let sb: Sandbox;
let env: Record<string, string>;
let owner: ReturnType<typeof createMeshClient>;

beforeAll(() => {
  restoreBus = cutOffKeychain();
});
afterAll(() => restoreBus());
beforeEach(async () => {
  sb = await makeSandbox(hub.url());
  const key = (await signup(hub.url(), uniqueEmail('owner'), 'Owner')).key;
  owner = createMeshClient({ hubUrl: hub.url(), apiKey: key });
  await owner.createMeshwork('kept');
  env = { ...sb.env, MESHCODE_API_KEY: key };
});
afterEach(async () => {
  await sb.cleanup();
});

it('shows the retention, sets it in days or back to forever, and refuses anything else', async () => {
  const shown = await runCli(['retention', 'kept'], env);
  expect(shown.code, shown.stderr).toBe(0);
  expect(shown.stdout).toContain("'kept' keeps its history forever.");

  const set = await runCli(['retention', 'kept', '90'], env);
  expect(set.code, set.stderr).toBe(0);
  expect(set.stdout).toContain("'kept' keeps its history (chat, activity, finished tasks, events) for 90 days");
  expect(await owner.retention('kept')).toEqual({ meshwork: 'kept', retention_days: 90 });
  expect(JSON.parse((await runCli(['retention', 'kept', '--json'], env)).stdout)).toEqual({
    meshwork: 'kept',
    retention_days: 90,
  });

  expect((await runCli(['retention', 'kept', 'forever'], env)).code).toBe(0);
  expect(await owner.retention('kept')).toEqual({ meshwork: 'kept', retention_days: null });

  for (const bad of ['0', '3651', 'soon']) {
    const r = await runCli(['retention', 'kept', bad], env);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain(`'${bad}' is not a retention`);
    expect(r.stderr).toContain('pass a number of days from 1 to 3650, or forever');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }
  const typo = await runCli(['retention', 'kpet'], env);
  expect(typo.code).toBe(EXIT.failure);
  expect(typo.stderr).toContain("did you mean 'kept'?");
});
