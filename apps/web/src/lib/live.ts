// The live feed: one EventSource per open project on the hub's SSE route (the session cookie authenticates it).
// `status` events replace the status board; `activity` rows refresh exactly the caches they touch and are handed
// to subscribers (graph edges, replay, last activity). Reconnects by itself, resuming after the last row seen.
import { useQueryClient, type QueryClient, type QueryKey } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { ApiError, auth } from './api';
import { pipelineKeysFor } from './pipeline';
import { keys, mergeNewMessages } from './queries';
import type { ActivityRow, StatusBoard } from './types';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'lost';

type Listener = (row: ActivityRow) => void;
const listeners = new Map<string, Set<Listener>>();

/** Receive every activity row of a project as it arrives. */
export function onActivity(project: string, fn: Listener): () => void {
  let set = listeners.get(project);
  if (!set) listeners.set(project, (set = new Set()));
  set.add(fn);
  return () => set.delete(fn);
}

/** Hand a row to the project's listeners (the spectator page feeds its own stream through here). */
export function emitActivity(project: string, row: ActivityRow): void {
  for (const fn of listeners.get(project) ?? []) fn(row);
}

export function useActivityListener(project: string, fn: Listener): void {
  const ref = useRef(fn);
  useEffect(() => {
    ref.current = fn;
  });
  useEffect(() => onActivity(project, (row) => ref.current(row)), [project]);
}

/** Coalesces cache refreshes: a burst of rows refreshes each cache once. */
class Refresher {
  private pending = new Map<string, () => Promise<unknown>>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  schedule(id: string, run: () => Promise<unknown>): void {
    this.pending.set(id, run);
    this.timer ??= setTimeout(() => this.flush(), 100);
  }

  private flush(): void {
    this.timer = null;
    const jobs = [...this.pending.values()];
    this.pending.clear();
    for (const job of jobs) job().catch(() => undefined);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }
}

/**
 * Refetch what a row changed with a read that starts now. React Query folds a refetch into the running fetch when
 * the query has no data yet (it cancels a running fetch only when it has data to show meanwhile); that first fetch
 * may have read before the row's transaction committed, and its answer would then stay, fresh, until the next row.
 * So such a first fetch is waited for, and the refetch comes after it.
 */
export async function refetchChanged(qc: QueryClient, queryKey: QueryKey): Promise<void> {
  const first = qc
    .getQueryCache()
    .findAll({ queryKey })
    .flatMap((q) => (q.state.data === undefined && q.promise ? [q.promise] : []));
  await Promise.allSettled(first);
  await qc.invalidateQueries({ queryKey });
}

function refreshFor(qc: QueryClient, project: string, row: ActivityRow, r: Refresher): void {
  const refetch = (id: string, queryKey: QueryKey) => r.schedule(id, () => refetchChanged(qc, queryKey));
  const thread = row.data.thread_id;
  switch (row.kind) {
    case 'message':
      r.schedule('history', () => mergeNewMessages(qc, project));
      refetch('first-message', keys.firstMessage(project));
      if (typeof thread === 'string') refetch(`thread:${thread}`, keys.thread(project, thread));
      break;
    case 'task':
      refetch('tasks', keys.tasks(project));
      break;
    case 'memory':
      if (row.agent) refetch(`memory:${row.agent}`, keys.memory(project, row.agent));
      break;
    case 'scratchpad':
      refetch('scratchpad', keys.scratchpad(project));
      break;
    case 'agent':
    case 'meshwork':
      refetch('projects', keys.projects);
      break;
  }
  // Also while the Pipeline view is closed: its lists would come back still fresh (staleTime) and out of date.
  for (const key of pipelineKeysFor(project, row)) refetch(key.join(':'), key);
  if (row.agent) {
    const agent = row.agent;
    qc.setQueryData<ActivityRow[]>(keys.activity(project, agent), (old) =>
      old && !old.some((x) => x.id === row.id) ? [...old, row] : old,
    );
  }
}

/** Keep every cache of `project` live while mounted. */
export function useLiveFeed(project: string): LiveState {
  const qc = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');

  useEffect(() => {
    let es: EventSource | null = null;
    // The hub's resume cursor (the last event's id): a reconnect gets rows that committed late, and none twice.
    let cursor: string | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let delay = 1000;
    let closed = false;
    let everOpen = false;
    const refresher = new Refresher();

    const connect = () => {
      if (closed) return;
      const url = `/realtime/v1/meshworks/${encodeURIComponent(project)}/activity${cursor !== null ? `?after=${encodeURIComponent(cursor)}` : ''}`;
      const source = new EventSource(url);
      es = source;
      source.onopen = () => {
        delay = 1000;
        setState('live');
        // After an outage, refetch what the feed cannot replay (presence, anything older than the replay window).
        if (everOpen)
          void qc.invalidateQueries({ predicate: (q) => q.queryKey[1] === project || q.queryKey[0] === 'projects' });
        // Messages sent between the first page load and this open are not replayed by the feed: fetch them.
        else refresher.schedule('history', () => mergeNewMessages(qc, project));
        everOpen = true;
      };
      source.addEventListener('status', (ev) => {
        qc.setQueryData<StatusBoard>(
          keys.status(project),
          JSON.parse((ev as MessageEvent<string>).data) as StatusBoard,
        );
      });
      source.addEventListener('activity', (ev) => {
        const row = JSON.parse((ev as MessageEvent<string>).data) as ActivityRow;
        if ((ev as MessageEvent<string>).lastEventId) cursor = (ev as MessageEvent<string>).lastEventId;
        refreshFor(qc, project, row, refresher);
        for (const fn of listeners.get(project) ?? []) fn(row);
      });
      source.addEventListener('error', (ev) => {
        if ('data' in ev && typeof (ev as MessageEvent).data === 'string') {
          // The hub's own `event: error`: this session lost access to the project. Try again later, it may be back.
          source.close();
          setState('lost');
          schedule();
          return;
        }
        if (source.readyState === EventSource.CONNECTING) {
          setState('reconnecting');
          return;
        }
        // CLOSED: the browser gave up (hub restarting, or an HTTP error). Find out which, then reconnect.
        source.close();
        setState('reconnecting');
        auth.session().then(
          () => schedule(),
          (err: unknown) => {
            if (err instanceof ApiError && err.status === 401) {
              void qc.invalidateQueries({ queryKey: keys.session });
              setState('lost');
            } else schedule();
          },
        );
      });
    };
    const schedule = () => {
      if (closed) return;
      retry = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10_000);
    };

    connect();
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      refresher.cancel();
      es?.close();
    };
  }, [project, qc]);

  return state;
}
