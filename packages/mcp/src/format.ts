// How meshcode_wait shows a message to the model: who, which thread, what kind, and the exact call that answers it.
import type { Message } from '@meshcode/protocol';
import type { PendingItem } from './tool';

export interface ShownItem {
  kind: string;
  id: string;
  from: string;
  thread_id: string;
  body: string;
  broadcast?: true;
  reply_to?: string;
  deadline_at?: string;
  task?: { id: string; title: string; priority?: string; status?: string };
  answer: string;
}

function taskOf(m: Message): { id: string; title: string; body?: string; priority?: string; status?: string } | null {
  const data = m.data;
  if (m.kind !== 'system' || !data || typeof data.task_id !== 'string') return null;
  const t = (data.task ?? {}) as { title?: unknown; body?: unknown; priority?: unknown; status?: unknown };
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    id: data.task_id,
    title: str(t.title) ?? m.body,
    body: str(t.body),
    priority: str(t.priority),
    status: str(t.status),
  };
}

const q = (s: string) => JSON.stringify(s);

export function showMessage(m: Message): { item: ShownItem; pending?: PendingItem } {
  const base = {
    id: m.id,
    from: m.from,
    thread_id: m.thread_id,
    ...(m.to === '*' ? { broadcast: true as const } : {}),
  };
  const task = taskOf(m);
  if (task) {
    const finished = task.status === 'done' || task.status === 'cancelled' || task.status === 'failed';
    return {
      item: {
        kind: 'task',
        ...base,
        body: task.body ? `${m.body}\n${task.body}` : m.body,
        task: { id: task.id, title: task.title, priority: task.priority, status: task.status },
        answer: finished
          ? 'nothing to do: the task is closed'
          : `when finished: meshcode_done(task_id=${q(task.id)}, result="…"); progress meanwhile: meshcode_task_update(task_id=${q(task.id)}, progress=50)`,
      },
      pending: finished ? undefined : { kind: 'task', taskId: task.id, title: task.title },
    };
  }
  switch (m.kind) {
    case 'ask':
      return {
        item: {
          kind: 'ask',
          ...base,
          body: m.body,
          ...(m.deadline_at ? { deadline_at: m.deadline_at } : {}),
          answer: `${m.from} is waiting for your answer: meshcode_done(reply_to=${q(m.id)}, result="…")`,
        },
        pending: { kind: 'ask', id: m.id, from: m.from },
      };
    case 'reply':
      return {
        item: {
          kind: 'reply',
          ...base,
          body: m.body,
          ...(m.reply_to ? { reply_to: m.reply_to } : {}),
          answer: `the answer to your ask ${m.reply_to ?? ''}; follow up with meshcode_send(to=${q(m.from)}, thread_id=${q(m.thread_id)}, body="…") if needed`,
        },
      };
    case 'system':
      return { item: { kind: 'system', ...base, body: m.body, answer: 'for your information; no answer expected' } };
    default:
      return {
        item: {
          kind: m.kind,
          ...base,
          body: m.body,
          answer:
            m.from === 'overseer'
              ? `from the human overseer; answer with meshcode_send(to="overseer", thread_id=${q(m.thread_id)}, body="…") if needed`
              : `answer if needed: meshcode_send(to=${q(m.from)}, thread_id=${q(m.thread_id)}, body="…")`,
        },
      };
  }
}
