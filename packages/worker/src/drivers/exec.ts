// Driver that runs a local headless CLI (claude -p, codex exec -, gemini) with the prompt on stdin.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { redact } from '../redact';
import { isTransientExit, lastLines } from './exit';
import type { Driver, DriverResult } from './types';

export interface ExecDriverOptions {
  command: string;
  args?: string[];
  /** The child's complete environment: base variables, worker env and resolved tokens. */
  env: Record<string, string>;
  /** Working directory when the task names none. */
  cwd?: string;
  /** Stdout beyond this fails the task (default 1 MiB). */
  maxOutputBytes?: number;
  /** Time between SIGTERM and SIGKILL when a task is stopped (default 2 s). */
  killGraceMs?: number;
}

const STDERR_TAIL_BYTES = 8 * 1024;

/** Why a working directory cannot be used, or undefined when it can (spawn reports a bad cwd as ENOENT). */
function cwdProblem(cwd: string): string | undefined {
  try {
    if (!statSync(cwd).isDirectory()) {
      return `Working directory ${cwd} is not a directory; fix exec.cwd in the worker file.`;
    }
    accessSync(cwd, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return `Working directory ${cwd} does not exist; create it or fix exec.cwd in the worker file.`;
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return `Working directory ${cwd} cannot be entered (${code}); fix its permissions or exec.cwd in the worker file.`;
    }
    return undefined;
  }
}

export function createExecDriver(options: ExecDriverOptions): Driver {
  const maxOutput = options.maxOutputBytes ?? 1024 * 1024;
  const grace = options.killGraceMs ?? 2_000;
  const args = options.args ?? [];

  return {
    kind: 'exec',
    run(task) {
      if (task.signal.aborted) {
        return Promise.resolve<DriverResult>({
          ok: false,
          transient: true,
          error: 'The task was cancelled before it started.',
        });
      }
      const cwd = task.cwd ?? options.cwd;
      // Checked first: spawn reports a missing cwd as a missing command (ENOENT), and throws on a file (ENOTDIR).
      const badCwd = cwd === undefined ? undefined : cwdProblem(cwd);
      if (badCwd) return Promise.resolve<DriverResult>({ ok: false, transient: false, error: badCwd });
      return new Promise<DriverResult>((resolve) => {
        const child = spawn(options.command, args, {
          cwd,
          env: options.env,
          // Its own process group, so a timeout kills the CLI and everything it started.
          detached: process.platform !== 'win32',
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        const stdout: Buffer[] = [];
        let stdoutSize = 0;
        let stderr = Buffer.alloc(0);
        let stopReason: 'timeout' | 'cancelled' | 'overflow' | undefined;
        let graceTimer: NodeJS.Timeout | undefined;
        let drainTimer: NodeJS.Timeout | undefined;
        let done = false;

        const signalGroup = (signal: NodeJS.Signals) => {
          if (child.pid === undefined) return;
          try {
            process.kill(process.platform === 'win32' ? child.pid : -child.pid, signal);
          } catch {
            // Already gone.
          }
        };
        const stop = (reason: NonNullable<typeof stopReason>) => {
          if (stopReason || done) return;
          stopReason = reason;
          signalGroup('SIGTERM');
          graceTimer = setTimeout(() => signalGroup('SIGKILL'), grace);
        };
        const timer = setTimeout(() => stop('timeout'), task.timeoutMs);
        const onAbort = () => stop('cancelled');
        task.signal.addEventListener('abort', onAbort, { once: true });

        const finish = (result: DriverResult) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          clearTimeout(graceTimer);
          clearTimeout(drainTimer);
          task.signal.removeEventListener('abort', onAbort);
          // Nothing the task started may outlive it.
          signalGroup('SIGKILL');
          resolve(result.ok ? result : { ...result, error: redact(result.error) });
        };

        child.stdout.on('data', (chunk: Buffer) => {
          stdoutSize += chunk.length;
          if (stdoutSize > maxOutput) {
            stop('overflow');
            return;
          }
          stdout.push(chunk);
        });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr = Buffer.concat([stderr, chunk]);
          if (stderr.length > STDERR_TAIL_BYTES) stderr = stderr.subarray(stderr.length - STDERR_TAIL_BYTES);
        });
        // A CLI that exits without reading its stdin makes our write fail with EPIPE; its exit status tells the story.
        child.stdin.on('error', () => undefined);
        child.stdin.end(task.prompt);

        child.on('error', (error: NodeJS.ErrnoException) => {
          // The directory may have gone since the check above.
          const goneCwd = cwd !== undefined && error.code === 'ENOENT' ? cwdProblem(cwd) : undefined;
          if (goneCwd) {
            finish({ ok: false, transient: false, error: goneCwd });
          } else if (error.code === 'ENOENT') {
            finish({
              ok: false,
              transient: false,
              error: `Command "${options.command}" was not found; install it or fix exec.command in the worker file.`,
            });
          } else if (error.code === 'EACCES') {
            finish({ ok: false, transient: false, error: `Command "${options.command}" is not executable (EACCES).` });
          } else {
            finish({ ok: false, transient: true, error: `Could not start "${options.command}": ${error.message}` });
          }
        });
        // A grandchild that keeps our pipes open must not keep the task open after the CLI exited.
        child.on('exit', () => {
          if (done) return;
          drainTimer = setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
          }, 1_000);
        });
        child.on('close', (code, signal) => {
          const tail = lastLines(stderr.toString('utf8'));
          if (stopReason === 'timeout') {
            finish({
              ok: false,
              transient: true,
              error: `"${options.command}" did not finish within ${task.timeoutMs} ms; its process group was killed.`,
            });
          } else if (stopReason === 'cancelled') {
            finish({
              ok: false,
              transient: true,
              error: `"${options.command}" was stopped because the task was cancelled.`,
            });
          } else if (stopReason === 'overflow') {
            finish({
              ok: false,
              transient: false,
              error: `"${options.command}" wrote more than ${maxOutput} bytes to stdout; raise exec.max_output_bytes or ask for less.`,
            });
          } else if (code === 0) {
            finish({ ok: true, output: Buffer.concat(stdout).toString('utf8') });
          } else if (signal) {
            finish({
              ok: false,
              transient: true,
              error: `"${options.command}" was killed by ${signal}${tail ? `: ${tail}` : ''}`,
            });
          } else {
            finish({
              ok: false,
              transient: isTransientExit(code, tail),
              error: `"${options.command}" exited with code ${String(code)}${tail ? `: ${tail}` : ''}`,
            });
          }
        });
      });
    },
  };
}
