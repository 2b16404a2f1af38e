// Driver that runs the prompt in a Docker container (dockerode): one-shot (a fresh AutoRemove container per task)
// or long-lived (one container per worker, a `docker exec` per task). The workspace is mounted at /workspace.
import { randomBytes } from 'node:crypto';
import { relative } from 'node:path';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { redact } from '../redact';
import { isTransientExit, lastLines } from './exit';
import { checkMountSource, type MountContext } from './mounts';
import type { Driver, DriverResult, DriverTask } from './types';

export const WORKSPACE = '/workspace';

export interface DockerDriverOptions extends MountContext {
  docker: Dockerode;
  workerName: string;
  image: string;
  /** Command run with the prompt on stdin; the image's own command when absent (one-shot only). */
  command?: string[];
  mode: 'oneshot' | 'long-lived';
  env: Record<string, string>;
  /** Host directory mounted at /workspace when the task names none. */
  cwd?: string;
  cpus: number;
  memoryBytes: number;
  pids: number;
  network: string;
  /** "uid[:gid]" inside the container; the current user by default, so files written to the workspace stay yours. */
  user?: string;
  pull: 'missing' | 'never';
  maxOutputBytes?: number;
  /** Long-lived containers idle on this (default sleep infinity). */
  keepAlive?: string[];
}

type ContainerCreateOptions = Dockerode.ContainerCreateOptions;

function envList(env: Record<string, string>): string[] {
  const merged = { HOME: '/tmp', ...env };
  return Object.entries(merged).map(([key, value]) => `${key}=${value}`);
}

function defaultUser(): string | undefined {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return uid === undefined ? undefined : `${uid}:${gid ?? uid}`;
}

/** Container settings shared by both modes: limits, no extra privileges, the workspace mount. */
export function containerOptions(
  options: DockerDriverOptions,
  mountSource: string | undefined,
  extra: Partial<ContainerCreateOptions>,
): ContainerCreateOptions {
  const user = options.user ?? defaultUser();
  return {
    Image: options.image,
    Env: envList(options.env),
    ...(user ? { User: user } : {}),
    ...(mountSource ? { WorkingDir: WORKSPACE } : {}),
    Labels: { 'meshcode.worker': options.workerName, 'meshcode.mode': options.mode },
    ...extra,
    HostConfig: {
      Mounts: mountSource ? [{ Type: 'bind', Source: mountSource, Target: WORKSPACE, ReadOnly: false }] : [],
      NanoCpus: Math.round(options.cpus * 1e9),
      Memory: options.memoryBytes,
      MemorySwap: options.memoryBytes,
      PidsLimit: options.pids,
      NetworkMode: options.network,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      ...extra.HostConfig,
    },
  };
}

interface Collected {
  stdout: string;
  stderr: string;
  overflow: boolean;
}

/** Writes the prompt, half-closes stdin and demultiplexes Docker's 8-byte-framed stdout/stderr until the end. */
function exchange(stream: Duplex, prompt: string, maxOutput: number): Promise<Collected> {
  return new Promise((resolve) => {
    let pending = Buffer.alloc(0);
    const stdout: Buffer[] = [];
    let stdoutSize = 0;
    let stderr = Buffer.alloc(0);
    let overflow = false;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: stderr.toString('utf8'), overflow });
    };
    stream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8) {
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) break;
        const kind = pending[0];
        const payload = pending.subarray(8, 8 + size);
        pending = pending.subarray(8 + size);
        if (kind === 2) {
          stderr = Buffer.concat([stderr, payload]);
          if (stderr.length > 8192) stderr = stderr.subarray(stderr.length - 8192);
        } else if (kind === 1) {
          stdoutSize += payload.length;
          if (stdoutSize > maxOutput) {
            overflow = true;
            stream.destroy();
            settle();
            return;
          }
          stdout.push(payload);
        }
      }
    });
    stream.on('end', settle);
    stream.on('close', settle);
    stream.on('error', settle);
    stream.write(prompt);
    stream.end();
  });
}

function statusCode(error: unknown): number | undefined {
  return typeof error === 'object' && error && 'statusCode' in error ? Number(error.statusCode) : undefined;
}

