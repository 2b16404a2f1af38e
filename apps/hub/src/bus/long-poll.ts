// mc_wait, mc_wait_reply and a waiting mc_worker_claim held by the hub: query; if nothing, register the waiter, query
// again (no lost wake-up), then sleep until a wake, the deadline or the client leaving; repeat until something arrives.
// Re-reads after registration go through the WaitBatcher when the spec allows it. A wake-up that carries the committed
// messages right after the waiter's last page answers it without a re-read (pageFromDeliveries); a sleeping waiting
// claim may be handed a task a delivery's transaction claimed for it (Waiters.hand).
import type { RpcExecutor } from '../rpc';
import type { DeliveredMarks } from './delivered';
import type { Delivery } from './notes';
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
  /** The argument naming how long to hold the call, and the hold when it is absent. */
  timeoutArg: string;
  defaultSeconds: number;
  /** While asleep, take a result made for this agent in another transaction (a task claimed for a worker). */
  takes?: boolean;
  /** A time (epoch ms) by which the result may change with no wake-up (a retry falling due): hold no longer. */
  until?(result: unknown): number | undefined;
  /** A time (epoch ms) at which the result changes with no wake-up (an ask's deadline): read again then, and go on. */
  recheckAt?(result: unknown): number | undefined;
}

/**
 * Read again no sooner than this after going to sleep, whatever recheckAt says: the hub's and the database's clocks may
 * differ a little, and the database may not see the deadline passed yet.
 */
const MIN_RECHECK_MS = 50;

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
    timeoutArg: 'p_timeout_seconds',
    defaultSeconds: DEFAULT_WAIT_SECONDS,
  },
  mc_wait_reply: {
    fn: 'mc_wait_reply',
    ready: (r) => {
      const x = r as { reply?: unknown; expired?: boolean };
      return x.reply != null || x.expired === true;
    },
    agentId: (r) => (r as { agent_id?: string }).agent_id,
    batched: false,
    timeoutArg: 'p_timeout_seconds',
    defaultSeconds: DEFAULT_WAIT_SECONDS,
    // The ask expires at its deadline, which no send announces: read again just after it, to answer expired then.
    recheckAt: (r) => {
      const at = (r as { deadline_at?: string | null }).deadline_at;
      return at ? Date.parse(at) + 5 : undefined;
    },
  },
  // A worker idling for its next task: woken by the task's assignment, answered with the claimed task. Whatever keeps
  // it from claiming (stopped, busy, rate limited, capped) is held like an empty board, so an idle runtime never spins.
  mc_worker_claim: {
    fn: 'mc_worker_claim',
    ready: (r) => (r as { task?: unknown }).task != null,
    agentId: (r) => (r as { agent_id?: string }).agent_id,
    batched: false,
    takes: true,
    timeoutArg: 'p_wait_seconds',
    defaultSeconds: 0,
    until: (r) => {
      const at = (r as { next_at?: string | null }).next_at;
      return at ? Date.parse(at) : undefined;
    },
  },
};

export function timeoutSeconds(args: Record<string, unknown>, spec: LongPollSpec): number {
  const raw = args[spec.timeoutArg];
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) return spec.defaultSeconds;
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
  delivered: DeliveredMarks;
}

interface InboxPage {
  agent: string;
  agent_id: string;
  cursor: number;
  messages: unknown[];
  last_seq: number;
  has_more: boolean;
}

/** A result's JSON text, made along with it: the answer is sent as is instead of serialized again. */
const JSON_TEXT = Symbol('json text');

/** The JSON text of a long-poll's result. */
export function resultJson(result: unknown): string {
  const text = (result as { [JSON_TEXT]?: string } | null | undefined)?.[JSON_TEXT];
  return text ?? JSON.stringify(result ?? null);
}

/**
 * The page a re-read would return, built from deliveries when they continue the inbox right after the last page:
 * seqs last_seq+1, last_seq+2, ... with nothing missing and no more than the limit. Otherwise undefined (re-read).
 * Its JSON text is put together from each message's text, made once per message: a broadcast's answers do not
 * serialize the same message once per recipient.
 */
export function pageFromDeliveries(last: InboxPage, deliveries: Delivery[], limit: number): InboxPage | undefined {
  const fresh = deliveries.filter((d) => d.seq > last.last_seq).sort((a, b) => a.seq - b.seq);
  if (fresh.length === 0 || fresh.length > limit) return undefined;
  for (let i = 0; i < fresh.length; i++) if (fresh[i]!.seq !== last.last_seq + 1 + i) return undefined;
  const page: InboxPage = {
    agent: last.agent,
    agent_id: last.agent_id,
    cursor: last.cursor,
    messages: fresh.map((d) => ({ seq: d.seq, ...d.message })),
    last_seq: fresh.at(-1)!.seq,
    has_more: false,
  };
  const messages = fresh.map((d) => `{"seq":${d.seq}${d.json === '{}' ? '}' : `,${d.json.slice(1)}`}`);
  const text =
    `{"agent":${JSON.stringify(page.agent)},"agent_id":${JSON.stringify(page.agent_id)},` +
    `"cursor":${JSON.stringify(page.cursor)},"messages":[${messages.join(',')}],"last_seq":${page.last_seq},"has_more":false}`;
  Object.defineProperty(page, JSON_TEXT, { value: text });
  return page;
}

