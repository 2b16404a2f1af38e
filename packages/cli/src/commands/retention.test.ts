// `meshcode retention`: shows and sets how long a project's history is kept.
import { expect, it } from 'vitest';
import { EXIT } from '../errors';
import { runCli } from '../testing/cli';
import { useOwnerSandbox, useTestHub } from '../testing/hub';

const hub = useTestHub();
const t = useOwnerSandbox(hub, (owner) => owner.createMeshwork('kept'));

it('shows the retention, sets it in days or back to forever, and refuses anything else', async () => {
  const shown = await runCli(['retention', 'kept'], t.env);
  expect(shown.code, shown.stderr).toBe(0);
  expect(shown.stdout).toContain("'kept' keeps its history forever.");

  const set = await runCli(['retention', 'kept', '90'], t.env);
  expect(set.code, set.stderr).toBe(0);
  expect(set.stdout).toContain("'kept' keeps its history (chat, activity, finished tasks, events) for 90 days");
  expect(await t.owner.retention('kept')).toEqual({ meshwork: 'kept', retention_days: 90 });
  expect(JSON.parse((await runCli(['retention', 'kept', '--json'], t.env)).stdout)).toEqual({
    meshwork: 'kept',
    retention_days: 90,
  });

  expect((await runCli(['retention', 'kept', 'forever'], t.env)).code).toBe(0);
  expect(await t.owner.retention('kept')).toEqual({ meshwork: 'kept', retention_days: null });

  for (const bad of ['0', '3651', 'soon']) {
    const r = await runCli(['retention', 'kept', bad], t.env);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain(`'${bad}' is not a retention`);
    expect(r.stderr).toContain('pass a number of days from 1 to 3650, or forever');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }
  const typo = await runCli(['retention', 'kpet'], t.env);
  expect(typo.code).toBe(EXIT.failure);
  expect(typo.stderr).toContain("did you mean 'kept'?");
});
