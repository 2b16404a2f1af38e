// mc_wait and mc_wait_reply held by the hub: query; if nothing, register the waiter, query again (no lost
// wake-up), then sleep until a wake, the deadline or the client leaving; repeat until something arrives.
import type { RpcExecutor } from '../rpc';
import type { Waiters } from './waiters';

export const DEFAULT_WAIT_SECONDS = 30;
export const MAX_WAIT_SECONDS = 300;

export interface LongPollSpec {
  fn: string;
  /** True when the result should be returned now. */
  ready(result: unknown): boolean;
  /** The agent whose inbox wakes this poll. */
  agentId(result: unknown): string | undefined;
}

export const WAIT_SPECS: Record<string, LongPollSpec> = {
  mc_wait: {
    fn: 'mc_wait',
    ready: (r) => ((r as { messages?: unknown[] }).messages?.length ?? 0) > 0,
    agentId: (r) => (r as { agent_id?: string }).agent_id,
  },
  mc_wait_reply: {
    fn: 'mc_wait_reply',
    ready: (r) => {
      const x = r as { reply?: unknown; expired?: boolean };
      return x.reply != null || x.expired === true;
    },
    agentId: (r) => (r as { agent_id?: string }).agent_id,
  },
};

export function timeoutSeconds(args: Record<string, unknown>): number {
  const raw = args.p_timeout_seconds;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) return DEFAULT_WAIT_SECONDS;
  return Math.min(Math.max(n, 0), MAX_WAIT_SECONDS);
}

export async function longPoll(
  rpc: RpcExecutor,
  waiters: Waiters,
  spec: LongPollSpec,
  keyHash: string | null,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<unknown> {
  const deadline = Date.now() + timeoutSeconds(args) * 1000;
  let result = await rpc.call(keyHash, spec.fn, args);
  if (spec.ready(result) || Date.now() >= deadline) return result;
  const agentId = spec.agentId(result);
  if (!agentId) return result;

  let woken = false;
  let release: (() => void) | null = null;
  const onWake = () => {
    woken = true;
    release?.();
  };
  const unregister = waiters.register(agentId, onWake);
  try {
    result = await rpc.call(keyHash, spec.fn, args);
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
      if (signal.aborted) break;
      if (!woken) break; // deadline reached
      woken = false;
      result = await rpc.call(keyHash, spec.fn, args);
    }
    return result;
  } finally {
    unregister();
  }
}
