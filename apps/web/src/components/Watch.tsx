'use client';
// The public spectator page: anyone holding a /watch/<token> link sees the project's graph, agent statuses, chat and
// open tasks live, read-only, as the hub sends them (redacted in SQL). When the owner turns the link off, the
// stream ends and the page says so; nothing of the project stays on screen.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../lib/api';
import { ago, presence, truncate } from '../lib/format';
import { useNow } from '../lib/hooks';
import { emitActivity, type LiveState } from '../lib/live';
import { publicApi, type WatchBoard, type WatchMessage, type WatchRow, type WatchTask } from '../lib/public';
import type { ActivityRow, Message, StatusBoard } from '../lib/types';
import { StatusPill } from './AgentsPanel';
import { MessageRow } from './Chat';
import { MeshGraphView } from './MeshGraph';
import { LiveBadge } from './Shell';
import { Empty, ErrorState, Loading } from './States';
import './team.css';

const MAX_MESSAGES = 500;

type Phase = 'loading' | 'live' | 'reconnecting' | 'revoked' | 'invalid' | 'error';

interface WatchData {
  phase: Phase;
  board: WatchBoard | null;
  messages: WatchMessage[];
  tasks: WatchTask[];
  error: unknown;
  retry: () => void;
}

function mergeMessages(old: WatchMessage[], fresh: WatchMessage[]): WatchMessage[] {
  if (fresh.length === 0) return old;
  const known = new Set(old.map((m) => m.id));
  const added = fresh.filter((m) => !known.has(m.id));
  if (added.length === 0) return old;
  return [...old, ...added]
    .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id.localeCompare(b.id))
    .slice(-MAX_MESSAGES);
}

/** The link no longer opens a project (turned off, replaced, or never valid). */
function gone(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 400);
}

/** Snapshot first (board, recent chat and activity), then the public SSE stream after its last activity id. */
function useWatch(token: string): WatchData {
  const [phase, setPhase] = useState<Phase>('loading');
  const [board, setBoard] = useState<WatchBoard | null>(null);
  const [messages, setMessages] = useState<WatchMessage[]>([]);
  const [tasks, setTasks] = useState<WatchTask[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let closed = false;
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let tasksTimer: ReturnType<typeof setTimeout> | null = null;
    let delay = 1000;
    // Where the stream resumes: the last event's id (the hub's cursor, which covers rows that commit late), or before
    // any event, the snapshot's newest activity id.
    let cursor: string | null = null;
    let snapshotId = 0;
    let loaded = false;
    let meshwork = '';

    const cutOff = (neverLoaded: boolean) => {
      es?.close();
      es = null;
      // Nothing of the project stays on screen once the owner turned the link off.
      setBoard(null);
      setMessages([]);
      setTasks([]);
      setPhase(neverLoaded ? 'invalid' : 'revoked');
    };
    const schedule = () => {
      if (closed) return;
      if (retry) clearTimeout(retry);
      retry = setTimeout(() => void load(), delay);
      delay = Math.min(delay * 2, 10_000);
    };

    const load = async () => {
      retry = null;
      try {
        const snap = await publicApi.watchSnapshot(token);
        if (closed) return;
        meshwork = snap.meshwork;
        setBoard({ meshwork: snap.meshwork, agents: snap.agents });
        setMessages((old) => mergeMessages(old, snap.messages));
        setTasks(snap.tasks);
        snapshotId = Math.max(snapshotId, snap.latest_activity_id);
        loaded = true;
        connect();
      } catch (err) {
        if (closed) return;
        if (gone(err)) return cutOff(!loaded);
        if (!loaded) {
          setError(err);
          setPhase('error');
          return;
        }
        setPhase('reconnecting');
        schedule();
      }
    };

    // Open tasks are not in the stream: re-read them (coalesced) when a task row says they changed.
    const refreshTasks = () => {
      tasksTimer ??= setTimeout(() => {
        tasksTimer = null;
        publicApi.watchSnapshot(token).then(
          (s) => !closed && setTasks(s.tasks),
          () => undefined,
        );
      }, 300);
    };

    const connect = () => {
      if (closed) return;
      es?.close();
      const after = encodeURIComponent(cursor ?? String(snapshotId));
      const source = new EventSource(`/realtime/v1/watch/${encodeURIComponent(token)}?after=${after}`);
      es = source;
      source.onopen = () => {
        delay = 1000;
        setPhase('live');
      };
      source.addEventListener('status', (ev) => {
        setBoard(JSON.parse((ev as MessageEvent<string>).data) as WatchBoard);
      });
      source.addEventListener('activity', (ev) => {
        const row = JSON.parse((ev as MessageEvent<string>).data) as WatchRow;
        if ((ev as MessageEvent<string>).lastEventId) cursor = (ev as MessageEvent<string>).lastEventId;
        if (row.message) setMessages((old) => mergeMessages(old, [row.message!]));
        if (row.kind === 'task') refreshTasks();
        const normal: ActivityRow = {
          id: row.id,
          agent: row.agent ?? null,
          kind: row.kind,
          summary: row.summary,
          data: row.data ?? {},
          created_at: row.created_at,
        };
        emitActivity(meshwork, normal);
      });
      source.addEventListener('error', (ev) => {
        if ('data' in ev && typeof (ev as MessageEvent).data === 'string') {
          // The hub's own `event: error`: the link was turned off (404), or the stream failed.
          source.close();
          let code: string;
          try {
            code = String((JSON.parse((ev as MessageEvent<string>).data) as { code?: unknown }).code ?? '');
          } catch {
            code = '';
          }
          if (code === 'PT404') return cutOff(false);
          setPhase('reconnecting');
          schedule();
          return;
        }
        if (source.readyState === EventSource.CONNECTING) {
          setPhase('reconnecting');
          return;
        }
        // CLOSED: the hub refused the stream or is gone. The snapshot says which (404: the link was turned off).
        source.close();
        setPhase('reconnecting');
        schedule();
      });
    };

    setPhase('loading');
    setError(null);
    void load();
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      if (tasksTimer) clearTimeout(tasksTimer);
      es?.close();
    };
  }, [token, attempt]);

  return { phase, board, messages, tasks, error, retry: () => setAttempt((n) => n + 1) };
}

