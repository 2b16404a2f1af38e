// A headless agent: holds the agent's session on the hub, waits for messages, runs a shell command once per batch with
// the batch as JSON on stdin, and posts the command's stdout as the answer. A batch is acknowledged only after its
// command succeeded, so a failing or crashing command loses nothing: the same batch is run again.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inbox, MeshError, withRetry, type MeshClient } from '@meshcode/client';
import type { Message } from '@meshcode/protocol';
import { CliError, EXIT } from './errors';

/** The hub stores at most 256 KB per message body. */
const MAX_BODY_BYTES = 256 * 1024;
const MAX_STDERR_BYTES = 64 * 1024;

export interface DaemonOptions {
  client: MeshClient;
  project: string;
  agent: string;
  /** Shell command run once per batch. */
  command: string;
  cwd: string;
  /** Environment of the command (MESHCODE_PROJECT, MESHCODE_AGENT and MESHCODE_HUB_URL are added). */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Consecutive failures of the command before the daemon pauses. */
  maxErrors: number;
  /** First pause after maxErrors failures; it doubles while failures go on (up to 10 minutes). */
  pauseMs: number;
  /** Wait between attempts before the pause. */
  retryDelayMs?: number;
  heartbeatMs?: number;
  waitSeconds?: number;
  /** Take over a session another window holds. */
  force?: boolean;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface CommandResult {
  ok: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stdoutTruncated: boolean;
  stderr: string;
}

/** Runs `command` in a shell with `input` on stdin; kills its whole process group on timeout or abort. */
export function runCommand(
  command: string,
  input: string,
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const group = process.platform !== 'win32';
    const child = spawn(command, { shell: true, cwd: opts.cwd, env: opts.env, stdio: 'pipe', detached: group });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let truncated = false;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      const signalTree = (sig: NodeJS.Signals) => {
        try {
          if (group && child.pid !== undefined) process.kill(-child.pid, sig);
          else child.kill(sig);
        } catch {
          // already gone
        }
      };
      signalTree('SIGTERM');
      killTimer = setTimeout(() => signalTree('SIGKILL'), 5_000);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    const onAbort = () => kill();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => {
      if (outBytes >= MAX_BODY_BYTES) {
        truncated = true;
        return;
      }
      const part = d.subarray(0, MAX_BODY_BYTES - outBytes);
      if (part.length < d.length) truncated = true;
      out.push(part);
      outBytes += part.length;
    });
    child.stderr.on('data', (d: Buffer) => {
      if (errBytes < MAX_STDERR_BYTES) {
        err.push(d);
        errBytes += d.length;
      }
    });
    // A command that never reads stdin closes the pipe under us; that is its right, not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    const finish = (exitCode: number | null, sig: NodeJS.Signals | null, spawnError?: Error) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      let stdout = Buffer.concat(out).toString('utf8');
      // Cutting at a byte limit can split a character; drop the broken tail.
      if (truncated) stdout = stdout.replace(/\uFFFD+$/, '');
      const stderr = Buffer.concat(err).toString('utf8') + (spawnError ? `\n${spawnError.message}` : '');
      resolve({
        ok: exitCode === 0 && !timedOut && !spawnError && !opts.signal?.aborted,
        exitCode,
        signal: sig,
        timedOut,
        stdout,
        stdoutTruncated: truncated,
        stderr,
      });
    };
    child.once('error', (e) => finish(null, null, e));
    child.once('close', (code, sig) => finish(code, sig));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function taskId(m: Message): string | null {
  const id = m.data?.task_id;
  return m.kind === 'system' && typeof id === 'string' ? id : null;
}

function describeFailure(r: CommandResult, timeoutMs: number): string {
  const why = r.timedOut
    ? `timed out after ${Math.round(timeoutMs / 1000)} s`
    : r.exitCode !== null
      ? `exited with code ${r.exitCode}`
      : `was killed by ${r.signal ?? 'a signal'}`;
  const tail = r.stderr.trim().split('\n').slice(-3).join(' | ');
  return tail ? `${why}: ${tail.slice(0, 300)}` : why;
}

