import { mkdir, mkdtemp, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDocker, type FakeDocker } from '../testing/fake-docker';
import { createDockerDriver, type DockerDriverOptions } from './docker';

let engine: FakeDocker;
let root: string;
let project: string;

beforeAll(async () => {
  engine = await startFakeDocker((stdin, env) => {
    if (stdin === 'fail') return { stderr: 'Error: unknown flag --frobnicate\n', exitCode: 2 };
    if (stdin === 'overloaded') return { stderr: 'API Error: 529 overloaded_error\n', exitCode: 1 };
    if (stdin === 'hang') return 'hang';
    const model = env.find((entry) => entry.startsWith('CLAUDE_MODEL='))?.slice('CLAUDE_MODEL='.length) ?? '';
    return { stdout: `reviewed by ${model}: ${stdin}`, stderr: 'progress...\n', exitCode: 0 };
  });
  root = await realpath(await mkdtemp(join(tmpdir(), 'meshcode-docker-')));
  project = join(root, 'src', 'api');
  await mkdir(join(project, 'packages', 'web'), { recursive: true });
});

afterAll(async () => {
  await engine.close();
});

function driver(overrides: Partial<DockerDriverOptions> = {}) {
  return createDockerDriver({
    docker: new Dockerode({ host: engine.host, port: engine.port, protocol: 'http' }),
    workerName: 'pr-reviewer',
    image: 'mecha-worker-claude:latest',
    command: ['claude', '-p'],
    mode: 'oneshot',
    env: { CLAUDE_MODEL: 'claude-sonnet-4-6', ANTHROPIC_API_KEY: 'sk-ant-test' },
    cwd: project,
    cpus: 1.5,
    memoryBytes: 2 * 1024 ** 3,
    pids: 256,
    network: 'none',
    user: '1000:1000',
    pull: 'missing',
    home: join(root, 'home'),
    meshcodeHome: join(root, 'home', '.meshcode'),
    ...overrides,
  });
}

const task = (prompt: string, extra: { cwd?: string; timeoutMs?: number } = {}) => ({
  prompt,
  timeoutMs: extra.timeoutMs ?? 10_000,
  signal: new AbortController().signal,
  ...(extra.cwd ? { cwd: extra.cwd } : {}),
});

function since(mark: number) {
  return engine.requests.slice(mark).map((request) => `${request.method} ${request.path}`);
}

