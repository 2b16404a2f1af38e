// The worker runtime: an agent of kind worker that holds its session on the hub, idles in a waiting claim (the hub
// holds mc_worker_claim until a task is assigned and answers with it claimed, its lease longer than the task timeout),
// runs the driver, and reports the result (or a classified failure, so the hub retries with backoff or dead-letters).
// Wake-ups are only hints: every wake, timeout and finished task leads to a claim, so a lost wake-up costs at most one
// wait period.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { MeshError, withRetry, type MeshClient } from '@meshcode/client';
import { z } from 'zod';
import type { WorkerDefinition } from '../definition';
import type { Driver, DriverResult } from '../drivers/types';
import { redact, redactDeep } from '../redact';
import { parseWorkerOutput, type WorkerResult } from '../result';
import { decideRetry } from '../retry';
import { parseDefinition } from './spec';

const TaskShape = z.object({ id: z.string(), title: z.string(), attempts: z.number() }).passthrough();

export const ClaimResult = z.object({
  task: TaskShape.nullable(),
  run: z
    .object({
      prompt: z.string(),
      context: z.unknown(),
      timeout_ms: z.number(),
      attempt: z.number(),
      max_attempts: z.number(),
      lease_seconds: z.number(),
      event_id: z.string().nullable(),
      pipeline: z.boolean(),
    })
    .optional(),
  reason: z.string().optional(),
  next_at: z.string().nullable().optional(),
});
export type ClaimResult = z.infer<typeof ClaimResult>;

const ReportResult = z.object({
  status: z.string(),
  task_id: z.string(),
  next_retry_at: z.string().nullable().optional(),
});

const WorkerRecord = z.object({ name: z.string(), definition: z.unknown(), enabled: z.boolean() }).passthrough();

export interface WorkerRuntimeOptions {
  client: MeshClient;
  project: string;
  /** The worker's agent name. */
  worker: string;
  /** Builds the driver once the definition is known (resolving this machine's secrets). */
  driver: (definition: WorkerDefinition) => Promise<Driver> | Driver;
  /** The definition; fetched from the hub (mc_worker_get) when absent. */
  definition?: WorkerDefinition;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Backoff of failed attempts (default 30 s base, 10 min cap). */
  retry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Longest single wait on the bus (default 30 s). */
  waitSeconds?: number;
  heartbeatMs?: number;
  /** Take over the session another runtime holds. */
  force?: boolean;
  /** Called when the runtime is connected and about to wait for tasks. */
  onReady?: () => void;
}

export class WorkerRuntimeError extends Error {}

/** Models often wrap the JSON they were asked for in a Markdown fence. */
export function unfence(text: string): string {
  const m = /^\s*```(?:json)?[ \t]*\n([\s\S]*?)\n```\s*$/.exec(text);
  return m ? (m[1] ?? text) : text;
}

