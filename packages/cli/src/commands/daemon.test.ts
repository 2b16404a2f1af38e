// `meshcode run <agent> --daemon --exec "<command>"` as a real child process against a real hub.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawnCli, type CliProcess } from '../testing/cli';
import { useOwnerSandbox, useTestHub } from '../testing/hub';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-fixtures/daemon');
const node = process.execPath;
const ECHO = `${node} ${path.join(fixtures, 'echo.mjs')}`;
const FAIL = `${node} ${path.join(fixtures, 'fail.mjs')}`;

const hub = useTestHub();
const sandbox = useOwnerSandbox(hub, async (owner) => {
  await owner.createMeshwork('acme');
  await owner.addAgent('acme', 'commander');
  await owner.addAgent('acme', 'worker');
});
const running: CliProcess[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
});

function daemon(exec: string, ...extra: string[]): CliProcess {
  const p = spawnCli(['run', 'worker', '--daemon', '--exec', exec, ...extra], sandbox.env);
  running.push(p);
  return p;
}

async function stop(p: CliProcess) {
  p.child.kill('SIGINT');
  return await p.exited;
}

/** Waits for the next messages in commander's inbox (as the owner acting as commander). */
async function commanderInbox(): Promise<{ kind: string; from: string; body: string; reply_to?: string }[]> {
  const res = await sandbox.owner.wait({ meshwork: 'acme', agent: 'commander', timeoutSeconds: 30 });
  if (res.messages.length > 0) await sandbox.owner.ack('acme', 'commander', res.messages.at(-1)?.seq ?? 0);
  return res.messages;
}

describe('run --daemon', () => {
  it('answers asks and messages with the command’s stdout, finishes tasks, and disconnects on Ctrl-C', async () => {
    const d = daemon(ECHO);
    await d.waitFor("agent 'worker' in project 'acme' is online as a daemon");
    expect((await sandbox.owner.status('acme')).agents.find((a) => a.name === 'worker')?.status).not.toBe('offline');

    const ask = await sandbox.owner.send({
      meshwork: 'acme',
      from: 'commander',
      to: 'worker',
      body: 'status?',
      kind: 'ask',
      deadlineSeconds: 60,
    });
    const reply = await sandbox.owner.waitReply({
      meshwork: 'acme',
      agent: 'commander',
      messageId: ask.id,
      timeoutSeconds: 30,
    });
    expect(reply.reply?.body).toBe('worker got ask from commander: status?');
    expect(reply.reply?.from).toBe('worker');

    const msg = await sandbox.owner.send({ meshwork: 'acme', from: 'commander', to: 'worker', body: 'build the API' });
    await vi.waitFor(
      async () => {
        const inbox = await commanderInbox();
        expect(inbox.map((m) => [m.kind, m.from, m.body, m.reply_to])).toContainEqual([
          'reply',
          'worker',
          'worker got message from commander: build the API',
          msg.id,
        ]);
      },
      { timeout: 30_000, interval: 10 },
    );

    const task = await sandbox.owner.createTask('acme', { title: 'write the docs', assignee: 'worker' });
    await vi.waitFor(
      async () => {
        const [t] = await sandbox.owner.listTasks('acme');
        expect(t?.id).toBe(task.id);
        expect(t?.status).toBe('done');
        expect(t?.result).toContain('worker got system from overseer: task assigned: write the docs');
      },
      { timeout: 30_000, interval: 200 },
    );

    const end = await stop(d);
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toContain("agent 'worker' disconnected");
    expect((await sandbox.owner.status('acme')).agents.find((a) => a.name === 'worker')).toMatchObject({
      status: 'offline',
      unread: 0,
    });
  });

  it('runs a failed batch again and answers once the command succeeds', async () => {
    const marker = path.join(sandbox.root, 'failed-once');
    const d = daemon(`${ECHO} ${marker}`);
    await d.waitFor('online as a daemon');
    const msg = await sandbox.owner.send({ meshwork: 'acme', from: 'commander', to: 'worker', body: 'try me' });
    await d.waitFor('the command exited with code 3: not ready yet');
    await d.waitFor('(attempt 2)');
    await vi.waitFor(
      async () => {
        const inbox = await commanderInbox();
        expect(inbox.map((m) => [m.body, m.reply_to])).toContainEqual([
          'worker got message from commander: try me',
          msg.id,
        ]);
      },
      { timeout: 30_000, interval: 10 },
    );
    expect((await stop(d)).code).toBe(0);
  });

  it('pauses after repeated failures and loses nothing: the next daemon gets the same message', async () => {
    const failing = daemon(FAIL, '--max-errors', '2', '--pause', '60');
    await failing.waitFor('online as a daemon');
    const msg = await sandbox.owner.send({ meshwork: 'acme', from: 'commander', to: 'worker', body: 'do not drop me' });
    await failing.waitFor('the command exited with code 1: boom: the model is down');
    await failing.waitFor('paused for 60 s after 2 consecutive failures; the batch stays unacknowledged');
    const end = await stop(failing);
    expect(end.code, end.stderr).toBe(0);
    expect((await sandbox.owner.status('acme')).agents.find((a) => a.name === 'worker')?.unread).toBe(1);

    const healthy = daemon(ECHO);
    await vi.waitFor(
      async () => {
        const inbox = await commanderInbox();
        expect(inbox.map((m) => [m.body, m.reply_to])).toContainEqual([
          'worker got message from commander: do not drop me',
          msg.id,
        ]);
      },
      { timeout: 30_000, interval: 10 },
    );
    expect((await stop(healthy)).code).toBe(0);
  });

  it('kills a command that runs past --timeout and counts it as a failure', async () => {
    const d = daemon('sleep 30', '--timeout', '1');
    await d.waitFor('online as a daemon');
    await sandbox.owner.send({ meshwork: 'acme', from: 'commander', to: 'worker', body: 'slow' });
    await d.waitFor('the command timed out after 1 s');
    expect((await stop(d)).code).toBe(0);
  });

  it('refuses a second live session for the same agent unless --force', async () => {
    const first = daemon(ECHO);
    await first.waitFor('online as a daemon');
    const second = await daemon(ECHO).exited;
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('agent already running in another window');
    expect(second.stderr).toContain('pass --force to take over');
    const forced = daemon(ECHO, '--force');
    await forced.waitFor('online as a daemon');
    expect((await stop(forced)).code).toBe(0);
  });

  it('needs --exec', async () => {
    const res = await daemon('').exited;
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--daemon needs the command to run');
  });
});