describe('docker driver, one-shot, against a recording Docker Engine API', () => {
  it('creates the container with limits, the workspace mount and AutoRemove, then attaches, waits, starts', async () => {
    const mark = engine.requests.length;
    const result = await driver().run(task('Review PR 42'));
    expect(result).toEqual({ ok: true, output: 'reviewed by claude-sonnet-4-6: Review PR 42' });

    const calls = since(mark);
    expect(calls.slice(0, 4)).toEqual([
      'POST /containers/create',
      expect.stringMatching(/^POST \/containers\/\w+\/attach$/),
      expect.stringMatching(/^POST \/containers\/\w+\/wait$/),
      expect.stringMatching(/^POST \/containers\/\w+\/start$/),
    ]);
    const create = engine.requests[mark]!;
    expect(create.query.get('name')).toMatch(/^meshcode-pr-reviewer-[0-9a-f]{8}$/);
    expect(create.body).toEqual({
      name: create.query.get('name'),
      Image: 'mecha-worker-claude:latest',
      Cmd: ['claude', '-p'],
      Env: ['HOME=/tmp', 'CLAUDE_MODEL=claude-sonnet-4-6', 'ANTHROPIC_API_KEY=sk-ant-test'],
      User: '1000:1000',
      WorkingDir: '/workspace',
      Labels: { 'meshcode.worker': 'pr-reviewer', 'meshcode.mode': 'oneshot' },
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      OpenStdin: true,
      StdinOnce: true,
      Tty: false,
      HostConfig: {
        Mounts: [{ Type: 'bind', Source: project, Target: '/workspace', ReadOnly: false }],
        NanoCpus: 1_500_000_000,
        Memory: 2_147_483_648,
        MemorySwap: 2_147_483_648,
        PidsLimit: 256,
        NetworkMode: 'none',
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Init: true,
        AutoRemove: true,
      },
    });
    const attach = engine.requests[mark + 1]!;
    expect(Object.fromEntries(attach.query)).toMatchObject({
      stream: 'true',
      stdin: 'true',
      stdout: 'true',
      stderr: 'true',
    });
    expect(engine.requests[mark + 2]!.query.get('condition')).toBe('removed');
    expect(engine.containers.size).toBe(0);
  });

  it('mounts the task directory instead of the default one', async () => {
    const mark = engine.requests.length;
    const other = join(project, 'packages', 'web');
    expect((await driver().run(task('x', { cwd: other }))).ok).toBe(true);
    const body = engine.requests[mark]!.body as { HostConfig: { Mounts: { Source: string }[] } };
    expect(body.HostConfig.Mounts[0]!.Source).toBe(other);
  });

  it('refuses sensitive host paths before talking to Docker', async () => {
    const mark = engine.requests.length;
    for (const cwd of ['/', '/etc', join(root, 'home'), join(root, 'home', '.meshcode')]) {
      await mkdir(cwd, { recursive: true }).catch(() => undefined);
      const result = await driver().run(task('x', { cwd }));
      expect(result, cwd).toMatchObject({
        ok: false,
        transient: false,
        error: expect.stringMatching(/^Refusing to mount/),
      });
    }
    expect(since(mark)).toEqual([]);
  });

  it('pulls a missing image once, or refuses when pulling is off', async () => {
    engine.missingImages.add('ghcr.io/acme/reviewer:1');
    expect(await driver({ image: 'ghcr.io/acme/reviewer:1', pull: 'never' }).run(task('x'))).toEqual({
      ok: false,
      transient: false,
      error: 'Image ghcr.io/acme/reviewer:1 is not available locally; run: docker pull ghcr.io/acme/reviewer:1',
    });
    const mark = engine.requests.length;
    expect(await driver({ image: 'ghcr.io/acme/reviewer:1' }).run(task('x'))).toMatchObject({ ok: true });
    expect(since(mark).slice(0, 3)).toEqual([
      'POST /containers/create',
      'POST /images/create',
      'POST /containers/create',
    ]);
    expect(Object.fromEntries(engine.requests[mark + 1]!.query)).toMatchObject({
      fromImage: 'ghcr.io/acme/reviewer',
      tag: '1',
    });
  });

  it('reports a failing command with its stderr, transient only when the error says so', async () => {
    expect(await driver().run(task('fail'))).toEqual({
      ok: false,
      transient: false,
      error: 'The container command exited with code 2: Error: unknown flag --frobnicate',
    });
    expect(await driver().run(task('overloaded'))).toMatchObject({ ok: false, transient: true });
  });

  it('reports a command missing from the image as permanent and removes the container', async () => {
    const mark = engine.requests.length;
    const result = await driver({ command: ['no-such-binary'] }).run(task('x'));
    expect(result).toMatchObject({
      ok: false,
      transient: false,
      error: expect.stringMatching(/executable file not found/),
    });
    expect(since(mark).at(-1)).toMatch(/^DELETE \/containers\/\w+$/);
    expect(engine.containers.size).toBe(0);
  });

  it('kills the container on timeout and reports a transient failure', async () => {
    const mark = engine.requests.length;
    const result = await driver().run(task('hang', { timeoutMs: 300 }));
    expect(result).toMatchObject({ ok: false, transient: true, error: expect.stringMatching(/within 300 ms/) });
    for (let i = 0; i < 100 && !since(mark).some((call) => call.endsWith('/kill')); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(since(mark)).toContainEqual(expect.stringMatching(/^POST \/containers\/\w+\/kill$/));
  });
});

describe('docker driver, long-lived, against a recording Docker Engine API', () => {
  it('creates and starts one container, then runs each task as an exec in it', async () => {
    const long = driver({ mode: 'long-lived' });
    const mark = engine.requests.length;
    expect(await long.run(task('first'))).toEqual({ ok: true, output: 'reviewed by claude-sonnet-4-6: first' });
    expect(since(mark)).toEqual([
      'GET /containers/meshcode-worker-pr-reviewer/json',
      'POST /containers/create',
      expect.stringMatching(/^POST \/containers\/\w+\/start$/),
      expect.stringMatching(/^POST \/containers\/\w+\/exec$/),
      expect.stringMatching(/^POST \/exec\/\w+\/start$/),
      expect.stringMatching(/^GET \/exec\/\w+\/json$/),
    ]);
    const create = engine.requests[mark + 1]!.body as Record<string, unknown>;
    expect(create).toMatchObject({
      name: 'meshcode-worker-pr-reviewer',
      Entrypoint: ['sleep', 'infinity'],
      Cmd: [],
      Labels: { 'meshcode.worker': 'pr-reviewer', 'meshcode.mode': 'long-lived' },
      HostConfig: {
        Mounts: [{ Type: 'bind', Source: project, Target: '/workspace', ReadOnly: false }],
        PidsLimit: 256,
      },
    });
    expect(create['HostConfig']).not.toHaveProperty('AutoRemove');
    expect(engine.requests[mark + 3]!.body).toEqual({
      Cmd: ['claude', '-p'],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      Env: ['HOME=/tmp', 'CLAUDE_MODEL=claude-sonnet-4-6', 'ANTHROPIC_API_KEY=sk-ant-test'],
      WorkingDir: '/workspace',
      User: '1000:1000',
    });

    const again = engine.requests.length;
    expect(await long.run(task('second', { cwd: join(project, 'packages', 'web') }))).toMatchObject({ ok: true });
    expect(since(again)[0]).toBe('GET /containers/meshcode-worker-pr-reviewer/json');
    expect(since(again)).not.toContain('POST /containers/create');
    expect(engine.requests[again + 1]!.body).toMatchObject({ WorkingDir: '/workspace/packages/web' });

    expect(await long.run(task('x', { cwd: root }))).toMatchObject({ ok: false, transient: false });
    await long.close!();
    expect(engine.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/containers/meshcode-worker-pr-reviewer' });
  });
});

// A live run against a real engine, when one answers here.
const live = new Dockerode({ timeout: 2_000 });
const engineAnswers = await live.ping().then(
  () => true,
  () => false,
);
if (!engineAnswers)
  console.log('docker driver live test SKIPPED: no Docker engine answered docker.ping() on this machine.');

describe.skipIf(!engineAnswers)('docker driver against a real Docker engine', () => {
  it('runs a one-shot alpine container with the prompt on stdin', { timeout: 180_000 }, async () => {
    const workspace = await realpath(await mkdtemp(join(tmpdir(), 'meshcode-docker-live-')));
    const result = await createDockerDriver({
      docker: live,
      workerName: 'live-test',
      image: 'alpine:3.20',
      command: ['sh', '-c', 'tr a-z A-Z && ls /workspace >/dev/null'],
      mode: 'oneshot',
      env: {},
      cwd: workspace,
      cpus: 1,
      memoryBytes: 256 * 1024 ** 2,
      pids: 64,
      network: 'none',
      pull: 'missing',
      home: join(workspace, 'home'),
      meshcodeHome: join(workspace, 'home', '.meshcode'),
    }).run({ prompt: 'hello docker', timeoutMs: 170_000, signal: new AbortController().signal });
    expect(result).toEqual({ ok: true, output: 'HELLO DOCKER' });
  });
});
