// Pipeline data: received events (mc_events), one event's trace (mc_event_trace), workers (mc_workers) and webhook
// sources (mc_webhooks). Activity rows of kind `pipeline` (their data carries event_id) refresh them live (live.ts).
import { useInfiniteQuery, useQuery, type QueryKey } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { rpc } from './api';
import type { ActivityRow, Task } from './types';

export type EventState = 'received' | 'dispatched' | 'completed' | 'failed' | 'skipped';

export interface PipelineEvent {
  id: string;
  source: string;
  event: string;
  action: string | null;
  delivery_id: string;
  state: EventState;
  summary: string;
  duplicates: number;
  received_at: string;
  updated_at: string;
  tasks: number;
  workers: string[];
  effects: number;
}

export interface TraceStep {
  id: number;
  at: string;
  step: string | null;
  outcome: string | null;
  summary: string;
  agent: string | null;
  task_id: string | null;
  data: Record<string, unknown>;
}

export interface TraceTask extends Task {
  worker: string | null;
  rule: number | null;
  stage: string;
  structured_result: Record<string, unknown> | null;
  usage: Record<string, unknown> | null;
  cost_usd: number;
  decision: Record<string, unknown> | null;
  error: string | null;
}

export interface TraceEffect {
  id: string;
  task_id: string;
  key: string;
  provider: string;
  kind: string;
  target: Record<string, unknown>;
  state: 'pending' | 'running' | 'done' | 'failed';
  attempts: number;
  response: unknown;
  error: string | null;
  created_at: string;
  done_at: string | null;
}

export interface EventTrace {
  event: Omit<PipelineEvent, 'tasks' | 'workers' | 'effects'> & {
    context: Record<string, unknown>;
    payload_bytes: number;
    payload: unknown;
  };
  tasks: TraceTask[];
  effects: TraceEffect[];
  steps: TraceStep[];
}

export type WorkerState = 'stopped' | 'capped' | 'offline' | 'busy' | 'online';

export interface WorkerSchedule {
  id: string;
  cron: string;
  timezone: string | null;
  next_run_at: string | null;
  last_run_at: string | null;
  last_outcome: string | null;
  runs_today: number;
  max_runs_per_day: number;
  consecutive_errors: number;
  paused: boolean;
  pause_reason: string | null;
}

export interface Worker {
  name: string;
  agent_id: string;
  driver: string | null;
  model: string | null;
  description: string | null;
  enabled: boolean;
  state: WorkerState;
  status: string;
  status_detail: string;
  last_seen_at: string | null;
  host: string | null;
  events: { source?: string; on?: string[] | string }[];
  limits: Record<string, unknown>;
  cost_today_usd: number;
  cost_cap_usd: number | null;
  tokens_today: { input: number; output: number };
  active_tasks: number;
  done_today: number;
  failed_today: number;
  schedules: WorkerSchedule[];
}

export interface WebhookSource {
  source: string;
  path: string;
  has_secret: boolean;
  has_token: boolean;
  api_url: string | null;
  updated_at: string | null;
}

/** mc_set_webhook_secret through the hub: a generated secret comes back once, with the full URL. */
export interface SecretSet extends WebhookSource {
  url: string;
  secret?: string;
}

export const SOURCES = ['github', 'gitlab', 'slack', 'telegram', 'generic', 'standard'] as const;
/** The sources a result can be written back to, with a token set by mc_set_source_token. */
export const WRITE_BACK_SOURCES: readonly string[] = ['github', 'gitlab', 'slack', 'telegram'];
export const EVENTS_PAGE = 50;

export const pipelineKeys = {
  events: (p: string) => ['events', p] as const,
  trace: (p: string, id: string) => ['trace', p, id] as const,
  traces: (p: string) => ['trace', p] as const,
  workers: (p: string) => ['workers', p] as const,
  webhooks: (p: string) => ['webhooks', p] as const,
};

