// `meshcode delete-project`: says what it would delete and changes nothing without --yes; deletes with it.
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
  await owner.createMeshwork('scratch');
  await owner.addAgent('scratch', 'a');
  await owner.createKey('scratch', 'a');
  env = { ...sb.env, MESHCODE_API_KEY: key };
});
afterEach(async () => {
  await sb.cleanup();
});

it('deletes a project only with --yes, and says what it deleted', async () => {
  const asked = await runCli(['delete-project', 'scratch'], env);
  expect(asked.code).toBe(EXIT.usage);
  expect(asked.stderr).toContain(
    "this would delete project 'scratch' with its agents, messages, tasks, memory, invites and keys, for good",
  );
  expect(asked.stderr).toContain('run meshcode delete-project scratch --yes to delete it');
  expect(asked.stderr).not.toMatch(/\n\s+at /);
  expect((await owner.listMeshworks()).map((m) => m.name)).toEqual(['scratch']);

  const typo = await runCli(['delete-project', 'scrach', '--yes'], env);
  expect(typo.code).toBe(EXIT.failure);
  expect(typo.stderr).toContain("did you mean 'scratch'?");
  expect((await owner.listMeshworks()).map((m) => m.name)).toEqual(['scratch']);

  const done = await runCli(['delete-project', 'scratch', '--yes'], env);
  expect(done.code, done.stderr).toBe(0);
  expect(done.stdout).toContain("Deleted project 'scratch' with 1 agent; 1 key revoked.");
  expect(await owner.listMeshworks()).toEqual([]);

  await owner.createMeshwork('again');
  const json = await runCli(['delete-project', 'again', '-y', '--json'], env);
  expect(JSON.parse(json.stdout)).toEqual({ deleted: true, meshwork: 'again', agents: 0, keys_revoked: 0 });
});
