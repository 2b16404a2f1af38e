import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadWorkerEnv } from '../env';
import { createExecDriver } from './exec';

const fixture = fileURLToPath(new URL('./fixtures/fake-cli.mjs', import.meta.url));
const baseEnv = loadWorkerEnv().childBaseEnv;

function driver(
  mode: string,
  env: Record<string, string> = {},
  extra: Partial<Parameters<typeof createExecDriver>[0]> = {},
) {
  return createExecDriver({ command: process.execPath, args: [fixture, mode], env: { ...baseEnv, ...env }, ...extra });
}

const task = (prompt = 'Review PR 42', timeoutMs = 30_000, signal = new AbortController().signal) => ({
  prompt,
  timeoutMs,
  signal,
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  return !alive(pid);
}

describe('exec driver with a real child process', () => {
  it('passes the prompt on stdin, runs in the task cwd and returns stdout', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'meshcode-exec-'));
    const result = await driver('echo', { MESHCODE_MODEL: 'sonnet' }).run({ ...task('Review "PR" 42\nthanks'), cwd });
    expect(result).toEqual({ ok: true, output: `model=sonnet cwd=${cwd} prompt=Review "PR" 42\nthanks` });
  });

  it('gives the child only the environment it was handed', async () => {
    const result = await driver('env', { ANTHROPIC_API_KEY: 'x' }).run(task());
    expect(result.ok).toBe(true);
    const keys = result.ok ? (JSON.parse(result.output) as string[]) : [];
    expect(keys).toContain('ANTHROPIC_API_KEY');
    expect(keys.every((key) => key in baseEnv || key === 'ANTHROPIC_API_KEY')).toBe(true);
  });

  it('turns a non-zero exit into a permanent error carrying stderr', async () => {
    expect(await driver('fail').run(task())).toEqual({
      ok: false,
      transient: false,
      error: `"${process.execPath}" exited with code 2: Error: unknown option --frobnicate`,
    });
  });

  it('classifies overload messages and EX_TEMPFAIL as transient', async () => {
    expect(await driver('overloaded').run(task())).toMatchObject({ ok: false, transient: true });
    expect(await driver('tempfail').run(task())).toMatchObject({ ok: false, transient: true });
  });

  it('redacts credentials that a CLI prints in its errors', async () => {
    const result = await driver('leaky').run(task());
    expect(!result.ok && result.error).toMatch(/auth failed for key \[REDACTED:api-key\]/);
  });

  it('copes with a CLI that exits without reading a large prompt', async () => {
    expect(await driver('quick-exit').run(task('p'.repeat(4 * 1024 * 1024)))).toEqual({ ok: true, output: 'bye' });
  });

  it('fails a task whose output passes the cap', async () => {
    const result = await driver('flood', {}, { maxOutputBytes: 64 * 1024 }).run(task());
    expect(result).toMatchObject({
      ok: false,
      transient: false,
      error: expect.stringMatching(/more than 65536 bytes/),
    });
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshcode-exec-'));
    const pidFile = join(dir, 'pids.json');
    const result = await driver('hang', { PID_FILE: pidFile }, { killGraceMs: 200 }).run(task('x', 1_500));
    expect(result).toMatchObject({
      ok: false,
      transient: true,
      error: expect.stringMatching(/did not finish within 1500 ms/),
    });
    const pids = JSON.parse(await readFile(pidFile, 'utf8')) as { parent: number; grandchild: number };
    expect(await waitUntilDead(pids.parent)).toBe(true);
    expect(await waitUntilDead(pids.grandchild)).toBe(true);
  });

  it('stops the process when the task is cancelled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshcode-exec-'));
    const controller = new AbortController();
    const running = driver('hang', { PID_FILE: join(dir, 'pids.json') }, { killGraceMs: 100 }).run(
      task('x', 60_000, controller.signal),
    );
    for (let i = 0; i < 100; i += 1) {
      const started = await readFile(join(dir, 'pids.json'), 'utf8').catch(() => '');
      if (started) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    controller.abort();
    expect(await running).toMatchObject({ ok: false, transient: true, error: expect.stringMatching(/cancelled/) });
  });

  it('reports a missing command as permanent, with the fix', async () => {
    const result = await createExecDriver({ command: 'meshcode-no-such-cli', env: baseEnv }).run(task());
    expect(result).toEqual({
      ok: false,
      transient: false,
      error: 'Command "meshcode-no-such-cli" was not found; install it or fix exec.command in the worker file.',
    });
  });

  it('reports a working directory that does not exist, or is a file, as such and permanent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshcode-exec-'));
    const missing = join(dir, 'nope');
    expect(await driver('echo', {}, { cwd: missing }).run(task())).toEqual({
      ok: false,
      transient: false,
      error: `Working directory ${missing} does not exist; create it or fix exec.cwd in the worker file.`,
    });
    const file = join(dir, 'file.txt');
    await writeFile(file, 'x');
    expect(await driver('echo').run({ ...task(), cwd: file })).toEqual({
      ok: false,
      transient: false,
      error: `Working directory ${file} is not a directory; fix exec.cwd in the worker file.`,
    });
  });
});
