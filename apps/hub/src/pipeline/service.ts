// The pipeline loop every hub runs: re-dispatch workers' tasks whose lease expired (or dead-letter them), mark dead the
// board tasks whose last attempt's lease ran out, fire due cron schedules, hydrate PR diffs, pass finished results
// through the worker's policy, and send the write-backs. Every step is one SQL statement that leases its rows, so any
// number of hubs can run the loop on one database; a hub that dies mid-step leaves leases that expire and another hub
// (or itself, restarted) picks the work up.
import { Cron } from 'croner';
import { LRUCache } from 'lru-cache';
import type { HookTarget } from '../hooks/intake';
import type { Db } from '@meshcode/db';
import {
  backoffDelay,
  decideRetry,
  parseWorkerOutput,
  redact,
  renderPrompt,
  workerResultSchema,
  type WorkerResult,
} from '@meshcode/worker/core';
import { planEffects } from './effects';
import { loadPipelineEnv } from './env';
import { MasterKeys } from './master-key';
import { parsedDefinition, RENDER_OPTIONS, type HoldSpec } from './match';
import type { Provider, Subject } from './normalize';
import { applyPolicy, DENY_ALL, describeDecision } from './policy';
import { GITHUB_API_URL, githubClient } from './providers/github';
import { GITLAB_API_URL, gitlabClient } from './providers/gitlab';
import { SLACK_API_URL, slackClient } from './providers/slack';
import { TELEGRAM_API_URL, telegramClient } from './providers/telegram';
import type { DueEffect, ProviderClient, ProviderOptions } from './providers/types';
import type { RawNotes } from '../bus/notes';

export interface PipelineOptions {
  /** MESHCODE_HOME: where master.key is kept when no masterKey is given. */
  home?: string;
  /** MESHCODE_MASTER_KEY. */
  masterKey?: string;
  /** How often the loop runs when nothing pokes it (default 1 s). */
  intervalMs?: number;
  /** Backoff base for tasks whose lease expired (default 30 s). */
  retryBaseMs?: number;
  /** Backoff base for failed write-backs (default 5 s) and how many tries they get (default 5). */
  writebackBaseMs?: number;
  writebackAttempts?: number;
  /** Tries for PR hydration before the prompt is rendered without the diff (default 3). */
  hydrateAttempts?: number;
  /** API base URLs used when a source has no api_url of its own. */
  apiUrls?: Partial<Record<Provider, string>>;
  fetch?: typeof fetch;
  now?: () => number;
  /** Do not run the loop (intake still works). */
  paused?: boolean;
}

/** The hub's sleeping waiting claims (Waiters): a delivery may claim tasks for them in its own transaction. */
export interface ClaimHandoff {
  takersOf(agentIds: Iterable<string>): string[];
  hand(agentId: string, claim: unknown): boolean;
}

export interface PipelineDeps {
  db: Db;
  /** What a transaction noted, published after its commit (the hub's Signals). */
  publish(notes: RawNotes): void;
  log(line: string): void;
  claims?: ClaimHandoff;
}

interface ExpiredRow {
  task_id: string;
  attempts: number;
  max_attempts: number;
  worker: string;
}

interface HydrateRow {
  task_id: string;
  hydrate: (HoldSpec & { base: Record<string, unknown> }) | null;
  context: Subject;
  attempts: number;
  payload: Record<string, unknown> | null;
  provider: { token?: string; api_url?: string } | null;
}

interface ResultRow {
  task_id: string;
  stage: string;
  status: string;
  task_result: string | null;
  result: unknown;
  context: Subject;
  worker: string | null;
  definition: unknown;
  source: string | null;
}

interface EffectRow extends DueEffect {
  settings: { token?: string; api_url?: string } | null;
}

interface ScheduleRow {
  id: string;
  worker: string;
  cron: string;
  timezone: string | null;
  prompt: string;
  next_run_at: string | null;
}

const BATCH = 20;

