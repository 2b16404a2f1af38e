// `meshcode spectate`: prints a public read-only link that works without login; --off kills it.
import { expect, it } from 'vitest';
import { watchSnapshot } from '@meshcode/client';
import { EXIT } from '../errors';
import { runCli } from '../testing/cli';
import { useOwnerSandbox, useTestHub } from '../testing/hub';

const hub = useTestHub();
const t = useOwnerSandbox(hub, async (owner) => {
  await owner.createMeshwork('show');
  await owner.addAgent('show', 'lead');
});

it('prints a share URL that opens the project read-only, and --off turns it off', async () => {
  const on = await runCli(['spectate', 'show'], t.env);
  expect(on.code, on.stderr).toBe(0);
  const url = /^ {2}(http\S+\/watch\/(mc_watch_\S+))$/m.exec(on.stdout);
  expect(url?.[1]?.startsWith(`${hub.url()}/watch/`), on.stdout).toBe(true);
  const token = url![2]!;
  expect((await watchSnapshot(hub.url(), token)).agents.map((a) => a.name)).toEqual(['lead']);

  const json = JSON.parse((await runCli(['spectate', 'show', '--json'], t.env)).stdout) as {
    url: string;
    replaced: boolean;
  };
  expect(json.replaced).toBe(true);
  await expect(watchSnapshot(hub.url(), token)).rejects.toMatchObject({ status: 404 });

  const off = await runCli(['spectate', 'show', '--off'], t.env);
  expect(off.code, off.stderr).toBe(0);
  expect(off.stdout).toContain("The spectator link of 'show' is off; anyone watching was cut off.");
  await expect(watchSnapshot(hub.url(), json.url.split('/watch/')[1]!)).rejects.toMatchObject({ status: 404 });

  const typo = await runCli(['spectate', 'shwo'], t.env);
  expect(typo.code).toBe(EXIT.failure);
  expect(typo.stderr).toContain("did you mean 'show'?");
});
