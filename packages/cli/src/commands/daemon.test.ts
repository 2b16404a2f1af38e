// `meshcode run <agent> --daemon --exec "<command>"` as a real child process against a real hub.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMeshClient, signup, type MeshClient } from '@meshcode/client';
import { cutOffKeychain, makeSandbox, spawnCli, uniqueEmail, type CliProcess, type Sandbox } from '../testing/cli';
import { useTestHub } from '../testing/hub';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-fixtures/daemon');
const node = process.execPath;
const ECHO = `${node} ${path.join(fixtures, 'echo.mjs')}`;
const FAIL = `${node} ${path.join(fixtures, 'fail.mjs')}`;

const hub = useTestHub();
let restoreBus: () => void;
let sb: Sandbox;
let owner: MeshClient;
let env: Record<string, string>;
const running: CliProcess[] = [];

beforeAll(() => {
  restoreBus = cutOffKeychain();
});
afterAll(() => restoreBus());
beforeEach(async () => {
  sb = await makeSandbox(hub.url());
  const key = (await signup(hub.url(), uniqueEmail('owner'), 'Owner')).key;
  owner = createMeshClient({ hubUrl: hub.url(), apiKey: key });
  env = { ...sb.env, MESHCODE_API_KEY: key };
  await owner.createMeshwork('acme');
  await owner.addAgent('acme', 'commander');
  await owner.addAgent('acme', 'worker');
});
afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  await sb.cleanup();
});

function daemon(exec: string, ...extra: string[]): CliProcess {
  const p = spawnCli(['run', 'worker', '--daemon', '--exec', exec, ...extra], env);
  running.push(p);
  return p;
}

async function stop(p: CliProcess) {
  p.child.kill('SIGINT');
  return await p.exited;
}

/** Waits for the next messages in commander's inbox (as the owner acting as commander). */
async function commanderInbox(): Promise<{ kind: string; from: string; body: string; reply_to?: string }[]> {
  const res = await owner.wait({ meshwork: 'acme', agent: 'commander', timeoutSeconds: 30 });
  if (res.messages.length > 0) await owner.ack('acme', 'commander', res.messages.at(-1)?.seq ?? 0);
  return res.messages;
}

describe('run --daemon', () => {
  it('answers asks and messages with the command’s stdout, finishes tasks, and disconnects on Ctrl-C', async () => {
    const d = daemon(ECHO);
    await d.waitFor("agent 'worker' in project 'acme' is online as a daemon");
    expect((await owner.status('acme')).agents.find((a) => a.name === 'worker')?.status).not.toBe('offline');

    const ask = await owner.send({
      meshwork: 'acme',
      from: 'commander',
      to: 'worker',
      body: 'status?',
      kind: 'ask',
      deadlineSeconds: 60,
    });
    const reply = await owner.waitReply({
      meshwork: 'acme',
      agent: 'commander',
      messageId: ask.id,
      timeoutSeconds: 30,
    });
    expect(reply.reply?.body).toBe('worker got ask from commander: status?');
    expect(reply.reply?.from).toBe('worker');

    const msg = await owner.send({ meshwork: 'acme', from: 'commander', to: 'worker', body: 'build the API' });
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

    const task = await owner.createTask('acme', { title: 'write the docs', assignee: 'worker' });
    await vi.waitFor(
      async () => {
        const [t] = await owner.listTasks('acme');
        expect(t?.id).toBe(task.id);
        expect(t?.status).toBe('done');
        expect(t?.result).toContain('worker got system from overseer: task assigned: write the docs');
      },
      { timeout: 30_000, interval: 200 },
    );

    const end = await stop(d);
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toContain("agent 'worker' disconnected");
    expect((await owner.status('acme')).agents.find((a) => a.name === 'worker')).toMatchObject({
      status: 'offline',
      unread: 0,
    });
  });

  it('runs a failed batch again and answers once the command succeeds', async () => {
    const marker = path.join(sb.root, 'failed-once');
    const d = daemon(`${ECHO} ${marker}`);
    await d.waitFor('online as a daemon');
    const msg = await owner.send({ meshwork: 'acme', from: 'commander', to: 'worker', body: 'try me' });
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
    const msg = await owner.send({ meshwork: 'acme', from: 'commander', to: 'worker', body: 'do not drop me' });
    await failing.waitFor('the command exited with code 1: boom: the model is down');
    await failing.waitFor('paused for 60 s after 2 consecutive failures; the batch stays unacknowledged');
    const end = await stop(failing);
    expect(end.code, end.stderr).toBe(0);
    expect((await owner.status('acme')).agents.find((a) => a.name === 'worker')?.unread).toBe(1);

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
    await owner.send({ meshwork: 'acme', from: 'commander', to: 'worker', body: 'slow' });
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
