// Typed SDK over @supabase/supabase-js: every RPC result is validated with the protocol's zod schemas and every
// failure becomes a MeshError carrying PostgREST's envelope.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import {
  ActivityRow,
  Agent,
  AgentDetail,
  Connected,
  MemoryEntry,
  Meshwork,
  MeshError,
  Message,
  ReplyResult,
  ScratchpadEntry,
  SendResult,
  SignupResult,
  StatusBoard,
  Task,
  WaitResult,
  Whoami,
} from '@meshcode/protocol';
import { z } from 'zod';

export interface MeshClientOptions {
  hubUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
}

type Args = Record<string, unknown>;

function compact(args: Args): Args {
  const out: Args = {};
  for (const [k, v] of Object.entries(args)) if (v !== undefined) out[k] = v;
  return out;
}

export function networkError(hubUrl: string, cause: unknown): MeshError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new MeshError(0, {
    code: 'NETWORK',
    message: `could not reach the hub at ${hubUrl} (${why})`,
    details: null,
    hint: 'is it running? start it with meshcode up, or pass --hub / set MESHCODE_HUB_URL',
  });
}

/** Create an account on a hub with open signup; returns the account and its owner key (shown once). */
export async function signup(
  hubUrl: string,
  email: string,
  displayName = '',
  fetchImpl: typeof fetch = fetch,
): Promise<SignupResult> {
  let res: Response;
  try {
    res = await fetchImpl(new URL('/auth/v1/signup', hubUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, display_name: displayName }),
    });
  } catch (err) {
    throw networkError(hubUrl, err);
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw toMeshError(res.status, body);
  return SignupResult.parse(body);
}