/** Where a caller's previous wait of this kind was registered: same key, same project and agent arguments. */
function hintKey(fn: string, keyHash: string, args: Record<string, unknown>): string {
  return `${fn}\n${keyHash}\n${JSON.stringify(args.p_meshwork ?? null)}\n${JSON.stringify(args.p_agent ?? null)}`;
}

export async function longPoll(
  deps: LongPollDeps,
  spec: LongPollSpec,
  keyHash: string | null,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<unknown> {
  const seconds = timeoutSeconds(args, spec);
  let deadline = Date.now() + seconds * 1000;
  // The key is checked by the first call; deliveries may skip re-checking it until a revocation happens after this.
  let checkedEpoch = deps.waiters.epoch;

  let woken = false;
  let needRead = false;
  let handed: unknown;
  let delivered: Delivery[] = [];
  let release: (() => void) | null = null;
  const onWake = (deliveries?: Delivery[]) => {
    woken = true;
    if (deliveries) delivered.push(...deliveries);
    else needRead = true;
    release?.();
  };

  // Register under the agent this caller's previous wait resolved to BEFORE the first read: whatever commits after
  // that read then wakes us, so the second read that registering afterwards needs (no lost wake-up) is saved. The
  // first read says which agent it really is; on a mismatch everything heard so far is dropped and we register again.
  const hint = keyHash !== null && seconds > 0 ? hintKey(spec.fn, keyHash, args) : null;
  const hinted = hint ? deps.waiters.hint(hint) : undefined;
  let unregister = hinted ? deps.waiters.register(hinted, onWake) : () => undefined;
  try {
    const { result: first, expiresAt } = await deps.rpc.callWithOutcome(keyHash, spec.fn, args);
    const agentId = spec.agentId(first);
    const cursor = (first as WaitShape).cursor;
    // The agent is back, reading past what it was handed: it was not left working on it.
    if (agentId && typeof cursor === 'number') deps.delivered.acked(agentId, cursor);
    if (spec.ready(first) || Date.now() >= Math.min(deadline, spec.until?.(first) ?? Infinity)) return first;
    if (!agentId) return first;
    if (hint) deps.waiters.remember(hint, agentId);

    const batched = spec.batched && keyHash !== null && typeof cursor === 'number';
    const limit = Math.min(Math.max(numericLimit(args) ?? 100, 1), 500);
    const reread = batched
      ? () => deps.batcher.read({ keyHash, agentId, after: cursor, limit: numericLimit(args) })
      : () => deps.rpc.call(keyHash, spec.fn, args);
    /** A full re-read; the batched one checks the key again, so deliveries after it may be trusted again. */
    const readChecked = async (): Promise<unknown> => {
      const epoch = deps.waiters.epoch;
      needRead = false;
      delivered = [];
      const r = await reread();
      checkedEpoch = epoch; // both re-reads check the key
      return r;
    };

    let result: unknown = first;
    if (hinted !== agentId) {
      unregister();
      woken = false;
      needRead = false;
      delivered = [];
      unregister = deps.waiters.register(agentId, onWake);
      result = await readChecked();
    }
    while (!spec.ready(result) && !signal.aborted) {
      deadline = Math.min(deadline, spec.until?.(result) ?? Infinity);
      const recheck = spec.recheckAt?.(result);
      const wakeAt =
        recheck === undefined ? deadline : Math.min(deadline, Math.max(recheck, Date.now() + MIN_RECHECK_MS));
      const left = wakeAt - Date.now();
      if (left <= 0) break;
      if (!woken) {
        deps.waiters.sleeping(1);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, left);
          // Taken only while the key holds as last checked, like a delivery; a claim not taken is handed back.
          const withdraw = spec.takes
            ? deps.waiters.offerTake(agentId, (claim) => {
                if (signal.aborted || deps.waiters.epoch !== checkedEpoch) return false;
                if (expiresAt !== null && Date.now() >= expiresAt) return false;
                handed = claim;
                done();
                return true;
              })
            : null;
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            withdraw?.();
            release = null;
            deps.waiters.sleeping(-1);
            resolve();
          }
          release = done;
          signal.addEventListener('abort', done, { once: true });
        });
      }
      if (handed !== undefined) return handed;
      if (signal.aborted) break; // client gone
      if (!woken) {
        if (wakeAt >= deadline) break; // deadline reached
        result = await readChecked(); // the time to read again came
        continue;
      }
      woken = false;
      const page =
        batched && !needRead && deps.waiters.epoch === checkedEpoch && (expiresAt === null || Date.now() < expiresAt)
          ? pageFromDeliveries(result as InboxPage, delivered, limit)
          : undefined;
      delivered = [];
      if (page) {
        deps.delivered.mark(agentId, page.last_seq);
        return page;
      }
      result = await readChecked();
    }
    return result;
  } finally {
    unregister();
  }
}