export function nextCronRun(cron: string, timezone: string | null | undefined, after: Date): Date | null {
  const job = new Cron(cron, { paused: true, ...(timezone ? { timezone } : {}) });
  try {
    return job.nextRun(after);
  } finally {
    job.stop();
  }
}

/** Each write-back provider's client, and its public API when neither the project nor the environment names one. */
const PROVIDERS: Record<Provider, { client: (opts: ProviderOptions) => ProviderClient; apiUrl: string }> = {
  github: { client: githubClient, apiUrl: GITHUB_API_URL },
  gitlab: { client: gitlabClient, apiUrl: GITLAB_API_URL },
  slack: { client: slackClient, apiUrl: SLACK_API_URL },
  telegram: { client: telegramClient, apiUrl: TELEGRAM_API_URL },
};

export class Pipeline {
  readonly keys: MasterKeys;
  /** Webhook targets (secret, workers) by project and source, as of the last delivery; see receiveDelivery. */
  readonly hookTargets = new LRUCache<string, HookTarget>({ max: 1_000 });
  readonly now: () => number;
  readonly fetch: typeof fetch;
  private readonly intervalMs: number;
  private readonly apiUrls: Record<Provider, string>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private readonly pending = new Set<'all' | 'results' | 'hydration'>();
  private stopped = false;

  constructor(
    readonly deps: PipelineDeps,
    private readonly opts: PipelineOptions = {},
  ) {
    const env = opts.home === undefined || opts.intervalMs === undefined ? loadPipelineEnv() : undefined;
    this.keys = new MasterKeys({
      home: opts.home ?? env?.home ?? '.',
      masterKey: opts.masterKey ?? (opts.home === undefined ? env?.masterKey : undefined),
    });
    this.intervalMs = opts.intervalMs ?? env?.intervalMs ?? 1_000;
    const providers = Object.keys(PROVIDERS) as Provider[];
    this.apiUrls = Object.fromEntries(
      providers.map((p) => [p, opts.apiUrls?.[p] ?? env?.apiUrls[p] ?? PROVIDERS[p].apiUrl]),
    ) as Record<Provider, string>;
    this.now = opts.now ?? Date.now;
    this.fetch = opts.fetch ?? fetch;
  }