/** A hub answer checked against the protocol; a mismatch means hub and client versions differ. */
export function parseAnswer<T>(fn: string, schema: z.ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new MeshError(502, {
      code: 'BAD_RESPONSE',
      message: `the hub's answer to ${fn} did not match the protocol: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      details: null,
      hint: 'update meshcode and the hub to the same version',
    });
  }
  return parsed.data;
}

export function toMeshError(status: number, body: unknown): MeshError {
  const b = (body ?? {}) as { code?: unknown; message?: unknown; details?: unknown; hint?: unknown };
  return new MeshError(status, {
    code: typeof b.code === 'string' ? b.code : String(status),
    message: typeof b.message === 'string' && b.message ? b.message : `hub answered HTTP ${status}`,
    details: typeof b.details === 'string' ? b.details : null,
    hint: typeof b.hint === 'string' && b.hint ? b.hint : null,
  });
}

export interface SendInput {
  meshwork: string;
  to: string;
  body: string;
  from?: string;
  kind?: 'message' | 'ask' | 'reply' | 'event';
  threadId?: string;
  replyTo?: string;
  idempotencyKey?: string;
  deadlineSeconds?: number;
  data?: Record<string, unknown>;
}

export interface TaskUpdate {
  status?: Task['status'];
  progress?: number;
  result?: string;
  title?: string;
  body?: string;
  priority?: Task['priority'];
  assignee?: string;
  agent?: string;
  leaseSeconds?: number;
}

/**
 * A supabase-js client for a MeshCode hub. Node 20 has no global WebSocket and supabase-js insists on one even
 * though MeshCode never uses Supabase Realtime (live feeds are SSE), so `ws` is passed as its transport.
 */
export function createSupabase(hubUrl: string, apiKey: string, fetchImpl?: typeof fetch): SupabaseClient {
  return createClient(hubUrl, apiKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: fetchImpl ? { fetch: fetchImpl } : {},
    // ws implements the WebSocket API supabase-js expects; its event types differ only in detail.
    realtime: { transport: WebSocket as never },
  });
}

export class MeshClient {
  readonly hubUrl: string;
  readonly supabase: SupabaseClient;

  constructor(opts: MeshClientOptions) {
    this.hubUrl = opts.hubUrl.replace(/\/+$/, '');
    this.supabase = createSupabase(this.hubUrl, opts.apiKey, opts.fetch);
  }

  /** Call any RPC by name with named args; validate the result when a schema is given. */
  async rpc<T = unknown>(fn: string, args: Args = {}, schema?: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    let builder = this.supabase.rpc(fn, compact(args));
    if (signal) builder = builder.abortSignal(signal);
    const { data, error, status } = await builder;
    if (error) {
      if (!status || status === 0 || /fetch failed|ECONNREFUSED|network/i.test(error.message)) {
        if (signal?.aborted)
          throw new MeshError(0, { code: 'ABORTED', message: 'request aborted', details: null, hint: null });
        throw networkError(this.hubUrl, error.details || error.message);
      }
      throw toMeshError(status, error);
    }
    return schema ? parseAnswer(fn, schema, data) : (data as T);
  }

  whoami() {
    return this.rpc('mc_whoami', {}, Whoami);
  }
  listMeshworks() {
    return this.rpc('mc_list_meshworks', {}, z.array(Meshwork));
  }
  createMeshwork(name: string) {
    return this.rpc(
      'mc_create_meshwork',
      { p_name: name },
      z.object({ id: z.string(), name: z.string(), role: z.string() }),
    );
  }
  addAgent(
    meshwork: string,
    name: string,
    opts: {
      role?: string;
      kind?: 'editor' | 'worker' | 'daemon';
      editor?: string;
      launchPrompt?: string;
      existOk?: boolean;
    } = {},
  ) {
    return this.rpc(
      'mc_add_agent',
      {
        p_meshwork: meshwork,
        p_name: name,
        p_role: opts.role,
        p_kind: opts.kind,
        p_editor: opts.editor,
        p_launch_prompt: opts.launchPrompt,
        p_exist_ok: opts.existOk,
      },
      Agent.extend({ created: z.boolean() }),
    );
  }
  editAgent(meshwork: string, name: string, changes: { role?: string; launchPrompt?: string; editor?: string }) {
    return this.rpc(
      'mc_edit_agent',
      {
        p_meshwork: meshwork,
        p_name: name,
        p_role: changes.role,
        p_launch_prompt: changes.launchPrompt,
        p_editor: changes.editor,
      },
      Agent.extend({ launch_prompt: z.string() }),
    );
  }
  removeAgent(meshwork: string, name: string) {
    return this.rpc('mc_remove_agent', { p_meshwork: meshwork, p_name: name });
  }
  getAgent(meshwork: string, name?: string) {
    return this.rpc('mc_get_agent', { p_meshwork: meshwork, p_name: name }, AgentDetail);
  }
  status(meshwork: string) {
    return this.rpc('mc_status', { p_meshwork: meshwork }, StatusBoard);
  }
  connect(meshwork: string, agent: string, session: string, opts: { host?: string; force?: boolean } = {}) {
    return this.rpc(
      'mc_connect',
      { p_meshwork: meshwork, p_agent: agent, p_session: session, p_host: opts.host, p_force: opts.force },
      Connected,
    );
  }
  heartbeat(
    meshwork: string,
    agent: string,
    opts: { session?: string; status?: 'online' | 'waiting' | 'working' | 'idle'; detail?: string } = {},
  ) {
    return this.rpc(
      'mc_heartbeat',
      { p_meshwork: meshwork, p_agent: agent, p_session: opts.session, p_status: opts.status, p_detail: opts.detail },
      Agent,
    );
  }
  disconnect(meshwork: string, agent: string, session?: string) {
    return this.rpc('mc_disconnect', { p_meshwork: meshwork, p_agent: agent, p_session: session });
  }
  send(input: SendInput) {
    return this.rpc(
      'mc_send',
      {
        p_meshwork: input.meshwork,
        p_to: input.to,
        p_body: input.body,
        p_from: input.from,
        p_kind: input.kind,
        p_thread_id: input.threadId,
        p_reply_to: input.replyTo,
        p_idempotency_key: input.idempotencyKey,
        p_deadline_seconds: input.deadlineSeconds,
        p_data: input.data,
      },
      SendResult,
    );
  }
  /** Long-poll the inbox: returns at once when messages with seq > afterSeq exist, else waits up to timeoutSeconds. */
  wait(opts: {
    meshwork: string;
    agent?: string;
    afterSeq?: number;
    timeoutSeconds?: number;
    limit?: number;
    signal?: AbortSignal;
  }) {
    return this.rpc(
      'mc_wait',
      {
        p_meshwork: opts.meshwork,
        p_agent: opts.agent,
        p_after_seq: opts.afterSeq,
        p_timeout_seconds: opts.timeoutSeconds,
        p_limit: opts.limit,
      },
      WaitResult,
      opts.signal,
    );
  }
  waitReply(opts: {
    meshwork: string;
    agent?: string;
    messageId: string;
    timeoutSeconds?: number;
    signal?: AbortSignal;
  }) {
    return this.rpc(
      'mc_wait_reply',
      {
        p_meshwork: opts.meshwork,
        p_agent: opts.agent,
        p_message_id: opts.messageId,
        p_timeout_seconds: opts.timeoutSeconds,
      },
      ReplyResult,
      opts.signal,
    );
  }
  ack(meshwork: string, agent: string | undefined, seq: number) {
    return this.rpc('mc_ack', { p_meshwork: meshwork, p_agent: agent, p_seq: seq }, z.object({ cursor: z.number() }));
  }
  /** How long the project's history (chat, activity, finished tasks, events) is kept: read it, or (owner) set days, or 0 to keep everything. */
  retention(meshwork: string, days?: number) {
    return this.rpc(
      'mc_retention',
      { p_meshwork: meshwork, p_days: days },
      z.object({ meshwork: z.string(), retention_days: z.number().nullable() }),
    );
  }
  /**
   * Delete a project and everything in it (owner's account key only). `confirm` must be the project's name; keys
   * scoped to it are revoked. Cannot be undone.
   */
  deleteMeshwork(meshwork: string, confirm: string) {
    return this.rpc(
      'mc_delete_meshwork',
      { p_meshwork: meshwork, p_confirm: confirm },
      z.object({ deleted: z.literal(true), meshwork: z.string(), agents: z.number(), keys_revoked: z.number() }),
    );
  }
  history(meshwork: string, opts: { before?: string; limit?: number; threadId?: string; agent?: string } = {}) {
    return this.rpc(
      'mc_history',
      {
        p_meshwork: meshwork,
        p_before: opts.before,
        p_limit: opts.limit,
        p_thread_id: opts.threadId,
        p_agent: opts.agent,
      },
      z.array(Message),
    );
  }
  createTask(
    meshwork: string,
    task: {
      title: string;
      body?: string;
      priority?: Task['priority'];
      assignee?: string;
      dedupKey?: string;
      maxAttempts?: number;
      agent?: string;
    },
  ) {
    return this.rpc(
      'mc_task_create',
      {
        p_meshwork: meshwork,
        p_title: task.title,
        p_body: task.body,
        p_priority: task.priority,
        p_assignee: task.assignee,
        p_dedup_key: task.dedupKey,
        p_max_attempts: task.maxAttempts,
        p_agent: task.agent,
      },
      Task,
    );
  }
  listTasks(meshwork: string, opts: { status?: Task['status'] | 'active'; assignee?: string; limit?: number } = {}) {
    return this.rpc(
      'mc_task_list',
      { p_meshwork: meshwork, p_status: opts.status, p_assignee: opts.assignee, p_limit: opts.limit },
      z.array(Task),
    );
  }
  claimTask(meshwork: string, opts: { agent?: string; taskId?: string; leaseSeconds?: number } = {}) {
    return this.rpc(
      'mc_task_claim',
      { p_meshwork: meshwork, p_agent: opts.agent, p_task_id: opts.taskId, p_lease_seconds: opts.leaseSeconds },
      z.object({ task: Task.nullable() }),
    );
  }
  updateTask(meshwork: string, taskId: string, u: TaskUpdate) {
    return this.rpc(
      'mc_task_update',
      {
        p_meshwork: meshwork,
        p_task_id: taskId,
        p_status: u.status,
        p_progress: u.progress,
        p_result: u.result,
        p_title: u.title,
        p_body: u.body,
        p_priority: u.priority,
        p_assignee: u.assignee,
        p_agent: u.agent,
        p_lease_seconds: u.leaseSeconds,
      },
      Task,
    );
  }
  remember(meshwork: string, agent: string | undefined, key: string, value: string) {
    return this.rpc(
      'mc_memory_set',
      { p_meshwork: meshwork, p_agent: agent, p_key: key, p_value: value },
      z.object({ ok: z.boolean(), key: z.string(), keys: z.number() }),
    );
  }
  recall(meshwork: string, agent: string | undefined, key: string) {
    return this.rpc(
      'mc_memory_get',
      { p_meshwork: meshwork, p_agent: agent, p_key: key },
      z.object({ ok: z.boolean(), found: z.boolean(), key: z.string(), value: z.string().nullable() }),
    );
  }
  recallAll(meshwork: string, agent?: string) {
    return this.rpc(
      'mc_memory_get',
      { p_meshwork: meshwork, p_agent: agent },
      z.object({ ok: z.boolean(), memories: z.array(MemoryEntry) }),
    );
  }
  forget(meshwork: string, agent: string | undefined, key: string) {
    return this.rpc(
      'mc_memory_delete',
      { p_meshwork: meshwork, p_agent: agent, p_key: key },
      z.object({ ok: z.boolean(), deleted: z.boolean() }),
    );
  }
  scratchpadSet(meshwork: string, key: string, value: string, agent?: string) {
    return this.rpc('mc_scratchpad_set', { p_meshwork: meshwork, p_key: key, p_value: value, p_agent: agent });
  }
  scratchpadGet(meshwork: string, key?: string) {
    return this.rpc(
      'mc_scratchpad_get',
      { p_meshwork: meshwork, p_key: key },
      z.object({
        ok: z.boolean(),
        found: z.boolean().optional(),
        value: z.string().nullable().optional(),
        entries: z.array(ScratchpadEntry).optional(),
      }),
    );
  }
  scratchpadDelete(meshwork: string, key: string, agent?: string) {
    return this.rpc('mc_scratchpad_delete', { p_meshwork: meshwork, p_key: key, p_agent: agent });
  }
  activity(meshwork: string, opts: { agent?: string; afterId?: number; beforeId?: number; limit?: number } = {}) {
    return this.rpc(
      'mc_activity',
      {
        p_meshwork: meshwork,
        p_agent: opts.agent,
        p_after_id: opts.afterId,
        p_before_id: opts.beforeId,
        p_limit: opts.limit,
      },
      z.array(ActivityRow),
    );
  }
  logActivity(
    meshwork: string,
    agent: string | undefined,
    kind: 'tool_call' | 'note',
    summary: string,
    data: Record<string, unknown> = {},
  ) {
    return this.rpc('mc_log_activity', {
      p_meshwork: meshwork,
      p_agent: agent,
      p_kind: kind,
      p_summary: summary,
      p_data: data,
    });
  }
  createKey(meshwork: string, agent: string, opts: { label?: string; days?: number } = {}) {
    return this.rpc(
      'mc_create_key',
      { p_meshwork: meshwork, p_agent: agent, p_label: opts.label, p_days: opts.days },
      z.object({
        id: z.string(),
        key: z.string(),
        prefix: z.string(),
        kind: z.string(),
        expires_at: z.string().nullable(),
      }),
    );
  }
  revokeKey(keyId: string) {
    return this.rpc('mc_revoke_key', { p_key_id: keyId });
  }
}

export function createMeshClient(opts: MeshClientOptions): MeshClient {
  return new MeshClient(opts);
}
