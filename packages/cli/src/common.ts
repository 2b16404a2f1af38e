// The one wrapper every command runs through: global options, typed errors -> one line + exit code, --debug stacks.
import type { Command } from 'commander';
import { MeshError } from '@meshcode/protocol';
import { CredentialError } from './credentials';
import { EditorConfigError } from './editors';
import { loadCliEnv, type CliEnv } from './env';
import { CliError, EXIT } from './errors';

export interface GlobalOptions {
  hub?: string;
  json?: boolean;
  debug?: boolean;
}

export interface Context {
  env: CliEnv;
  hubUrl: string;
  json: boolean;
  debug: boolean;
  out(line: string): void;
  err(line: string): void;
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  exit: (code: number) => void;
}

export const processIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  exit: (code) => {
    process.exitCode = code;
  },
};

export function makeContext(cmd: Command, io: Io): Context {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const env = loadCliEnv(io.env);
  return {
    env,
    hubUrl: (g.hub ?? env.hubUrl).replace(/\/+$/, ''),
    json: g.json === true,
    debug: g.debug === true || env.debug,
    out: (line) => io.stdout(line + '\n'),
    err: (line) => io.stderr(line + '\n'),
  };
}

export function describeError(err: unknown, debug: boolean): { line: string; code: number } {
  if (err instanceof CliError) {
    return { line: err.hint ? `${err.message}\n  → ${err.hint}` : err.message, code: err.exitCode };
  }
  // The credential store and the editor library already word their failures as one sentence with the fix.
  if (err instanceof CredentialError) {
    return {
      line: err.message,
      code: err.code === 'invalid_key' || err.code === 'invalid_env' ? EXIT.usage : EXIT.failure,
    };
  }
  if (err instanceof EditorConfigError) {
    return { line: err.message, code: err.code === 'unknown_editor' ? EXIT.usage : EXIT.failure };
  }
  if (err instanceof MeshError) {
    const code = err.status === 0 ? EXIT.unreachable : err.status === 401 ? EXIT.auth : EXIT.failure;
    return { line: err.hint ? `${err.message}\n  → ${err.hint}` : err.message, code };
  }
  const e = err as Error;
  const line = debug
    ? `unexpected error: ${e?.stack ?? String(err)}`
    : `unexpected error: ${e?.message ?? String(err)} (run with --debug for details)`;
  return { line, code: EXIT.failure };
}

/** Wrap a command action: build the context, run, and turn failures into one line on stderr and an exit code. */
export function action<A extends unknown[]>(io: Io, fn: (ctx: Context, ...args: A) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    let debug = false;
    try {
      const ctx = makeContext(cmd, io);
      debug = ctx.debug;
      await fn(ctx, ...(args.slice(0, -1) as A));
    } catch (err) {
      const { line, code } = describeError(err, debug);
      io.stderr(`meshcode: ${line}\n`);
      io.exit(code);
    }
  };
}