/** The status board shape the graph expects, from what a spectator may see (names stand in for ids). */
function asStatusBoard(b: WatchBoard): StatusBoard {
  return {
    meshwork: b.meshwork,
    meshwork_id: '',
    agents: b.agents.map((a) => ({
      id: a.name,
      name: a.name,
      role: a.role,
      kind: (['editor', 'worker', 'daemon'] as const).find((k) => k === a.kind) ?? 'editor',
      editor: null,
      status: a.status,
      status_detail: a.status_detail,
      last_seen_at: a.last_seen_at,
      session_host: null,
      created_at: '',
      current_task: a.current_task ? { id: '', title: a.current_task.title, progress: a.current_task.progress } : null,
      unread: 0,
    })),
  };
}

function asMessage(m: WatchMessage): Message {
  return {
    id: m.id,
    from: m.from,
    // The overseer is the project's owner here, not the person watching.
    from_display_name: m.from === 'overseer' ? 'project owner' : undefined,
    to: m.to,
    kind: m.kind,
    body: m.truncated ? `${m.body}\n[… cut at 16 KB]` : m.body,
    thread_id: m.thread_id,
    reply_to: m.reply_to ?? undefined,
    created_at: m.created_at,
  };
}

function WatchChat({ messages }: { messages: Message[] }) {
  const now = useNow(10_000);
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const replies = useMemo(() => {
    const r = new Map<string, Message>();
    for (const m of messages) if (m.reply_to && !r.has(m.reply_to)) r.set(m.reply_to, m);
    return r;
  }, [messages]);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [messages]);
  const jump = (id: string) => {
    ref.current?.querySelector(`[data-message="${CSS.escape(id)}"]`)?.scrollIntoView({ block: 'center' });
  };
  return (
    <section className="card watch-chat" aria-labelledby="watch-chat-title">
      <h2 id="watch-chat-title">Chat</h2>
      {messages.length === 0 ? (
        <p className="small muted">No messages yet. They appear here as the agents talk.</p>
      ) : (
        <div
          className="watch-log"
          ref={ref}
          role="log"
          aria-label="Messages"
          aria-live="polite"
          tabIndex={0}
          onScroll={() => {
            const el = ref.current;
            if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
          }}
        >
          {messages.map((m) => (
            <MessageRow
              key={m.id}
              m={m}
              ask={m.reply_to ? byId.get(m.reply_to) : undefined}
              reply={m.kind === 'ask' ? replies.get(m.id) : undefined}
              threadSize={1}
              highlighted={false}
              now={now}
              onJump={jump}
            />
          ))}
        </div>
      )}
    </section>
  );
}