  start(): void {
    if (this.opts.paused || this.timer) return;
    this.timer = setInterval(() => this.poke(), this.intervalMs);
    this.timer.unref();
    this.poke();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * Run steps now instead of at the next interval: `results` (a result or a finished task arrived: policy and
   * write-back), `hydration` (a task waits for its PR diff), or everything. Coalesces with a run in progress.
   */
  poke(what: 'all' | 'results' | 'hydration' = 'all'): void {
    if (this.stopped || this.opts.paused) return;
    this.pending.add(what);
    if (this.running) return;
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.pending.size > 0 && !this.stopped) {
        const wanted = new Set(this.pending);
        this.pending.clear();
        await this.tick(wanted.has('all') ? undefined : wanted);
      }
    } finally {
      this.running = null;
    }
  }

  /** One pass over the steps (all of them, or those a poke asked for); a failing step is logged, the others run. */
  async tick(only?: Set<'all' | 'results' | 'hydration'>): Promise<void> {
    const steps: [string, 'all' | 'results' | 'hydration', () => Promise<void>][] = [
      ['lease recovery', 'all', () => this.recoverLeases()],
      ['board dead letters', 'all', () => this.deadLetterBoard()],
      ['schedules', 'all', () => this.fireSchedules()],
      ['hydration', 'hydration', () => this.hydrate()],
      ['policy', 'results', () => this.decide()],
      ['write-back', 'results', () => this.writeBack()],
    ];
    for (const [name, group, step] of steps) {
      if (this.stopped) return;
      if (only && !only.has(group)) continue;
      try {
        await step();
      } catch (err) {
        if (this.stopped) return;
        this.deps.log(`pipeline: the ${name} step failed: ${redact(err instanceof Error ? err.message : String(err))}`);
      }
    }
  }

  /** One hub-side SQL function call (one statement); publishes what it noted for after the commit. */
  async call<T>(sql: string, params: unknown[]): Promise<T> {
    const res = await this.deps.db.query<{ r: T }>(sql, params);
    const r = res.rows[0]?.r as T;
    if (r && typeof r === 'object' && !Array.isArray(r)) this.deps.publish(r as RawNotes);
    return r;
  }

  providerClient(provider: Provider, settings: { token?: string; api_url?: string } | null): ProviderClient | string {
    let token: string | undefined;
    if (settings?.token) {
      token = this.keys.decrypt(settings.token, `${provider}:token`);
      if (token === undefined) {
        return `The ${provider} write-back token cannot be decrypted with this hub's master key; set it again (mc_set_source_token).`;
      }
    }
    const baseUrl = settings?.api_url ?? this.apiUrls[provider];
    return PROVIDERS[provider].client({ baseUrl, token, fetch: this.fetch });
  }

  private async recoverLeases(): Promise<void> {
    const expired = await this.call<ExpiredRow[]>('select mesh.pipeline_expired($1) as r', [BATCH]);
    for (const row of expired) {
      const error = `the worker ${row.worker} lost its lease on attempt ${row.attempts} (it stopped, crashed or hung past the task timeout)`;
      const decision = decideRetry(
        { transient: true, error },
        row.attempts,
        { maxAttempts: row.max_attempts, baseDelayMs: this.opts.retryBaseMs ?? 30_000, maxDelayMs: 10 * 60_000 },
        this.now(),
      );
      const retryAt = decision.action === 'retry' ? new Date(decision.retryAt).toISOString() : null;
      await this.call('select mesh.pipeline_requeue($1, $2, $3, $4) as r', [row.task_id, row.attempts, retryAt, error]);
    }
  }

  /** Board tasks (held by agents that are not workers) whose last attempt's lease ran out are marked dead. */
  private async deadLetterBoard(): Promise<void> {
    await this.call('select mesh.pipeline_board_dead($1) as r', [BATCH]);
  }

  private async fireSchedules(): Promise<void> {
    const due = await this.call<ScheduleRow[]>('select mesh.schedules_due($1) as r', [BATCH]);
    const now = new Date(this.now());
    for (const s of due) {
      let next: Date | null;
      try {
        next = nextCronRun(s.cron, s.timezone, now);
      } catch (err) {
        this.deps.log(
          `pipeline: schedule ${s.id} of ${s.worker} has a bad cron "${s.cron}": ${(err as Error).message}`,
        );
        continue;
      }
      if (s.next_run_at === null) {
        await this.call('select mesh.schedule_next($1, null, $2) as r', [s.id, next?.toISOString() ?? null]);
        continue;
      }
      const rendered = renderPrompt(
        s.prompt,
        {
          schedule: { cron: s.cron, timezone: s.timezone, due_at: s.next_run_at, worker: s.worker },
          now: now.toISOString(),
        },
        RENDER_OPTIONS,
      );
      await this.call('select mesh.schedule_fire($1, $2, $3, $4) as r', [
        s.id,
        s.next_run_at,
        next?.toISOString() ?? null,
        rendered.ok ? rendered.prompt : s.prompt,
      ]);
    }
  }

  private async hydrate(): Promise<void> {
    const due = await this.call<HydrateRow[]>('select mesh.pipeline_hydrating($1, $2) as r', [BATCH, 30]);
    for (const row of due) {
      const hold = row.hydrate;
      if (!hold) continue;
      const client = this.providerClient(hold.provider, row.provider);
      let extra: { diff: string; files: string };
      let note: string;
      let ok = true;
      if (typeof client === 'string') {
        extra = { diff: `(unavailable: ${client})`, files: '(unavailable)' };
        note = `hydration skipped: ${client}`;
        ok = false;
      } else {
        const got = await client.hydrate(row.context);
        if (!got.ok && got.transient && row.attempts < (this.opts.hydrateAttempts ?? 3)) continue;
        if (got.ok) {
          extra = { diff: got.value.diff, files: got.value.files };
          const count = got.value.files ? got.value.files.split('\n').length : 0;
          note = `pull request hydrated: ${count} file(s), ${got.value.diff.length} characters of diff${got.value.truncated ? ' (capped)' : ''}`;
        } else {
          extra = { diff: `(unavailable: ${got.error})`, files: '(unavailable)' };
          note = `hydration failed, prompt rendered without the diff: ${got.error}`;
          ok = false;
        }
      }
      const rendered = renderPrompt(
        hold.template,
        { ...hold.base, event: row.payload ?? {}, ...extra },
        RENDER_OPTIONS,
      );
      const prompt = rendered.ok ? rendered.prompt : hold.template;
      await this.call('select mesh.pipeline_hydrated($1, $2, $3, $4) as r', [
        row.task_id,
        prompt,
        note.slice(0, 400),
        ok,
      ]);
    }
  }

  private async decide(): Promise<void> {
    const rows = await this.call<ResultRow[]>('select mesh.pipeline_results($1) as r', [BATCH]);
    for (const row of rows) {
      if (row.stage !== 'result' && row.status !== 'done') {
        const stage = row.status === 'cancelled' ? 'cancelled' : row.status === 'dead' ? 'dead' : 'failed';
        await this.call('select mesh.pipeline_decide($1, $2, $3, $4, $5) as r', [row.task_id, stage, '{}', '[]', null]);
        continue;
      }
      const structured = workerResultSchema.safeParse(row.result);
      const result: WorkerResult = structured.success ? structured.data : parseWorkerOutput(row.task_result ?? '');
      const parsed = row.definition === null ? undefined : parsedDefinition(row.definition);
      const policy = parsed?.ok ? parsed.worker.policy : DENY_ALL;
      const { result: filtered, decision } = applyPolicy(result, policy, { worker: row.worker ?? 'worker' });
      if (parsed && !parsed.ok) Object.assign(decision, { invalid_definition: parsed.error });
      const effects = planEffects(row.task_id, row.context ?? {}, row.source, filtered, decision);
      // The stored result is the filtered one: what the policy denied (metadata, say) does not linger in the trace.
      await this.call('select mesh.pipeline_decide($1, $2, $3, $4, $5, $6) as r', [
        row.task_id,
        'result',
        JSON.stringify(decision),
        JSON.stringify(effects),
        describeDecision(decision).slice(0, 480),
        JSON.stringify(filtered),
      ]);
    }
  }

  private async writeBack(): Promise<void> {
    const due = await this.call<EffectRow[]>('select mesh.effects_due($1, $2) as r', [BATCH, 60]);
    for (const effect of due) {
      const client = this.providerClient(effect.provider, effect.settings);
      const outcome =
        typeof client === 'string'
          ? { ok: false as const, transient: false, error: client }
          : await client.perform(effect);
      if (outcome.ok) {
        await this.call('select mesh.effect_finish($1, $2, true, $3, null, null) as r', [
          effect.id,
          effect.attempts,
          JSON.stringify(outcome.response),
        ]);
        continue;
      }
      let retryAt: string | null = null;
      if (outcome.transient && effect.attempts < (this.opts.writebackAttempts ?? 5)) {
        const base = this.opts.writebackBaseMs ?? 5_000;
        const delay = Math.max(
          backoffDelay(effect.attempts, { maxAttempts: 5, baseDelayMs: base, maxDelayMs: 5 * 60_000 }),
          Math.min(outcome.retryAfterMs ?? 0, 60 * 60_000),
        );
        retryAt = new Date(this.now() + delay).toISOString();
      }
      await this.call('select mesh.effect_finish($1, $2, false, null, $3, $4) as r', [
        effect.id,
        effect.attempts,
        redact(outcome.error),
        retryAt,
      ]);
    }
  }
}