/** Runs until the signal aborts (then disconnects and resolves) or the agent can no longer be served (throws). */
export async function runDaemon(o: DaemonOptions): Promise<void> {
  const { client, project, agent } = o;
  const session = randomUUID();
  const retryDelayMs = o.retryDelayMs ?? 1_000;
  try {
    await withRetry(() => client.connect(project, agent, session, { host: hostname(), force: o.force }), o.signal);
  } catch (err) {
    if (err instanceof MeshError && err.status === 409) {
      throw new CliError(
        'agent already running in another window',
        EXIT.failure,
        `close the other window, use another agent name, or pass --force to take over '${agent}'`,
      );
    }
    throw err;
  }
  o.log(`agent '${agent}' in project '${project}' is online as a daemon; waiting for messages (Ctrl-C stops)`);

  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  let fatal: unknown = null;
  let working = false;
  const beat = setInterval(() => {
    client
      .heartbeat(project, agent, { session, ...(working ? { status: 'working' as const } : {}) })
      .catch((err: unknown) => {
        if (
          err instanceof MeshError &&
          (err.status === 409 || err.status === 401 || err.status === 403 || err.status === 404)
        ) {
          fatal =
            err.status === 409
              ? new CliError(
                  'agent session was taken over by another window',
                  EXIT.failure,
                  `this daemon stopped; run it again with --force to take '${agent}' back`,
                )
              : err;
          stop.abort();
        }
      });
  }, o.heartbeatMs ?? 30_000);
  beat.unref();

  const inbox = new Inbox(client, { meshwork: project, agent });
  let lastBatchDone = true;
  let consecutive = 0;
  let pauseMs = o.pauseMs;

  const handle = async (batch: Message[], attempt: number): Promise<boolean> => {
    const tasks = batch.map(taskId).filter((id): id is string => id !== null);
    working = true;
    await client
      .heartbeat(project, agent, {
        session,
        status: 'working',
        detail: `running the command on ${batch.length} message${batch.length === 1 ? '' : 's'}`,
      })
      .catch(() => undefined);
    for (const id of tasks) {
      await client.updateTask(project, id, { status: 'in_progress', agent }).catch((err: unknown) => {
        o.log(`could not mark task ${id} in progress: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    o.log(
      `running the command on ${batch.length} message${batch.length === 1 ? '' : 's'}${attempt > 1 ? ` (attempt ${attempt})` : ''}…`,
    );
    const input = JSON.stringify({ project, agent, attempt, messages: batch });
    const env = { ...o.env, MESHCODE_PROJECT: project, MESHCODE_AGENT: agent, MESHCODE_HUB_URL: client.hubUrl };
    const result = await runCommand(o.command, input, { cwd: o.cwd, env, timeoutMs: o.timeoutMs, signal });
    working = false;
    if (!result.ok) {
      if (!signal.aborted) o.log(`the command ${describeFailure(result, o.timeoutMs)}`);
      return false;
    }
    const body = result.stdout.trimEnd();
    if (result.stdoutTruncated) o.log('the command wrote more than 256 KB; the answer was cut to that size');
    // Answer asks one by one (each asker waits for its own reply); other messages get one answer per sender.
    // Replies and events are never answered, so two daemons cannot talk to each other forever.
    const targets = new Map<string, Message>();
    for (const m of batch) {
      if (m.kind === 'ask') targets.set(`ask:${m.id}`, m);
      else if (m.kind === 'message') targets.set(`from:${m.from}`, m);
    }
    if (body !== '') {
      for (const m of targets.values()) {
        try {
          await withRetry(
            () =>
              client.send({
                meshwork: project,
                from: agent,
                to: '',
                body,
                replyTo: m.id,
                // A batch run again after a crash posts the same answer once.
                idempotencyKey: `meshcode-daemon:${m.id}`,
              }),
            signal,
          );
          o.log(`answered ${m.from}${m.kind === 'ask' ? ' (ask)' : ''}`);
        } catch (err) {
          if (signal.aborted) return false;
          o.log(`could not post the answer to ${m.from}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    } else if (targets.size > 0) {
      o.log('the command printed nothing, so no answer was sent');
    }
    for (const id of tasks) {
      await withRetry(() => client.updateTask(project, id, { status: 'done', result: body, agent }), signal).catch(
        (err: unknown) => o.log(`could not mark task ${id} done: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    return true;
  };

  try {
    while (!signal.aborted) {
      let batch: Message[];
      try {
        batch = await inbox.next({ timeoutSeconds: o.waitSeconds ?? 30, signal });
      } catch (err) {
        if (signal.aborted) break;
        throw err;
      }
      if (batch.length === 0) continue;
      lastBatchDone = false;
      for (let attempt = 1; !signal.aborted; attempt++) {
        if (await handle(batch, attempt)) {
          lastBatchDone = true;
          consecutive = 0;
          pauseMs = o.pauseMs;
          break;
        }
        if (signal.aborted) break;
        consecutive++;
        if (consecutive >= o.maxErrors) {
          o.log(
            `paused for ${Math.round(pauseMs / 1000)} s after ${consecutive} consecutive failures; the batch stays unacknowledged and runs again after the pause`,
          );
          await client
            .heartbeat(project, agent, {
              session,
              status: 'idle',
              detail: `paused after ${consecutive} failures of the command`,
            })
            .catch(() => undefined);
          await sleep(pauseMs, signal);
          pauseMs = Math.min(pauseMs * 2, 600_000);
        } else {
          await sleep(retryDelayMs, signal);
        }
      }
    }
    // A batch answered just before Ctrl-C is acknowledged now rather than run twice next time.
    if (lastBatchDone && fatal === null) {
      const giveUp = new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref());
      await Promise.race([inbox.commit().catch(() => undefined), giveUp]);
    }
  } finally {
    clearInterval(beat);
    await client.disconnect(project, agent, session).catch(() => undefined);
    o.log(`agent '${agent}' disconnected`);
  }
  if (fatal !== null) throw fatal;
}