/** A missing executable or a bad mount will fail the same way next time; an engine hiccup may not. */
function isTransientDockerError(error: unknown): boolean {
  const status = statusCode(error);
  if (status !== undefined && status >= 400 && status < 500) return false;
  return !/executable file not found|no such file or directory|invalid mount|permission denied/i.test(
    dockerError(error),
  );
}

function dockerError(error: unknown): string {
  const json =
    typeof error === 'object' && error && 'json' in error ? (error as { json?: { message?: string } }).json : undefined;
  return redact(json?.message ?? (error instanceof Error ? error.message : String(error)));
}

async function pullImage(docker: Dockerode, image: string): Promise<void> {
  const stream = await docker.pull(image);
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

export function createDockerDriver(options: DockerDriverOptions): Driver {
  const maxOutput = options.maxOutputBytes ?? 1024 * 1024;
  const { docker } = options;
  const longLivedName = `meshcode-worker-${options.workerName}`;

  function mountFor(task: DriverTask): { ok: true; source?: string } | { ok: false; error: string } {
    const wanted = task.cwd ?? options.cwd;
    if (!wanted) return { ok: true };
    const checked = checkMountSource(wanted, options);
    return checked.ok ? { ok: true, source: checked.path } : checked;
  }

  async function createWithPull(create: ContainerCreateOptions): Promise<Dockerode.Container> {
    try {
      return await docker.createContainer(create);
    } catch (error) {
      if (statusCode(error) !== 404 || options.pull === 'never') throw error;
      await pullImage(docker, options.image);
      return docker.createContainer(create);
    }
  }

  /** Runs one exchange under the task's timeout and cancellation; `stop` kills whatever runs the command. */
  async function supervise(
    task: DriverTask,
    stream: Duplex,
    stop: () => Promise<void>,
    exitCode: () => Promise<number | undefined>,
  ): Promise<DriverResult> {
    let stopReason: 'timeout' | 'cancelled' | undefined;
    const halt = (reason: 'timeout' | 'cancelled') => {
      if (stopReason) return;
      stopReason = reason;
      stream.destroy();
      stop().catch(() => undefined);
    };
    const timer = setTimeout(() => halt('timeout'), task.timeoutMs);
    const onAbort = () => halt('cancelled');
    task.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const collected = await exchange(stream, task.prompt, maxOutput);
      if (stopReason === 'timeout') {
        return {
          ok: false,
          transient: true,
          error: `The container did not finish within ${task.timeoutMs} ms and was killed.`,
        };
      }
      if (stopReason === 'cancelled')
        return { ok: false, transient: true, error: 'The container was stopped because the task was cancelled.' };
      if (collected.overflow) {
        await stop().catch(() => undefined);
        return {
          ok: false,
          transient: false,
          error: `The container wrote more than ${maxOutput} bytes to stdout; raise docker.max_output_bytes or ask for less.`,
        };
      }
      const code = await exitCode();
      const tail = redact(lastLines(collected.stderr));
      if (code === 0) return { ok: true, output: collected.stdout };
      if (code === undefined) {
        return {
          ok: false,
          transient: true,
          error: `The container ended without an exit status${tail ? `: ${tail}` : ''}.`,
        };
      }
      if (code === 137) {
        return {
          ok: false,
          transient: false,
          error: `The container was killed (exit 137), most likely out of memory; raise docker.memory${tail ? `: ${tail}` : ''}.`,
        };
      }
      return {
        ok: false,
        transient: isTransientExit(code, tail),
        error: `The container command exited with code ${code}${tail ? `: ${tail}` : ''}`,
      };
    } finally {
      clearTimeout(timer);
      task.signal.removeEventListener('abort', onAbort);
    }
  }

  async function runOneShot(task: DriverTask): Promise<DriverResult> {
    const mount = mountFor(task);
    if (!mount.ok) return { ok: false, transient: false, error: mount.error };
    const create = containerOptions(options, mount.source, {
      name: `meshcode-${options.workerName}-${randomBytes(4).toString('hex')}`,
      ...(options.command ? { Cmd: options.command } : {}),
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      OpenStdin: true,
      StdinOnce: true,
      Tty: false,
      HostConfig: { AutoRemove: true },
    });
    let container: Dockerode.Container;
    try {
      container = await createWithPull(create);
    } catch (error) {
      const status = statusCode(error);
      if (status === 404) {
        return {
          ok: false,
          transient: false,
          error: `Image ${options.image} is not available locally; run: docker pull ${options.image}`,
        };
      }
      return {
        ok: false,
        transient: status === undefined || status >= 500,
        error: `Docker refused the container: ${dockerError(error)}`,
      };
    }
    let stream: Duplex | undefined;
    try {
      stream = (await container.attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
      })) as Duplex;
      // Asked before start, as the docker CLI does, so a fast exit is not missed once AutoRemove deletes the container.
      const waited = container.wait({ condition: 'removed' }).then(
        (body: { StatusCode?: number }) => body.StatusCode,
        () => undefined,
      );
      await container.start();
      return await supervise(
        task,
        stream,
        async () => {
          await container.kill();
        },
        () => waited,
      );
    } catch (error) {
      stream?.destroy();
      await container.remove({ force: true }).catch(() => undefined);
      return {
        ok: false,
        transient: isTransientDockerError(error),
        error: `Docker could not run the task: ${dockerError(error)}`,
      };
    }
  }

  async function ensureLongLived(): Promise<Dockerode.Container> {
    const container = docker.getContainer(longLivedName);
    try {
      const info = await container.inspect();
      if (!info.State.Running) await container.start();
      return container;
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
    }
    const mount = options.cwd ? checkMountSource(options.cwd, options) : undefined;
    if (mount && !mount.ok) throw new Error(mount.error);
    const created = await createWithPull(
      containerOptions(options, mount?.path, {
        name: longLivedName,
        Entrypoint: options.keepAlive ?? ['sleep', 'infinity'],
        Cmd: [],
        Tty: false,
      }),
    );
    await created.start();
    return created;
  }

  async function runLongLived(task: DriverTask): Promise<DriverResult> {
    if (!options.command) {
      return {
        ok: false,
        transient: false,
        error: 'A long-lived docker worker needs docker.command to run for each task.',
      };
    }
    let workdir: string | undefined;
    if (options.cwd) {
      const base = checkMountSource(options.cwd, options);
      if (!base.ok) return { ok: false, transient: false, error: base.error };
      workdir = WORKSPACE;
      if (task.cwd) {
        const wanted = checkMountSource(task.cwd, options);
        if (!wanted.ok) return { ok: false, transient: false, error: wanted.error };
        const rel = relative(base.path, wanted.path);
        if (rel.startsWith('..')) {
          return {
            ok: false,
            transient: false,
            error: `The long-lived container mounts ${options.cwd}; the task directory ${task.cwd} is outside it.`,
          };
        }
        workdir = rel ? `${WORKSPACE}/${rel}` : WORKSPACE;
      }
    }
    let container: Dockerode.Container;
    try {
      container = await ensureLongLived();
    } catch (error) {
      const message = dockerError(error);
      const status = statusCode(error);
      return {
        ok: false,
        transient: status === undefined || status >= 500,
        error: `Cannot start the worker container: ${message}`,
      };
    }
    try {
      const user = options.user ?? defaultUser();
      const exec = await container.exec({
        Cmd: options.command,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        Env: envList(options.env),
        ...(workdir ? { WorkingDir: workdir } : {}),
        ...(user ? { User: user } : {}),
      });
      const stream = (await exec.start({ hijack: true, stdin: true, Detach: false, Tty: false })) as Duplex;
      return await supervise(
        task,
        stream,
        // An exec cannot be killed on its own; the container goes, and the next task starts it again.
        async () => {
          await container.kill();
        },
        async () => {
          const info = await exec.inspect();
          return info.ExitCode ?? undefined;
        },
      );
    } catch (error) {
      return {
        ok: false,
        transient: isTransientDockerError(error),
        error: `Docker could not run the task: ${dockerError(error)}`,
      };
    }
  }

  return {
    kind: 'docker',
    run(task) {
      if (task.signal.aborted) {
        return Promise.resolve({ ok: false, transient: true, error: 'The task was cancelled before it started.' });
      }
      return options.mode === 'long-lived' ? runLongLived(task) : runOneShot(task);
    },
    async health() {
      try {
        await docker.ping();
        return { ok: true };
      } catch (error) {
        return { ok: false, error: `The Docker engine does not answer: ${dockerError(error)}` };
      }
    },
    async close() {
      if (options.mode !== 'long-lived') return;
      await docker
        .getContainer(longLivedName)
        .remove({ force: true })
        .catch(() => undefined);
    },
  };
}
