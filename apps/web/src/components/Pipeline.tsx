'use client';
// External events on the mesh: every received webhook or cron tick with its state, one event's whole trace
// (received -> matched -> task -> result -> policy decision -> write-back), the workers with their state and cost
// today, and the webhook sources. Live through the project's feed (live.ts refreshes them from its activity rows).
import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { useMemo, useState } from 'react';
import { rpc } from '../lib/api';
import { ago, clock, dateTime, truncate } from '../lib/format';
import { projectHref, useNow } from '../lib/hooks';
import {
  SOURCES,
  WRITE_BACK_SOURCES,
  pipelineKeys,
  stagesOf,
  usd,
  useEventTrace,
  useEvents,
  useWebhooks,
  useWorkers,
  type EventTrace,
  type PipelineEvent,
  type SecretSet,
  type Stage,
  type TraceEffect,
  type TraceTask,
  type Worker,
} from '../lib/pipeline';
import { useProjects } from '../lib/queries';
import { Command, Empty, ErrorState, InlineError, Loading } from './States';
import './team.css';
import './pipeline.css';

function eventLabel(e: { event: string; action: string | null }): string {
  return e.action ? `${e.event}.${e.action}` : e.event;
}

function StatePill({ state, label }: { state: string; label?: string }) {
  return (
    <span className={`tpill tpill-${state}`} data-state={state}>
      {label ?? state}
    </span>
  );
}

function EventItem({
  project,
  e,
  selected,
  now,
}: {
  project: string;
  e: PipelineEvent;
  selected: boolean;
  now: number;
}) {
  return (
    <li>
      <Link
        href={projectHref(project, 'pipeline', { event: e.id })}
        className={`event-item${selected ? ' event-selected' : ''}`}
        aria-current={selected ? 'true' : undefined}
        aria-label={`${e.source} ${eventLabel(e)}, ${e.state}, ${e.summary ? truncate(e.summary, 80) : 'no summary'}, received ${ago(e.received_at, now)}`}
        scroll={false}
      >
        <span className="event-line">
          <span className="tag">{e.source}</span>
          <strong className="event-name">{eventLabel(e)}</strong>
          <StatePill state={e.state} />
        </span>
        {e.summary && <span className="event-summary small">{truncate(e.summary, 120)}</span>}
        <span className="event-meta small muted">
          <time dateTime={e.received_at} title={dateTime(e.received_at)}>
            {ago(e.received_at, now)}
          </time>
          <span>
            {e.tasks} {e.tasks === 1 ? 'task' : 'tasks'}
            {e.workers.length > 0 ? ` · ${e.workers.join(', ')}` : ''}
          </span>
          {e.effects > 0 && <span>{e.effects} written back</span>}
          {e.duplicates > 0 && (
            <span>
              {e.duplicates} duplicate {e.duplicates === 1 ? 'delivery' : 'deliveries'} ignored
            </span>
          )}
        </span>
      </Link>
    </li>
  );
}

const STAGE_TEXT: Record<Stage['state'], string> = {
  done: 'done',
  failed: 'failed',
  skipped: 'skipped',
  denied: 'applied, some actions denied',
  waiting: 'in progress',
  none: 'not reached',
};

function Stages({ stages }: { stages: Stage[] }) {
  return (
    <ol className="stages" aria-label="Pipeline stages">
      {stages.map((s, i) => (
        <li
          key={s.id}
          className={`stage stage-${s.state}`}
          data-stage={s.id}
          data-state={s.state}
          aria-label={`${i + 1}. ${s.label}: ${STAGE_TEXT[s.state]}${s.note ? ` (${s.note})` : ''}`}
        >
          <span className="stage-mark" aria-hidden="true">
            {s.state === 'done'
              ? '✓'
              : s.state === 'failed'
                ? '✕'
                : s.state === 'denied'
                  ? '!'
                  : s.state === 'skipped'
                    ? '–'
                    : i + 1}
          </span>
          <span className="stage-text">
            <strong>{s.label}</strong>
            <span className="small">{STAGE_TEXT[s.state]}</span>
            {s.note && <span className="small muted">{s.note}</span>}
            {s.detail && (
              <span className="stage-detail small muted" title={s.detail}>
                {truncate(s.detail, 200)}
              </span>
            )}
          </span>
        </li>
      ))}
    </ol>
  );
}

