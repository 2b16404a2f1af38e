'use client';
// The team at a glance: live presence, role, editor, current task, last activity; offline agents offer the exact
// command that brings them back.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { rpc } from '../lib/api';
import { ago, presence, truncate } from '../lib/format';
import { useNow } from '../lib/hooks';
import { useActivityListener } from '../lib/live';
import { keys } from '../lib/queries';
import { PRESENCE, type ActivityRow, type BoardAgent, type Presence, type StatusBoard } from '../lib/types';
import { Command, Empty, InlineError } from './States';

const STATUS_TEXT: Record<Presence, string> = {
  online: 'online',
  waiting: 'waiting for messages',
  working: 'working',
  idle: 'idle',
  offline: 'offline',
};

export function StatusPill({ status }: { status: Presence }) {
  return (
    <span className={`pill pill-${status}`} data-status={status}>
      <span className="pill-dot" aria-hidden="true" />
      {status}
    </span>
  );
}

/** The latest activity row of each agent: loaded once, then kept current by the live feed. */
function useLastActivity(project: string): Map<string, ActivityRow> {
  const qc = useQueryClient();
  const recent = useQuery({
    queryKey: ['recent-activity', project],
    queryFn: () =>
      rpc<ActivityRow[]>('mc_activity', { p_meshwork: project, p_before_id: Number.MAX_SAFE_INTEGER, p_limit: 500 }),
    staleTime: Infinity,
  });
  useActivityListener(project, (row) => {
    qc.setQueryData<ActivityRow[]>(['recent-activity', project], (old) => [...(old ?? []).slice(-499), row]);
  });
  return useMemo(() => {
    const m = new Map<string, ActivityRow>();
    for (const row of recent.data ?? []) if (row.agent) m.set(row.agent, row);
    return m;
  }, [recent.data]);
}

function AgentCard({
  project,
  agent,
  last,
  now,
}: {
  project: string;
  agent: BoardAgent;
  last?: ActivityRow;
  now: number;
}) {
  const [showCommand, setShowCommand] = useState(false);
  const status = presence(agent.status, agent.last_seen_at, now);
  return (
    <li
      className={`card agent-card agent-${status}`}
      aria-label={`${agent.name}, ${STATUS_TEXT[status]}`}
      data-agent={agent.name}
    >
      <div className="agent-head">
        <span className="agent-name">{agent.name}</span>
        <StatusPill status={status} />
      </div>
      <p className="agent-role">{agent.role || <span className="muted">no role set</span>}</p>
      <p className="agent-meta small muted">
        {[agent.kind, agent.editor, agent.session_host].filter(Boolean).join(' · ')}
        {agent.status_detail ? ` · ${agent.status_detail}` : ''}
      </p>
      {agent.current_task && (
        <div className="agent-task">
          <span className="small">Task: {truncate(agent.current_task.title, 60)}</span>
          <progress
            max={100}
            value={agent.current_task.progress}
            aria-label={`Progress of ${agent.current_task.title}`}
          >
            {agent.current_task.progress}%
          </progress>
        </div>
      )}
      <p className="agent-last small">
        <span>Last seen {ago(agent.last_seen_at, now)}</span>
        {agent.unread > 0 && <span className="badge">{agent.unread} unread</span>}
      </p>
      {last && (
        <p className="agent-activity small muted" title={last.summary}>
          Last activity ({ago(last.created_at, now)}): {truncate(last.summary, 90)}
        </p>
      )}
      {status === 'offline' && (
        <div className="reconnect">
          <button
            type="button"
            className="btn btn-small"
            aria-expanded={showCommand}
            aria-label={`Reconnect ${agent.name}`}
            onClick={() => setShowCommand((v) => !v)}
          >
            Reconnect
          </button>
          {showCommand && (
            <div className="reconnect-help">
              <p className="small">In a terminal on the machine where {agent.name} works, run:</p>
              <Command text={`meshcode run ${agent.name}`} label={`Copy the command that reconnects ${agent.name}`} />
              <p className="small muted">
                If its workspace is gone, <code>{`meshcode setup ${project} ${agent.name}`}</code> recreates it first.
              </p>
            </div>
          )}
        </div>
      )}
    </li>
  );
}

function AddAgent({ project }: { project: string }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <details className="add-agent">
      <summary>Add an agent</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          rpc('mc_add_agent', { p_meshwork: project, p_name: name, p_role: role })
            .then(async () => {
              setName('');
              setRole('');
              await qc.invalidateQueries({ queryKey: keys.status(project) });
            })
            .catch(setError)
            .finally(() => setBusy(false));
        }}
      >
        <label htmlFor="agent-name">Name</label>
        <input id="agent-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="backend" required />
        <label htmlFor="agent-role">Role</label>
        <input id="agent-role" value={role} onChange={(e) => setRole(e.target.value)} placeholder="API and database" />
        <button type="submit" className="btn btn-primary" disabled={busy || name.trim() === ''}>
          Add agent
        </button>
        <InlineError error={error} />
        <p className="small muted">Then connect it from a terminal: meshcode run {name || '<agent>'}</p>
      </form>
    </details>
  );
}

export function AgentsPanel({ project, board }: { project: string; board: StatusBoard }) {
  const now = useNow();
  const last = useLastActivity(project);
  const [filter, setFilter] = useState('');
  // Stable order (cards do not jump as statuses change): the commander first, then by name.
  const agents = [...board.agents]
    .sort((x, y) => Number(y.name === 'commander') - Number(x.name === 'commander') || x.name.localeCompare(y.name))
    .map((a) => ({ a, s: presence(a.status, a.last_seen_at, now) }));
  const counts = new Map<Presence, number>(PRESENCE.map((p) => [p, 0]));
  for (const { s } of agents) counts.set(s, (counts.get(s) ?? 0) + 1);
  const shown = agents.filter(
    ({ a }) =>
      a.name.includes(filter.trim().toLowerCase()) || a.role.toLowerCase().includes(filter.trim().toLowerCase()),
  );

  return (
    <section aria-labelledby="agents-title">
      <div className="view-head">
        <h2 id="agents-title">Agents</h2>
        <ul className="status-summary" aria-label="Agents by status">
          {PRESENCE.map((p) => (
            <li key={p} className={`summary-${p}`}>
              <StatusPill status={p} /> <strong>{counts.get(p)}</strong>
            </li>
          ))}
        </ul>
        {board.agents.length > 8 && (
          <input
            className="filter"
            type="search"
            aria-label="Filter agents by name or role"
            placeholder="Filter agents"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
        )}
        <AddAgent project={project} />
      </div>
      {board.agents.length === 0 ? (
        <Empty title="No agents in this project yet">
          <p>Set up the first one and open it in your editor:</p>
          <Command text={`meshcode setup ${project} commander`} />
          <Command text="meshcode run commander" />
        </Empty>
      ) : (
        <ul className="agent-grid">
          {shown.map(({ a }) => (
            <AgentCard key={a.id} project={project} agent={a} last={last.get(a.name)} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}