export function useEvents(project: string) {
  return useInfiniteQuery({
    queryKey: pipelineKeys.events(project),
    queryFn: ({ pageParam }) =>
      rpc<PipelineEvent[]>('mc_events', {
        p_meshwork: project,
        p_limit: EVENTS_PAGE,
        p_before: pageParam ?? undefined,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) =>
      last.length < EVENTS_PAGE ? undefined : (last[last.length - 1]?.received_at ?? undefined),
  });
}

/** The pipeline caches an activity row changes, whether or not the Pipeline view is open. */
export function pipelineKeysFor(project: string, row: ActivityRow): QueryKey[] {
  switch (row.kind) {
    case 'pipeline': {
      const id = row.data.event_id;
      return [
        pipelineKeys.events(project),
        pipelineKeys.workers(project),
        ...(typeof id === 'string' ? [pipelineKeys.trace(project, id)] : []),
      ];
    }
    case 'agent':
    case 'task':
    case 'status':
      return [pipelineKeys.workers(project)];
    case 'settings':
      return [pipelineKeys.webhooks(project)];
    default:
      return [];
  }
}

/**
 * Whether the events list shows an event further along than its trace does: a later state change, or more tasks,
 * write-backs done or duplicates. Both come from the same rows, so a trace read after the list never is.
 */
export function traceBehind(trace: EventTrace, listed: PipelineEvent): boolean {
  const listedAt = Date.parse(listed.updated_at);
  const traceAt = Date.parse(trace.event.updated_at);
  return (
    listedAt > traceAt ||
    (listedAt === traceAt && listed.state !== trace.event.state) ||
    listed.tasks > trace.tasks.length ||
    listed.effects > trace.effects.filter((e) => e.state === 'done').length ||
    listed.duplicates > trace.event.duplicates
  );
}

/**
 * One event's trace. `listed` is the event as the events list shows it: when the list is further along (its read
 * came after the trace's), the trace is read again once its running read is over, once for each version of the list.
 */
export function useEventTrace(project: string, id: string | null, listed?: PipelineEvent) {
  const trace = useQuery({
    queryKey: pipelineKeys.trace(project, id ?? ''),
    queryFn: () => rpc<EventTrace>('mc_event_trace', { p_meshwork: project, p_event_id: id }),
    enabled: id !== null,
  });
  const { data, isFetching, refetch } = trace;
  const behind = data !== undefined && listed !== undefined && traceBehind(data, listed);
  const version = listed
    ? [listed.updated_at, listed.state, listed.tasks, listed.effects, listed.duplicates].join(' ')
    : null;
  const asked = useRef<string | null>(null);
  useEffect(() => {
    if (!behind || isFetching || asked.current === version) return;
    asked.current = version;
    void refetch();
  }, [behind, isFetching, version, refetch]);
  return trace;
}

/** Workers' state depends on presence and leases as time passes: refetched every 15 s besides the feed. */
export function useWorkers(project: string) {
  return useQuery({
    queryKey: pipelineKeys.workers(project),
    queryFn: () => rpc<Worker[]>('mc_workers', { p_meshwork: project }),
    refetchInterval: 15_000,
  });
}

export function useWebhooks(project: string, enabled: boolean) {
  return useQuery({
    queryKey: pipelineKeys.webhooks(project),
    queryFn: () => rpc<WebhookSource[]>('mc_webhooks', { p_meshwork: project }),
    enabled,
  });
}

export type StageId = 'received' | 'matched' | 'task' | 'result' | 'policy' | 'writeback';
export type StageState = 'done' | 'failed' | 'skipped' | 'denied' | 'waiting' | 'none';

export const STAGES: { id: StageId; label: string }[] = [
  { id: 'received', label: 'Received' },
  { id: 'matched', label: 'Matched' },
  { id: 'task', label: 'Task' },
  { id: 'result', label: 'Result' },
  { id: 'policy', label: 'Policy decision' },
  { id: 'writeback', label: 'Write-back' },
];

/** Which stage of received -> matched -> task -> result -> policy -> write-back a step belongs to. */
export function stageOf(step: string | null): StageId | null {
  if (!step) return null;
  if (step === 'event.received' || step === 'event.duplicate') return 'received';
  if (step === 'event.matched' || step === 'event.skipped') return 'matched';
  if (step === 'task.result' || step === 'task.dead_letter') return 'result';
  if (step.startsWith('task.') || step === 'event.hydrated') return 'task';
  if (step.startsWith('policy.')) return 'policy';
  if (step.startsWith('writeback.')) return 'writeback';
  return null;
}

export interface Stage {
  id: StageId;
  label: string;
  state: StageState;
  steps: TraceStep[];
  /** A count worth seeing at a glance ("1 task", "3 of 3 written"). */
  note: string;
  /** What happened there, in a sentence (who matched, what the policy let through, why it failed). */
  detail: string;
}

function detailOf(id: StageId, steps: TraceStep[]): string {
  const failed = steps.find((s) => s.outcome === 'fail');
  if (failed) return failed.summary;
  switch (id) {
    case 'matched': {
      const workers = [
        ...new Set(
          steps
            .filter((s) => s.step === 'event.matched')
            .map((s) => (typeof s.data.worker === 'string' ? s.data.worker : '')),
        ),
      ].filter(Boolean);
      if (workers.length > 0) return `by ${workers.join(', ')}`;
      return steps.find((s) => s.step === 'event.skipped')?.summary ?? '';
    }
    case 'policy':
      return (steps[steps.length - 1]?.summary ?? '').replace(/^policy:\s*/i, '');
    case 'task': {
      const retry = [...steps].reverse().find((s) => s.step === 'task.retry');
      return retry ? retry.summary : '';
    }
    default:
      return '';
  }
}

const FINAL: EventState[] = ['completed', 'failed', 'skipped'];

/** The six stages of an event with a state each, from its steps, tasks and write-backs. */
export function stagesOf(trace: EventTrace): Stage[] {
  const final = FINAL.includes(trace.event.state);
  const by = new Map<StageId, TraceStep[]>(STAGES.map((s) => [s.id, []]));
  for (const step of trace.steps) {
    const id = stageOf(step.step);
    if (id) by.get(id)?.push(step);
  }
  let blocked = false;
  return STAGES.map(({ id, label }) => {
    const steps = by.get(id) ?? [];
    const outcomes = new Set(steps.map((s) => s.outcome ?? ''));
    const matchedAny = id === 'matched' && steps.some((s) => s.step === 'event.matched');
    let state: StageState;
    if (id === 'matched' && steps.length > 0) state = matchedAny ? 'done' : 'skipped';
    else if (id === 'writeback' && trace.effects.length === 0 && by.get('policy')?.length) state = 'skipped';
    else if (id === 'result' && steps.some((s) => s.step === 'task.dead_letter')) state = 'failed';
    else if (outcomes.has('fail')) state = 'failed';
    else if (outcomes.has('deny')) state = 'denied';
    else if (steps.length > 0)
      state =
        id === 'writeback' && trace.effects.some((e) => e.state !== 'done' && e.state !== 'failed')
          ? 'waiting'
          : 'done';
    else state = blocked || final ? 'none' : 'waiting';
    if (state === 'skipped' || state === 'failed' || (state === 'waiting' && steps.length === 0)) blocked = true;
    const note =
      id === 'writeback'
        ? trace.effects.length === 0
          ? state === 'skipped'
            ? 'nothing to write back'
            : ''
          : `${trace.effects.filter((e) => e.state === 'done').length} of ${trace.effects.length} written`
        : id === 'task'
          ? trace.tasks.length > 0
            ? `${trace.tasks.length} ${trace.tasks.length === 1 ? 'task' : 'tasks'}`
            : ''
          : '';
    return { id, label, state, steps, note, detail: detailOf(id, steps) };
  });
}

export function usd(n: number | null | undefined): string {
  const v = n ?? 0;
  return `$${v.toFixed(v !== 0 && v < 0.01 ? 4 : 2)}`;
}