function Json({ value, label }: { value: unknown; label: string }) {
  if (value === null || value === undefined) return null;
  return (
    <details className="json">
      <summary>{label}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

function TaskCard({ t }: { t: TraceTask }) {
  return (
    <li className="card trace-card" aria-label={`Task ${t.title}`}>
      <div className="trace-card-head">
        <strong>{t.title}</strong>
        <StatePill state={t.status} />
        <span className="small muted">stage {t.stage}</span>
      </div>
      <p className="small muted trace-card-meta">
        {t.worker ? `worker ${t.worker}` : 'on the board'}
        {t.rule !== null ? ` · rule ${t.rule}` : ''} · attempt {t.attempts} of {t.max_attempts}
        {t.cost_usd > 0 ? ` · ${usd(t.cost_usd)}` : ''}
      </p>
      {t.result && <pre className="trace-result">{truncate(t.result, 1500)}</pre>}
      {t.error && <p className="inline-error">{t.error}</p>}
      <Json value={t.decision} label="Policy decision" />
      <Json value={t.structured_result} label="Structured result" />
    </li>
  );
}

function EffectRow({ ef }: { ef: TraceEffect }) {
  const target = ef.target;
  const where = [target.repo, target.number !== undefined ? `#${String(target.number)}` : null, target.sha]
    .filter((x) => typeof x === 'string' || typeof x === 'number')
    .join(' ');
  return (
    <li className="effect" aria-label={`${ef.provider} ${ef.kind}, ${ef.state}`}>
      <StatePill state={ef.state} />
      <strong>
        {ef.provider} {ef.kind}
      </strong>
      {where && <span className="small muted">{truncate(where, 80)}</span>}
      <span className="small muted">
        {ef.attempts} {ef.attempts === 1 ? 'attempt' : 'attempts'}
      </span>
      {ef.error && <span className="small inline-error">{truncate(ef.error, 200)}</span>}
    </li>
  );
}

function Trace({ project, id, listed }: { project: string; id: string; listed: PipelineEvent | undefined }) {
  const trace = useEventTrace(project, id, listed);
  const stages = useMemo(() => (trace.data ? stagesOf(trace.data) : []), [trace.data]);
  if (trace.isPending) return <Loading label="Loading the trace…" />;
  if (trace.error) return <ErrorState error={trace.error} retry={() => void trace.refetch()} />;
  const t: EventTrace = trace.data;
  const e = t.event;
  return (
    <div className="trace">
      <div className="trace-head">
        <h3 id="trace-title">
          {e.source} {eventLabel(e)}
        </h3>
        <StatePill state={e.state} />
        <span className="small muted" title={dateTime(e.received_at)}>
          received {clock(e.received_at)}
        </span>
      </div>
      {e.summary && <p className="trace-summary">{e.summary}</p>}
      <p className="small muted trace-ids">
        delivery <code>{e.delivery_id}</code> · {e.payload_bytes.toLocaleString()} bytes
        {e.duplicates > 0
          ? ` · ${e.duplicates} duplicate ${e.duplicates === 1 ? 'delivery' : 'deliveries'} ignored`
          : ''}
      </p>
      <Stages stages={stages} />
      {t.tasks.length > 0 && (
        <section aria-labelledby="trace-tasks">
          <h4 id="trace-tasks">Tasks</h4>
          <ul className="trace-list">
            {t.tasks.map((task) => (
              <TaskCard key={task.id} t={task} />
            ))}
          </ul>
        </section>
      )}
      {t.effects.length > 0 && (
        <section aria-labelledby="trace-effects">
          <h4 id="trace-effects">Write-backs</h4>
          <ul className="effects">
            {t.effects.map((ef) => (
              <EffectRow key={ef.id} ef={ef} />
            ))}
          </ul>
        </section>
      )}
      <section aria-labelledby="trace-steps">
        <h4 id="trace-steps">Every step</h4>
        {t.steps.length === 0 ? (
          <p className="small muted">No step recorded yet.</p>
        ) : (
          <ol className="steps-log" aria-label="Every step of this event">
            {t.steps.map((s) => (
              <li key={s.id} className="log-step">
                <time className="small muted" dateTime={s.at} title={dateTime(s.at)}>
                  {clock(s.at)}
                </time>
                <code className="log-name">{s.step}</code>
                <span className={`outcome outcome-${s.outcome ?? 'none'}`}>{s.outcome}</span>
                <span className="log-summary">{s.summary}</span>
              </li>
            ))}
          </ol>
        )}
      </section>
      <Json value={e.context} label="Event context" />
      <Json value={e.payload} label="Payload" />
    </div>
  );
}

function Events({ project, selected }: { project: string; selected: string | null }) {
  const events = useEvents(project);
  const now = useNow(10_000);
  const list = useMemo(() => events.data?.pages.flat() ?? [], [events.data]);
  const current = selected ?? list[0]?.id ?? null;
  return (
    <div className="pipeline-events">
      <section className="card events-panel" aria-labelledby="events-title">
        <h3 id="events-title">Events</h3>
        {events.isPending ? (
          <Loading label="Loading events…" />
        ) : events.error ? (
          <ErrorState error={events.error} retry={() => void events.refetch()} />
        ) : list.length === 0 ? (
          <Empty title="No events yet">
            <p>Webhook deliveries and cron ticks show up here as they arrive, each with its whole trace.</p>
          </Empty>
        ) : (
          <>
            <ul className="event-list" aria-label="Received events">
              {list.map((e) => (
                <EventItem key={e.id} project={project} e={e} selected={e.id === current} now={now} />
              ))}
            </ul>
            {events.hasNextPage && (
              <button
                type="button"
                className="btn btn-small"
                disabled={events.isFetchingNextPage}
                onClick={() => void events.fetchNextPage()}
              >
                {events.isFetchingNextPage ? 'Loading older events…' : 'Load older events'}
              </button>
            )}
          </>
        )}
      </section>
      <section className="card trace-panel" aria-labelledby={current ? 'trace-title' : 'trace-empty-title'}>
        {current ? (
          <Trace key={current} project={project} id={current} listed={list.find((e) => e.id === current)} />
        ) : (
          <>
            <h3 id="trace-empty-title">Trace</h3>
            <p className="small muted">Pick an event to see how it went through the pipeline.</p>
          </>
        )}
      </section>
    </div>
  );
}

const WORKER_STATE_TEXT: Record<Worker['state'], string> = {
  online: 'online',
  busy: 'busy',
  offline: 'offline',
  stopped: 'stopped',
  capped: 'cost cap reached',
};

function WorkerCard({ project, w, now }: { project: string; w: Worker; now: number }) {
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const rules = w.events
    .map((r) => `${r.source ?? '?'}: ${Array.isArray(r.on) ? r.on.join(', ') : (r.on ?? '')}`)
    .filter((s) => s.trim() !== '');
  const capShare = w.cost_cap_usd ? Math.min(100, (w.cost_today_usd / w.cost_cap_usd) * 100) : null;
  return (
    <li
      className={`card worker-card worker-${w.state}`}
      data-worker={w.name}
      aria-label={`${w.name}, ${WORKER_STATE_TEXT[w.state]}, ${usd(w.cost_today_usd)} today`}
    >
      <div className="agent-head">
        <span className="agent-name">{w.name}</span>
        <StatePill state={w.state} label={WORKER_STATE_TEXT[w.state]} />
      </div>
      <p className="small muted worker-meta">
        {[w.driver, w.model, w.host].filter(Boolean).join(' · ')}
        {w.status_detail ? ` · ${truncate(w.status_detail, 80)}` : ''}
      </p>
      {w.description && <p className="small worker-desc">{w.description}</p>}
      <dl className="worker-stats">
        <div>
          <dt>Cost today</dt>
          <dd>
            {usd(w.cost_today_usd)}
            {w.cost_cap_usd !== null && <span className="muted"> of {usd(w.cost_cap_usd)}</span>}
          </dd>
        </div>
        <div>
          <dt>Tokens today</dt>
          <dd>{(w.tokens_today.input + w.tokens_today.output).toLocaleString()}</dd>
        </div>
        <div>
          <dt>Active</dt>
          <dd>{w.active_tasks}</dd>
        </div>
        <div>
          <dt>Done today</dt>
          <dd>{w.done_today}</dd>
        </div>
        <div>
          <dt>Failed today</dt>
          <dd className={w.failed_today > 0 ? 'bad' : undefined}>{w.failed_today}</dd>
        </div>
      </dl>
      {capShare !== null && (
        <progress max={100} value={capShare} aria-label={`${w.name}: share of today's cost cap used`}>
          {Math.round(capShare)}%
        </progress>
      )}
      {rules.length > 0 && (
        <p className="small worker-rules">
          <span className="muted">Listens to </span>
          {rules.join('; ')}
        </p>
      )}
      {w.schedules.length > 0 && (
        <ul className="worker-schedules small">
          {w.schedules.map((s) => (
            <li key={s.id}>
              <code>{s.cron}</code> {s.paused ? <StatePill state="failed" label="paused" /> : null}{' '}
              <span className="muted">
                {s.paused
                  ? (s.pause_reason ?? '')
                  : s.next_run_at
                    ? `next ${dateTime(s.next_run_at)}`
                    : 'next run not planned yet'}{' '}
                · {s.runs_today}/{s.max_runs_per_day} runs today
              </span>
            </li>
          ))}
        </ul>
      )}
      <p className="small muted">Last seen {ago(w.last_seen_at, now)}</p>
      <div className="worker-actions">
        <button
          type="button"
          className="btn btn-small"
          disabled={busy}
          aria-label={w.enabled ? `Stop ${w.name}` : `Start ${w.name}`}
          onClick={() => {
            setBusy(true);
            setError(null);
            rpc('mc_worker_set', { p_meshwork: project, p_name: w.name, p_enabled: !w.enabled })
              .then(() => qc.invalidateQueries({ queryKey: pipelineKeys.workers(project) }))
              .catch(setError)
              .finally(() => setBusy(false));
          }}
        >
          {w.enabled ? 'Stop' : 'Start'}
        </button>
        {w.state === 'offline' && w.enabled && (
          <Command
            text={`meshcode worker start ${w.name}`}
            label={`Copy the command that starts ${w.name} on its machine`}
          />
        )}
      </div>
      <InlineError error={error} />
    </li>
  );
}

function Workers({ project }: { project: string }) {
  const workers = useWorkers(project);
  const now = useNow(10_000);
  return (
    <section aria-labelledby="workers-title" className="workers">
      <h3 id="workers-title">Workers</h3>
      {workers.isPending ? (
        <Loading label="Loading workers…" />
      ) : workers.error ? (
        <ErrorState error={workers.error} retry={() => void workers.refetch()} />
      ) : workers.data.length === 0 ? (
        <Empty title="No workers yet">
          <p>A worker turns matching events into tasks and runs them (a local CLI, Docker, or a model endpoint):</p>
          <Command text="meshcode worker add reviewer.yml" />
        </Empty>
      ) : (
        <ul className="agent-grid" aria-label="Workers">
          {workers.data.map((w) => (
            <WorkerCard key={w.agent_id} project={project} w={w} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}

const SIGNATURE_HELP: Record<string, string> = {
  github: 'GitHub: paste the URL and secret in the repository’s Settings → Webhooks (content type application/json).',
  gitlab: 'GitLab: paste the URL and the secret as the Secret token of the project’s webhook.',
  slack: 'Slack: paste your app’s Signing Secret above (Slack makes it; a generated one cannot work).',
  telegram: 'Telegram: pass the secret as secret_token to setWebhook.',
  generic: 'Generic: sign the raw body as X-Meshcode-Signature: sha256=<hex HMAC>, with X-Meshcode-Delivery set.',
  standard: 'Standard Webhooks: the sender signs with this whsec_ secret.',
};

function Webhooks({ project }: { project: string }) {
  const qc = useQueryClient();
  const hooks = useWebhooks(project, true);
  const [source, setSource] = useState<string>('github');
  const [secret, setSecret] = useState('');
  const [made, setMade] = useState<SecretSet | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const origin = typeof window === 'undefined' ? '' : window.location.origin;
  const existing = hooks.data?.find((h) => h.source === source);
  return (
    <section aria-labelledby="webhooks-title" className="card webhooks">
      <h3 id="webhooks-title">Webhook sources</h3>
      {hooks.isPending ? (
        <Loading label="Loading webhook sources…" />
      ) : hooks.error ? (
        <ErrorState error={hooks.error} retry={() => void hooks.refetch()} />
      ) : hooks.data.length === 0 ? (
        <p className="small muted">No source has a secret yet: deliveries are refused until one does.</p>
      ) : (
        <ul className="hook-list" aria-label="Webhook sources">
          {hooks.data.map((h) => (
            <li key={h.source} className="hook" data-source={h.source}>
              <strong>{h.source}</strong>
              <StatePill state={h.has_secret ? 'done' : 'failed'} label={h.has_secret ? 'secret set' : 'no secret'} />
              {WRITE_BACK_SOURCES.includes(h.source) && (
                <StatePill
                  state={h.has_token ? 'done' : 'skipped'}
                  label={h.has_token ? 'write-back token set' : 'no write-back token'}
                />
              )}
              <code className="hook-url">{`${origin}${h.path}`}</code>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form hook-form"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          rpc<SecretSet>('mc_set_webhook_secret', {
            p_meshwork: project,
            p_source: source,
            p_secret: secret.trim() || undefined,
          })
            .then(async (r) => {
              setMade(r);
              setSecret('');
              await qc.invalidateQueries({ queryKey: pipelineKeys.webhooks(project) });
            })
            .catch(setError)
            .finally(() => setBusy(false));
        }}
      >
        <label htmlFor="hook-source">Source</label>
        <select id="hook-source" value={source} onChange={(e) => setSource(e.target.value)}>
          {SOURCES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <label htmlFor="hook-secret">Secret</label>
        <input
          id="hook-secret"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          placeholder="empty: generate one"
        />
        <button type="submit" className="btn" disabled={busy || (source === 'slack' && secret.trim() === '')}>
          {existing?.has_secret ? 'Replace the secret' : 'Set the secret'}
        </button>
        <InlineError error={error} />
      </form>
      {made && (
        <div className="created-box" role="status" aria-label={`Webhook secret for ${made.source}`}>
          <p className="small">
            <strong>{made.source}</strong> deliveries are accepted at this URL when signed with{' '}
            {made.secret ? 'this secret (shown only now)' : 'the secret you entered'}; a previous secret stopped
            working:
          </p>
          <Command text={made.url} label={`Copy the ${made.source} webhook URL`} />
          {made.secret && (
            <div className="command">
              <code data-testid="webhook-secret">{made.secret}</code>
              <button
                type="button"
                className="btn btn-small"
                aria-label={`Copy the ${made.source} webhook secret`}
                onClick={() => void navigator.clipboard?.writeText(made.secret ?? '').catch(() => undefined)}
              >
                Copy
              </button>
            </div>
          )}
          <p className="small muted">{SIGNATURE_HELP[made.source] ?? ''}</p>
          <button type="button" className="btn btn-small" onClick={() => setMade(null)}>
            Done, hide the secret
          </button>
        </div>
      )}
    </section>
  );
}

export function PipelineView({ project }: { project: string }) {
  const params = useSearchParams();
  const selected = params.get('event');
  const projects = useProjects();
  const role = projects.data?.find((p) => p.name === project)?.role;

  return (
    <section aria-labelledby="pipeline-title" className="pipeline">
      <div className="view-head">
        <h2 id="pipeline-title">Pipeline</h2>
        <p className="small muted">
          Webhooks and cron ticks become tasks for workers; results go back out under each worker’s policy.
        </p>
      </div>
      <Events project={project} selected={selected} />
      <Workers project={project} />
      {role === 'owner' && <Webhooks project={project} />}
    </section>
  );
}
