// Query keys and data hooks. Everything is read through the hub's RPCs as the logged-in account; the live feed
// (live.ts) keeps these caches fresh.
import { useInfiniteQuery, useQuery, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { auth, rpc } from './api';
import type { ActivityRow, MemoryEntry, Message, Meshwork, ScratchpadEntry, StatusBoard, Task } from './types';

export const HISTORY_PAGE = 100;
const REPLAY_PAGE = 1000;
const REPLAY_MAX_PAGES = 10;

export const keys = {
  session: ['session'] as const,
  projects: ['projects'] as const,
  status: (p: string) => ['status', p] as const,
  history: (p: string, agent: string | null) => ['history', p, agent ?? '*'] as const,
  historyAll: (p: string) => ['history', p] as const,
  thread: (p: string, thread: string) => ['thread', p, thread] as const,
  tasks: (p: string) => ['tasks', p] as const,
  memory: (p: string, agent: string) => ['memory', p, agent] as const,
  scratchpad: (p: string) => ['scratchpad', p] as const,
  activity: (p: string, agent: string) => ['activity', p, agent] as const,
  firstMessage: (p: string) => ['first-message', p] as const,
};

export function useSession() {
  return useQuery({ queryKey: keys.session, queryFn: auth.session, retry: false, staleTime: 60_000 });
}

export function useProjects(opts: { poll?: number } = {}) {
  return useQuery({
    queryKey: keys.projects,
    queryFn: () => rpc<Meshwork[]>('mc_list_meshworks'),
    refetchInterval: opts.poll,
  });
}

/** The status board: pushed by the live feed, refetched every 15 s so presence (last seen) stays current. */
export function useStatus(project: string) {
  return useQuery({
    queryKey: keys.status(project),
    queryFn: () => rpc<StatusBoard>('mc_status', { p_meshwork: project }),
    refetchInterval: 15_000,
  });
}

export type HistoryData = InfiniteData<Message[], string | null>;

/** Message history, newest page first; older pages by p_before (the oldest loaded message's time). */
export function useHistory(project: string, agent: string | null) {
  return useInfiniteQuery({
    queryKey: keys.history(project, agent),
    queryFn: ({ pageParam }) =>
      rpc<Message[]>('mc_history', {
        p_meshwork: project,
        p_before: pageParam ?? undefined,
        p_limit: HISTORY_PAGE,
        p_agent: agent ?? undefined,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) =>
      last.length < HISTORY_PAGE ? undefined : (last[last.length - 1]?.created_at ?? undefined),
    staleTime: Infinity,
  });
}

/**
 * New messages arrived (the feed said so): fetch the newest page and put what is new in front of the first page of
 * every loaded history view, without refetching the pages already loaded. A gap (more new messages than a page)
 * refetches from scratch.
 */
export async function mergeNewMessages(qc: QueryClient, project: string): Promise<void> {
  const views = qc.getQueriesData<HistoryData>({ queryKey: keys.historyAll(project) });
  for (const [key, data] of views) {
    const agent = typeof key[2] === 'string' && key[2] !== '*' ? key[2] : undefined;
    if (!data || data.pages.length === 0) {
      await qc.invalidateQueries({ queryKey: key, exact: true });
      continue;
    }
    const latest = await rpc<Message[]>('mc_history', { p_meshwork: project, p_limit: 50, p_agent: agent });
    qc.setQueryData<HistoryData>(key, (old) => {
      if (!old) return old;
      const known = new Set(old.pages.flatMap((p) => p.map((m) => m.id)));
      const fresh = latest.filter((m) => !known.has(m.id));
      if (fresh.length === 0) return old;
      if (fresh.length === latest.length && latest.length === 50 && known.size > 0) {
        void qc.invalidateQueries({ queryKey: key, exact: true });
        return old;
      }
      const [first = [], ...rest] = old.pages;
      return { ...old, pages: [[...fresh, ...first], ...rest] };
    });
  }
}

export function useThread(project: string, thread: string | null) {
  return useQuery({
    queryKey: keys.thread(project, thread ?? ''),
    queryFn: () => rpc<Message[]>('mc_history', { p_meshwork: project, p_thread_id: thread, p_limit: 500 }),
    enabled: thread !== null,
  });
}

export function useTasks(project: string) {
  return useQuery({
    queryKey: keys.tasks(project),
    queryFn: () => rpc<Task[]>('mc_task_list', { p_meshwork: project, p_limit: 1000 }),
  });
}

export function useMemory(project: string, agent: string | null) {
  return useQuery({
    queryKey: keys.memory(project, agent ?? ''),
    queryFn: async () =>
      (await rpc<{ memories: MemoryEntry[] }>('mc_memory_get', { p_meshwork: project, p_agent: agent })).memories,
    enabled: agent !== null,
  });
}

export function useScratchpad(project: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.scratchpad(project),
    queryFn: async () =>
      (await rpc<{ entries: ScratchpadEntry[] }>('mc_scratchpad_get', { p_meshwork: project })).entries,
    enabled,
  });
}

/** One agent's whole timeline (up to 10,000 steps), oldest first. */
export function useAgentActivity(project: string, agent: string | null) {
  return useQuery({
    queryKey: keys.activity(project, agent ?? ''),
    queryFn: async () => {
      const rows: ActivityRow[] = [];
      let after = 0;
      for (let i = 0; i < REPLAY_MAX_PAGES; i++) {
        const page = await rpc<ActivityRow[]>('mc_activity', {
          p_meshwork: project,
          p_agent: agent,
          p_after_id: after,
          p_limit: REPLAY_PAGE,
        });
        rows.push(...page);
        const last = page[page.length - 1];
        if (page.length < REPLAY_PAGE || !last) break;
        after = last.id;
      }
      return rows;
    },
    enabled: agent !== null,
    staleTime: Infinity,
  });
}