function sleepUntil(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function runWorker(o: WorkerRuntimeOptions): Promise<void> {
  const { client, project, worker } = o;
  const log = (line: string) => o.log(redact(line));
  const session = randomUUID();
  try {
    await withRetry(() => client.connect(project, worker, session, { host: hostname(), force: o.force }), o.signal);
  } catch (err) {
    if (err instanceof MeshError && err.status === 409) {
      throw new WorkerRuntimeError(
        `worker '${worker}' is already running elsewhere; stop it there, or start this one with --force to take over`,
      );
    }
    throw err;
  }

  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  let fatal: unknown = null;
  const active = new Map<string, Promise<void>>();
  let wakeAt: number | undefined;

  const beat = setInterval(() => {
    client
      .heartbeat(project, worker, { session, status: active.size > 0 ? 'working' : 'waiting' })
      .catch((err: unknown) => {
        if (err instanceof MeshError && [401, 403, 404, 409].includes(err.status)) {
          fatal =
            err.status === 409
              ? new WorkerRuntimeError(`worker '${worker}' was taken over by another runtime; this one stopped`)
              : err;
          stop.abort();
        }
      });
  }, o.heartbeatMs ?? 30_000);
  beat.unref();

  try {
    let definition = o.definition;
    if (!definition) {
      const record = await withRetry(
        () => client.rpc('mc_worker_get', { p_meshwork: project, p_name: worker }, WorkerRecord),
        signal,
      );
      const parsed = parseDefinition(record.definition);
      if (!parsed.ok) throw new WorkerRuntimeError(`worker '${worker}' on the hub: ${parsed.error}`);
      definition = parsed.worker;
    }
    const driver = await o.driver(definition);
    const concurrency = definition.limits.concurrency;
    const retry = {
      maxAttempts: definition.limits.max_attempts,
      baseDelayMs: o.retry?.baseDelayMs ?? 30_000,
      maxDelayMs: o.retry?.maxDelayMs ?? 10 * 60_000,
    };
    let lastReason: string | undefined;

    const report = async (taskId: string, attempt: number, args: Record<string, unknown>) => {
      try {
        return await withRetry(
          () =>
            client.rpc(
              'mc_worker_report',
              { p_meshwork: project, p_agent: worker, p_task_id: taskId, p_attempt: attempt, ...args },
              ReportResult,
            ),
          o.signal,
        );
      } catch (err) {
        if (err instanceof MeshError && err.status === 409) {
          log(`task ${taskId}: the lease was lost (the hub re-dispatched it), so this result was dropped`);
          return undefined;
        }
        throw err;
      }
    };

    const runTask = async (claim: ClaimResult) => {
      const task = claim.task!;
      const run = claim.run!;
      log(`task ${task.id} attempt ${run.attempt}/${run.max_attempts}: ${task.title}`);
      await client
        .heartbeat(project, worker, { session, status: 'working', detail: task.title.slice(0, 200) })
        .catch(() => undefined);
      const started = Date.now();
      let res: DriverResult;
      try {
        res = await driver.run({
          prompt: run.prompt,
          timeoutMs: run.timeout_ms,
          signal,
          id: task.id,
          context: run.context,
        });
      } catch (err) {
        res = { ok: false, transient: true, error: `the ${driver.kind} driver threw: ${(err as Error).message}` };
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (res.ok) {
        const result: WorkerResult = redactDeep(res.result ?? parseWorkerOutput(unfence(res.output)));
        const usage = res.usage
          ? {
              input_tokens: res.usage.inputTokens,
              output_tokens: res.usage.outputTokens,
              ...(res.usage.costUsd !== undefined ? { cost_usd: res.usage.costUsd } : {}),
            }
          : undefined;
        const done = await report(task.id, run.attempt, {
          p_ok: true,
          p_output: redact(res.output).slice(0, 60_000),
          p_result: result,
          p_usage: usage,
        });
        if (done)
          log(`task ${task.id} done in ${seconds} s${usage?.cost_usd ? ` ($${usage.cost_usd.toFixed(4)})` : ''}`);
        return;
      }
      const shuttingDown = signal.aborted;
      const decision = decideRetry(
        {
          transient: res.transient || shuttingDown,
          error: res.error,
          ...(res.retryAfterMs !== undefined ? { retryAfterMs: res.retryAfterMs } : {}),
        },
        run.attempt,
        { ...retry, maxAttempts: run.max_attempts },
        Date.now(),
      );
      const retryIn = shuttingDown ? 0 : decision.action === 'retry' ? decision.delayMs : null;
      const out = await report(task.id, run.attempt, {
        p_ok: false,
        p_error: redact(res.error).slice(0, 3_000),
        p_transient: decision.action === 'retry',
        p_retry_in_ms: retryIn,
      });
      if (out) {
        log(
          decision.action === 'retry'
            ? `task ${task.id} failed after ${seconds} s (${res.error}); retry in ${Math.round((retryIn ?? 0) / 1000)} s`
            : `task ${task.id} failed for good after ${seconds} s: ${res.error}`,
        );
        if (out.next_retry_at) wakeAt = Math.min(wakeAt ?? Infinity, Date.parse(out.next_retry_at));
      }
    };

    /** Start the task a claim brought; false (noting when to try again and why) when it brought none. */
    const take = (claim: ClaimResult): boolean => {
      if (!claim.task || !claim.run) {
        if (claim.next_at) wakeAt = Math.min(wakeAt ?? Infinity, Date.parse(claim.next_at));
        if (claim.reason && claim.reason !== lastReason && claim.reason !== 'empty' && claim.reason !== 'busy') {
          log(
            claim.reason === 'stopped'
              ? `worker '${worker}' is stopped on the hub; start it with meshcode worker start ${worker}`
              : claim.reason === 'cost_cap'
                ? `worker '${worker}' reached its daily cost cap; no tasks until ${claim.next_at ?? 'tomorrow'}`
                : `worker '${worker}' is rate limited until ${claim.next_at ?? 'the next minute'}`,
          );
        }
        lastReason = claim.reason;
        return false;
      }
      lastReason = undefined;
      const id = claim.task.id;
      const p = runTask(claim)
        .catch((err: unknown) => {
          if (!signal.aborted) log(`task ${id}: ${err instanceof Error ? err.message : String(err)}`);
        })
        .finally(() => active.delete(id));
      active.set(id, p);
      return true;
    };
    /** With waitSeconds the hub holds the call until a task is claimable (or the time is up). */
    const claim = (waitSeconds?: number) =>
      withRetry(
        () =>
          client.rpc(
            'mc_worker_claim',
            {
              p_meshwork: project,
              p_agent: worker,
              ...(waitSeconds === undefined ? {} : { p_wait_seconds: waitSeconds }),
            },
            ClaimResult,
            signal,
          ),
        signal,
      );

    const fill = async () => {
      while (!signal.aborted && active.size < concurrency) {
        if (!take(await claim())) return;
      }
    };

    log(`worker '${worker}' (${definition.driver}) is online in '${project}'; waiting for tasks (Ctrl-C stops)`);
    o.onReady?.();
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    while (!signal.aborted) {
      if (wakeAt !== undefined && wakeAt <= Date.now()) wakeAt = undefined;
      await fill();
      if (signal.aborted) break;
      if (active.size >= concurrency) {
        // Full: the next claim is due when a task ends; assignments meanwhile wait unread in the inbox.
        await Promise.race([...active.values(), stopped]);
        continue;
      }
      const until = wakeAt === undefined ? Infinity : wakeAt - Date.now();
      if (until < 1000) {
        await sleepUntil(until, signal);
        continue;
      }
      const seconds = Math.max(1, Math.min(o.waitSeconds ?? 30, Math.floor(until / 1000)));
      try {
        // Idle: the hub holds this claim until a task is assigned to us (its assignment message is the wake-up) and
        // answers with the task claimed. The inbox holds only wake-ups; a waiting claim acknowledges them.
        take(await claim(seconds));
      } catch (err) {
        if (!signal.aborted) throw err;
      }
    }
    // Tasks still running were told to stop through the signal; let them report.
    const grace = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
    await Promise.race([Promise.allSettled([...active.values()]), grace]);
    await driver.close?.().catch(() => undefined);
  } catch (err) {
    if (!signal.aborted) throw err;
  } finally {
    clearInterval(beat);
    await client.disconnect(project, worker, session).catch(() => undefined);
    log(`worker '${worker}' disconnected`);
  }
  if (fatal !== null) throw fatal;
}