function WatchAgents({ board }: { board: WatchBoard }) {
  const now = useNow();
  return (
    <section aria-labelledby="watch-agents-title" className="watch-agents">
      <h2 id="watch-agents-title">Agents</h2>
      {board.agents.length === 0 ? (
        <p className="small muted">No agents in this project yet.</p>
      ) : (
        <ul className="watch-agent-list">
          {[...board.agents]
            // The commander first, like the dashboard's agents panel; then by name.
            .sort(
              (x, y) => Number(y.name === 'commander') - Number(x.name === 'commander') || x.name.localeCompare(y.name),
            )
            .map((a) => {
              const s = presence(a.status, a.last_seen_at, now);
              return (
                <li key={a.name} className={`card agent-card watch-agent agent-${s}`} aria-label={`${a.name}, ${s}`}>
                  <div className="agent-head">
                    <span className="agent-name">{a.name}</span>
                    <StatusPill status={s} />
                  </div>
                  {a.role && <p className="small watch-agent-role">{truncate(a.role, 90)}</p>}
                  {a.current_task && (
                    <div className="agent-task">
                      <span className="small">Task: {truncate(a.current_task.title, 60)}</span>
                      <progress
                        max={100}
                        value={a.current_task.progress}
                        aria-label={`Progress of ${a.current_task.title}`}
                      />
                    </div>
                  )}
                  <p className="small muted watch-agent-seen">
                    {a.status_detail ? `${truncate(a.status_detail, 60)} · ` : ''}seen {ago(a.last_seen_at, now)}
                  </p>
                </li>
              );
            })}
        </ul>
      )}
    </section>
  );
}

function WatchTasks({ tasks }: { tasks: WatchTask[] }) {
  if (tasks.length === 0) return null;
  return (
    <section className="card watch-tasks" aria-labelledby="watch-tasks-title">
      <h2 id="watch-tasks-title">Open tasks</h2>
      <ul>
        {tasks.map((t, i) => (
          <li key={`${t.title}-${i}`}>
            <span className="tag">{t.status.replace('_', ' ')}</span> <strong>{t.title}</strong>{' '}
            <span className="small muted">
              {t.assignee ? `· ${t.assignee}` : '· unassigned'} · {t.priority}
              {t.progress > 0 ? ` · ${t.progress}%` : ''}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

const LIVE: Record<Phase, LiveState> = {
  loading: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting',
  revoked: 'lost',
  invalid: 'lost',
  error: 'lost',
};

function Header({ project, phase }: { project: string | null; phase: Phase }) {
  return (
    <header className="topbar">
      <span className="brand">
        <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
          <path d="M9 10 23 10 16 23Z" fill="none" stroke="#38bdf8" strokeWidth="2" />
          <circle cx="9" cy="10" r="3.2" fill="currentColor" />
          <circle cx="23" cy="10" r="3.2" fill="currentColor" />
          <circle cx="16" cy="23" r="3.2" fill="currentColor" />
        </svg>
        <span>MeshCode</span>
      </span>
      <span className="watch-title">
        {project ? (
          <>
            Watching <strong>{project}</strong>
          </>
        ) : (
          'Spectator'
        )}
        <span className="watch-readonly">read-only</span>
      </span>
      <div className="topbar-right">
        <LiveBadge state={LIVE[phase]} />
      </div>
    </header>
  );
}

export function WatchView({ token }: { token: string }) {
  const w = useWatch(token);
  const board = useMemo(() => (w.board ? asStatusBoard(w.board) : null), [w.board]);
  const messages = useMemo(() => w.messages.map(asMessage), [w.messages]);
  const project = w.board?.meshwork;
  useEffect(() => {
    document.title = project ? `Watching ${project} — MeshCode` : 'Spectator — MeshCode';
  }, [project]);

  if (w.phase === 'revoked' || w.phase === 'invalid') {
    return (
      <>
        <Header project={null} phase={w.phase} />
        <main className="page watch-page">
          <div className="state state-error watch-off" role="alert">
            <strong>
              {w.phase === 'revoked'
                ? 'This spectator link was turned off'
                : 'This spectator link is not valid or was turned off'}
            </strong>
            <p>
              The project owner turned sharing off or replaced the link with a new one. Ask them for a current link.
            </p>
          </div>
        </main>
      </>
    );
  }
  return (
    <>
      <Header project={w.board?.meshwork ?? null} phase={w.phase} />
      <main className="page watch-page">
        {w.phase === 'error' ? (
          <ErrorState error={w.error} retry={w.retry} title="Could not open this spectator link" />
        ) : !w.board || !board ? (
          <Loading label="Opening the live view…" />
        ) : (
          <>
            <h1 className="sr-only">Watching {w.board.meshwork} live, read-only</h1>
            <p className="small muted watch-note">
              A read-only view the project owner shared. Memory and scratchpad values and anything that looks like a
              key, token or password are masked.
            </p>
            <WatchAgents board={w.board} />
            <div className="watch-grid">
              <div className="watch-graph">
                {board.agents.length === 0 ? (
                  <Empty title="No agents to draw yet" />
                ) : (
                  <MeshGraphView project={w.board.meshwork} board={board} messages={messages} />
                )}
              </div>
              <WatchChat messages={messages} />
            </div>
            <WatchTasks tasks={w.tasks} />
          </>
        )}
      </main>
    </>
  );
}
