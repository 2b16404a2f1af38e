// `meshcode spectate`: prints a public read-only link that works without login; --off kills it.
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createMeshClient, signup, watchSnapshot } from '@meshcode/client';
import { EXIT } from '../errors';
import { cutOffKeychain, makeSandbox, runCli, uniqueEmail, type Sandbox } from '../testing/cli';
import { useTestHub } from '../testing/hub';

const hub = useTestHub();
let restoreBus: () => void;
let sb: Sandbox;
let env: Record<string, string>;

beforeAll(() => {
  restoreBus = cutOffKeychain();
});
afterAll(() => restoreBus());
beforeEach(async () => {
  sb = await makeSandbox(hub.url());
  const key = (await signup(hub.url(), uniqueEmail('owner'), 'Owner')).key;
  const owner = createMeshClient({ hubUrl: hub.url(), apiKey: key });
  await owner.createMeshwork('show');
  await owner.addAgent('show', 'lead');
  env = { ...sb.env, MESHCODE_API_KEY: key };
});
afterEach(async () => {
  await sb.cleanup();
});

it('prints a share URL that opens the project read-only, and --off turns it off', async () => {
  const on = await runCli(['spectate', 'show'], env);
  expect(on.code, on.stderr).toBe(0);
  const url = /^ {2}(http\S+\/watch\/(mc_watch_\S+))$/m.exec(on.stdout);
  expect(url?.[1]?.startsWith(`${hub.url()}/watch/`), on.stdout).toBe(true);
  const token = url![2]!;
  expect((await watchSnapshot(hub.url(), token)).agents.map((a) => a.name)).toEqual(['lead']);

  const json = JSON.parse((await runCli(['spectate', 'show', '--json'], env)).stdout) as {
    url: string;
    replaced: boolean;
  };
  expect(json.replaced).toBe(true);
  await expect(watchSnapshot(hub.url(), token)).rejects.toMatchObject({ status: 404 });

  const off = await runCli(['spectate', 'show', '--off'], env);
  expect(off.code, off.stderr).toBe(0);
  expect(off.stdout).toContain("The spectator link of 'show' is off; anyone watching was cut off.");
  await expect(watchSnapshot(hub.url(), json.url.split('/watch/')[1]!)).rejects.toMatchObject({ status: 404 });

  const typo = await runCli(['spectate', 'shwo'], env);
  expect(typo.code).toBe(EXIT.failure);
  expect(typo.stderr).toContain("did you mean 'show'?");
});
