// Wire shapes of RPC results. The SDK validates every result against these, so a drifting hub fails loudly.
import { z } from 'zod';

export const PresenceStatus = z.enum(['online', 'waiting', 'working', 'idle', 'offline']);
export type PresenceStatus = z.infer<typeof PresenceStatus>;

export const Agent = z.object({
  id: z.string().uuid(),
  name: z.string(),
  role: z.string(),
  kind: z.enum(['editor', 'worker', 'daemon']),
  editor: z.string().nullable(),
  status: PresenceStatus,
  status_detail: z.string(),
  last_seen_at: z.string().nullable(),
  session_host: z.string().nullable(),
  created_at: z.string(),
});
export type Agent = z.infer<typeof Agent>;

export const AgentDetail = Agent.extend({
  launch_prompt: z.string(),
  meshwork: z.string(),
  meshwork_id: z.string().uuid(),
  inbox_seq: z.number(),
  acked_seq: z.number(),
});
export type AgentDetail = z.infer<typeof AgentDetail>;

export const Connected = Agent.extend({
  launch_prompt: z.string(),
  cursor: z.number(),
  took_over: z.boolean(),
  meshwork: z.string(),
  meshwork_id: z.string().uuid(),
});
export type Connected = z.infer<typeof Connected>;

export const Meshwork = z.object({
  id: z.string().uuid(),
  name: z.string(),
  role: z.enum(['owner', 'member', 'guest']),
  owner: z.string().nullable(),
  created_at: z.string(),
  agents: z.array(Agent),
});
export type Meshwork = z.infer<typeof Meshwork>;

export const MessageKind = z.enum(['message', 'ask', 'reply', 'system', 'event']);
export const Message = z.object({
  seq: z.number().optional(),
  id: z.string().uuid(),
  from: z.string(),
  from_display_name: z.string().optional(),
  to: z.string().optional(),
  kind: MessageKind,
  body: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
  thread_id: z.string().uuid(),
  reply_to: z.string().uuid().optional(),
  deadline_at: z.string().optional(),
  created_at: z.string(),
});
export type Message = z.infer<typeof Message>;

export const SendResult = z.object({
  id: z.string().uuid(),
  thread_id: z.string().uuid(),
  duplicate: z.boolean(),
  recipients: z.number(),
});
export type SendResult = z.infer<typeof SendResult>;

export const WaitResult = z.object({
  agent: z.string(),
  agent_id: z.string().uuid(),
  /** The seq this page was read after: everything up to it is acknowledged. */
  cursor: z.number(),
  messages: z.array(Message),
  /** The newest seq in the inbox, which the page holds only when has_more is false: acknowledge by the last message's seq instead. */
  last_seq: z.number(),
  has_more: z.boolean(),
});
export type WaitResult = z.infer<typeof WaitResult>;

export const ReplyResult = z.object({
  agent_id: z.string().uuid(),
  reply: Message.nullable(),
  deadline_at: z.string().nullable(),
  expired: z.boolean(),
});
export type ReplyResult = z.infer<typeof ReplyResult>;

export const StatusBoard = z.object({
  meshwork: z.string(),
  meshwork_id: z.string().uuid(),
  spectating: z.boolean().optional(),
  agents: z.array(
    Agent.extend({
      current_task: z.object({ id: z.string().uuid(), title: z.string(), progress: z.number() }).nullable(),
      unread: z.number(),
    }),
  ),
});
export type StatusBoard = z.infer<typeof StatusBoard>;

export const TaskStatus = z.enum(['open', 'claimed', 'in_progress', 'blocked', 'done', 'failed', 'cancelled', 'dead']);
export const TaskPriority = z.enum(['low', 'normal', 'high', 'urgent']);
export const Task = z.object({
  id: z.string().uuid(),
  title: z.string(),
  body: z.string(),
  status: TaskStatus,
  priority: TaskPriority,
  assignee: z.string().nullable(),
  created_by: z.string(),
  progress: z.number(),
  result: z.string().nullable(),
  attempts: z.number(),
  max_attempts: z.number(),
  lease_expires_at: z.string().nullable(),
  dedup_key: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  duplicate: z.boolean().optional(),
});
export type Task = z.infer<typeof Task>;

export const ActivityRow = z.object({
  id: z.number(),
  agent: z.string().nullable(),
  kind: z.string(),
  summary: z.string(),
  data: z.record(z.string(), z.unknown()),
  created_at: z.string(),
});
export type ActivityRow = z.infer<typeof ActivityRow>;

export const MemoryEntry = z.object({ key: z.string(), value: z.string(), updated_at: z.string() });
export const ScratchpadEntry = MemoryEntry.extend({ updated_by: z.string() });

export const Whoami = z.object({
  account: z.object({ id: z.string().uuid(), email: z.string(), display_name: z.string() }),
  key: z.object({
    id: z.string().nullable().optional(),
    scope: z.enum(['owner', 'agent', 'invite']),
    meshwork: z.string().nullable().optional(),
    meshwork_id: z.string().nullable().optional(),
    agent: z.string().nullable().optional(),
  }),
});
export type Whoami = z.infer<typeof Whoami>;

export const SignupResult = z.object({
  account: z.object({ id: z.string().uuid(), email: z.string(), display_name: z.string() }),
  key: z.string(),
  key_id: z.string().uuid(),
});
export type SignupResult = z.infer<typeof SignupResult>;
