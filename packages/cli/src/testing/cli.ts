// Test helpers: run `meshcode` in-process with a captured Io, or as the real binary in a child process, inside a
// sandbox (temporary HOME, MESHCODE_HOME, PATH with only the stand-in editors the test installs).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { vi } from 'vitest';
import type { Io } from '../common';
import { buildProgram } from '../index';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CLI_BIN = path.resolve(here, '../../bin/meshcode.js');
export const REPO_ROOT = path.resolve(here, '../../../..');
const STAND_IN = path.resolve(here, '../../test-fixtures/editors/record-argv.sh');
/** A D-Bus address that leads nowhere: the keychain is unavailable, so keys go to the 0600 file fallback. */
export const DEAD_BUS = 'unix:path=/nonexistent/meshcode-cli-test-bus';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  root: string;
  /** The user's home (global editor configs). */
  home: string;
  /** MESHCODE_HOME. */
  meshHome: string;
  /** Holds stand-in editors; first on PATH. */
  binDir: string;
  recordDir: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function makeSandbox(hubUrl?: string): Promise<Sandbox> {
  const root = await realpath(await mkdtemp(path.join(tmpdir(), 'mc-cli-')));
  const home = path.join(root, 'home');
  const meshHome = path.join(root, 'meshcode-home');
  const binDir = path.join(root, 'bin');
  const recordDir = path.join(root, 'records');
  await Promise.all([home, binDir, recordDir].map((d) => mkdir(d, { recursive: true })));
  const env: Record<string, string> = {
    HOME: home,
    MESHCODE_HOME: meshHome,
    // No editor lives in /usr/bin or /bin here; the stand-ins need their basic tools.
    PATH: `${binDir}:/usr/bin:/bin`,
    MESHCODE_RECORD_DIR: recordDir,
    DBUS_SESSION_BUS_ADDRESS: DEAD_BUS,
  };
  if (hubUrl !== undefined) env.MESHCODE_HUB_URL = hubUrl;
  return { root, home, meshHome, binDir, recordDir, env, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Puts the recording stand-in on the sandbox PATH under each editor binary name. */
export async function installStandIns(sb: Sandbox, names: string[]): Promise<void> {
  for (const name of names) {
    await copyFile(STAND_IN, path.join(sb.binDir, name));
    await chmod(path.join(sb.binDir, name), 0o755);
  }
}

/** How a stand-in editor was started; waits for the record (GUI editors are started detached). */
export async function readRecord(sb: Sandbox, name: string): Promise<{ name: string; cwd: string; args: string[] }> {
  const file = path.join(sb.recordDir, `${name}.record`);
  await vi.waitFor(async () => stat(file), { timeout: 10_000, interval: 20 });
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  const value = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  return { name: value('name=')[0] ?? '', cwd: value('cwd=')[0] ?? '', args: value('arg=') };
}

/** Runs the CLI in this process through buildProgram with a captured Io. */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  let code = 0;
  const io: Io = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env,
    exit: (c) => void (code = c),
  };
  try {
    await buildProgram(io).parseAsync(['node', 'meshcode', ...args]);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    code = err.exitCode === 0 ? 0 : 2;
  }
  return { code, stdout, stderr };
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr (or stdout) contains the text. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<CliResult>;
}

/** Starts the real binary (`node packages/cli/bin/meshcode.js`) from the repo root. */
export function spawnCli(args: string[], env: Record<string, string>, cwd = REPO_ROOT): CliProcess {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout: out, stderr: err }));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitFor(text, timeoutMs = 30_000) {
      const seen = () => (typeof text === 'string' ? (out + err).includes(text) : text.test(out + err));
      await vi.waitFor(
        () => {
          if (child.exitCode !== null && !seen()) throw new Error(`meshcode exited first:\n${out}\n${err}`);
          if (!seen()) throw new Error(`waiting for ${String(text)} in:\n${out}\n${err}`);
        },
        { timeout: timeoutMs, interval: 50 },
      );
    },
  };
}

/** Runs the real binary to completion. */
export async function cliProcess(args: string[], env: Record<string, string>, cwd?: string): Promise<CliResult> {
  return await spawnCli(args, env, cwd).exited;
}

/**
 * The keychain binding reads the D-Bus address from this process's environment: point it nowhere for in-process
 * runs, so tests never touch a developer's real keychain. Returns the function that restores it.
 */
export function cutOffKeychain(): () => void {
  const saved = process.env.DBUS_SESSION_BUS_ADDRESS;
  process.env.DBUS_SESSION_BUS_ADDRESS = DEAD_BUS;
  return () => {
    if (saved === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = saved;
  };
}

let emails = 0;
/** A unique email per call, so suites can share a hub without resetting it. */
export function uniqueEmail(name: string): string {
  return `${name}-${process.pid}-${Date.now()}-${emails++}@example.test`;
}
