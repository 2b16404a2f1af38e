// `meshcode delete-project`: says what it would delete and changes nothing without --yes; deletes with it.
import { expect, it } from 'vitest';
import { EXIT } from '../errors';
import { runCli } from '../testing/cli';
import { useOwnerSandbox, useTestHub } from '../testing/hub';

const hub = useTestHub();
const t = useOwnerSandbox(hub, async (owner) => {
  await owner.createMeshwork('scratch');
  await owner.addAgent('scratch', 'a');
  await owner.createKey('scratch', 'a');
});

it('deletes a project only with --yes, and says what it deleted', async () => {
  const asked = await runCli(['delete-project', 'scratch'], t.env);
  expect(asked.code).toBe(EXIT.usage);
  expect(asked.stderr).toContain(
    "this would delete project 'scratch' with its agents, messages, tasks, memory, invites and keys, for good",
  );
  expect(asked.stderr).toContain('run meshcode delete-project scratch --yes to delete it');
  expect(asked.stderr).not.toMatch(/\n\s+at /);
  expect((await t.owner.listMeshworks()).map((m) => m.name)).toEqual(['scratch']);

  const typo = await runCli(['delete-project', 'scrach', '--yes'], t.env);
  expect(typo.code).toBe(EXIT.failure);
  expect(typo.stderr).toContain("did you mean 'scratch'?");
  expect((await t.owner.listMeshworks()).map((m) => m.name)).toEqual(['scratch']);

  const done = await runCli(['delete-project', 'scratch', '--yes'], t.env);
  expect(done.code, done.stderr).toBe(0);
  expect(done.stdout).toContain("Deleted project 'scratch' with 1 agent; 1 key revoked.");
  expect(await t.owner.listMeshworks()).toEqual([]);

  await t.owner.createMeshwork('again');
  const json = await runCli(['delete-project', 'again', '-y', '--json'], t.env);
  expect(JSON.parse(json.stdout)).toEqual({ deleted: true, meshwork: 'again', agents: 0, keys_revoked: 0 });
});
