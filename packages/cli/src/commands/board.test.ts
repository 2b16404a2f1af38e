// board: the status board once (in-process) and live with --watch (the real binary following the SSE feed).
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli, type CliProcess } from '../testing/cli';
import { useOwnerSandbox, useTestHub } from '../testing/hub';

const hub = useTestHub();
const sandbox = useOwnerSandbox(hub, async (owner) => {
  await owner.createMeshwork('acme');
  await owner.addAgent('acme', 'commander');
  await owner.addAgent('acme', 'backend');
});
let watcher: CliProcess | undefined;

afterEach(async () => {
  if (watcher && watcher.child.exitCode === null) {
    watcher.child.kill('SIGKILL');
    await watcher.exited;
  }
  watcher = undefined;
});

describe('board', () => {
  it('shows agents with status, current task and unread count', async () => {
    await sandbox.owner.connect('acme', 'backend', 's1');
    const task = await sandbox.owner.createTask('acme', { title: 'ship the login page', assignee: 'backend' });
    await sandbox.owner.updateTask('acme', task.id, { progress: 40, agent: 'backend' });
    await sandbox.owner.heartbeat('acme', 'backend', { session: 's1', status: 'working', detail: 'writing tests' });
    await sandbox.owner.send({ meshwork: 'acme', from: 'backend', to: 'commander', body: 'hi' });

    const res = await runCli(['board', 'acme'], sandbox.env);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Project acme: 2 agents, 1 online');
    expect(lines[2]).toMatch(/^AGENT\s+STATUS\s+TASK\s+UNREAD\s+LAST SEEN\s+DETAIL$/);
    expect(lines[3]).toMatch(/^backend\s+working\s+ship the login page \(40%\)\s+1\s+\d+s ago\s+writing tests$/);
    expect(lines[4]).toMatch(/^commander\s+offline\s+-\s+1\s+never$/);

    const json = await runCli(['board', 'acme', '--json'], sandbox.env);
    const board = JSON.parse(json.stdout) as { meshwork: string; agents: { name: string; unread: number }[] };
    expect(board.agents.map((a) => [a.name, a.unread])).toEqual([
      ['backend', 1],
      ['commander', 1],
    ]);
  });

  it('--watch follows the live feed and stops cleanly on Ctrl-C', async () => {
    watcher = spawnCli(['board', 'acme', '--watch', '--json'], sandbox.env);
    await watcher.waitFor('"meshwork":"acme"');
    const boards = () =>
      watcher!
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { agents: { name: string; status: string }[] });
    expect(boards()[0]?.agents.map((a) => a.status)).toEqual(['offline', 'offline']);

    await sandbox.owner.connect('acme', 'commander', 'window-1');
    await watcher.waitFor(/"name":"commander"[^}]*"status":"online"/);
    expect(
      boards()
        .at(-1)
        ?.agents.find((a) => a.name === 'commander')?.status,
    ).toBe('online');

    watcher.child.kill('SIGINT');
    const end = await watcher.exited;
    expect(end.code, end.stderr).toBe(0);
  });

  it('--watch without --json redraws the human board', async () => {
    watcher = spawnCli(['board', 'acme', '--watch'], sandbox.env);
    await watcher.waitFor('(watching live, Ctrl-C to stop)');
    await sandbox.owner.connect('acme', 'backend', 'window-2');
    await watcher.waitFor(/backend\s+online/);
    await watcher.waitFor('Recent activity:');
    watcher.child.kill('SIGINT');
    expect((await watcher.exited).code).toBe(0);
  });
});
