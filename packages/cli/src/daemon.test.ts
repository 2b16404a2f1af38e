// The daemon loop in-process (fast heartbeats) and the command runner's edge cases.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMeshClient, signup, type MeshClient } from '@meshcode/client';
import { runCommand, runDaemon } from './daemon';
import { uniqueEmail } from './testing/cli';
import { useTestHub } from './testing/hub';

const hub = useTestHub();
let owner: MeshClient;

describe('runDaemon', () => {
  let controller: AbortController;
  beforeEach(async () => {
    owner = createMeshClient({ hubUrl: hub.url(), apiKey: (await signup(hub.url(), uniqueEmail('o'), 'O')).key });
    await owner.createMeshwork('acme');
    await owner.addAgent('acme', 'worker');
    controller = new AbortController();
  });
  afterEach(() => controller.abort());

  it('stops with a clear sentence when another window takes the agent over', async () => {
    const lines: string[] = [];
    const running = runDaemon({
      client: owner,
      project: 'acme',
      agent: 'worker',
      command: 'cat',
      cwd: process.cwd(),
      env: { PATH: '/usr/bin:/bin' },
      timeoutMs: 10_000,
      maxErrors: 3,
      pauseMs: 1_000,
      heartbeatMs: 200,
      waitSeconds: 1,
      signal: controller.signal,
      log: (l) => lines.push(l),
    });
    await expect.poll(() => lines.join('\n'), { timeout: 30_000 }).toContain('is online as a daemon');
    await owner.connect('acme', 'worker', 'another-window', { force: true });
    await expect(running).rejects.toThrow('agent session was taken over by another window');
    expect(lines.at(-1)).toBe("agent 'worker' disconnected");
    // The daemon's disconnect names its own session, so the window that took over keeps the agent: not offline. (A wait
    // the daemon had started before it noticed the takeover may still have marked the agent waiting.)
    expect(['online', 'waiting']).toContain((await owner.status('acme')).agents[0]?.status);
  });
});

/** Whether the process still runs; a killed process nobody has reaped yet (a zombie) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

describe('runCommand', () => {
  const opts = { cwd: process.cwd(), env: { PATH: '/usr/bin:/bin' }, timeoutMs: 10_000 };

  it('passes stdin, and a command that ignores stdin is still a success', async () => {
    expect(await runCommand('tr a-z A-Z', 'hello', opts)).toMatchObject({ ok: true, stdout: 'HELLO', exitCode: 0 });
    const big = 'x'.repeat(1024 * 1024);
    expect(await runCommand('echo ignored', big, opts)).toMatchObject({ ok: true, stdout: 'ignored\n' });
  });

  it('cuts stdout at 256 KB and reports failures with their stderr', async () => {
    const huge = await runCommand('head -c 400000 /dev/zero | tr "\\0" y', '', opts);
    expect(huge.ok).toBe(true);
    expect(huge.stdoutTruncated).toBe(true);
    expect(huge.stdout.length).toBe(256 * 1024);
    const failed = await runCommand('echo oops >&2; exit 4', '', opts);
    expect(failed).toMatchObject({ ok: false, exitCode: 4, stderr: 'oops\n', timedOut: false });
  });

  it('kills the whole process group on timeout', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mc-group-'));
    const pidFile = path.join(dir, 'pid');
    // The background sleep is a grandchild that would outlive a kill of the shell alone.
    const res = await runCommand(`sleep 30 >/dev/null 2>&1 </dev/null & echo $! > ${pidFile}; wait`, '', {
      ...opts,
      timeoutMs: 300,
    });
    expect(res).toMatchObject({ ok: false, timedOut: true });
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
    await rm(dir, { recursive: true, force: true });
  });
});
