// mc_wait and mc_wait_reply held by the hub: query; if nothing, register the waiter, query again (no lost
// wake-up), then sleep until a wake, the deadline or the client leaving; repeat until something arrives.
// Re-reads after registration go through the WaitBatcher when the spec allows it.
import type { RpcExecutor } from '../rpc';
import type { WaitBatcher } from './wait-batcher';
import type { Waiters } from './waiters';

export const DEFAULT_WAIT_SECONDS = 30;
export const MAX_WAIT_SECONDS = 300;

export interface LongPollSpec {
  fn: string;
  /** True when the result should be returned now. */
  ready(result: unknown): boolean;
  /** The agent whose inbox wakes this poll. */
  agentId(result: unknown): string | undefined;
  /** Whether re-reads may use the batched inbox read (same result shape as the first call). */
  batched: boolean;
}

interface WaitShape {
  agent_id?: string;
  cursor?: number;
  messages?: unknown[];
}

export const WAIT_SPECS: Record<string, LongPollSpec> = {
  mc_wait: {
    fn: 'mc_wait',
    ready: (r) => ((r as WaitShape).messages?.length ?? 0) > 0,
    agentId: (r) => (r as WaitShape).agent_id,
    batched: true,
  },
  mc_wait_reply: {
    fn: 'mc_wait_reply',
    ready: (r) => {
      const x = r as { reply?: unknown; expired?: boolean };
      return x.reply != null || x.expired === true;
    },
    agentId: (r) => (r as { agent_id?: string }).agent_id,
    batched: false,
  },
};

export function timeoutSeconds(args: Record<string, unknown>): number {
  const raw = args.p_timeout_seconds;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) return DEFAULT_WAIT_SECONDS;
  return Math.min(Math.max(n, 0), MAX_WAIT_SECONDS);
}

function numericLimit(args: Record<string, unknown>): number | undefined {
  const n = Number(args.p_limit);
  return args.p_limit === undefined || args.p_limit === null || !Number.isFinite(n) ? undefined : n;
}

export interface LongPollDeps {
  rpc: RpcExecutor;
  waiters: Waiters;
  batcher: WaitBatcher;
}

export async function longPoll(
  deps: LongPollDeps,
  spec: LongPollSpec,
  keyHash: string | null,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<unknown> {
  const deadline = Date.now() + timeoutSeconds(args) * 1000;
  const first = await deps.rpc.call(keyHash, spec.fn, args);
  if (spec.ready(first) || Date.now() >= deadline) return first;
  const agentId = spec.agentId(first);
  if (!agentId) return first;

  const cursor = (first as WaitShape).cursor;
  const reread =
    spec.batched && keyHash !== null && typeof cursor === 'number'
      ? () => deps.batcher.read({ keyHash, agentId, after: cursor, limit: numericLimit(args) })
      : () => deps.rpc.call(keyHash, spec.fn, args);

  let woken = false;
  let release: (() => void) | null = null;
  const onWake = () => {
    woken = true;
    release?.();
  };
  const unregister = deps.waiters.register(agentId, onWake);
  try {
    let result = await reread();
    while (!spec.ready(result) && !signal.aborted) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      if (!woken) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, left);
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            release = null;
            resolve();
          }
          release = done;
          signal.addEventListener('abort', done, { once: true });
        });
      }
      if (signal.aborted || !woken) break; // client gone, or deadline reached
      woken = false;
      result = await reread();
    }
    return result;
  } finally {
    unregister();
  }
}
