'use client';
// The task board: a column per status; create, edit and move tasks (drag a card, or use its "Move to" menu).
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { rpc } from '../lib/api';
import { ago, truncate } from '../lib/format';
import { useNow } from '../lib/hooks';
import { keys, useTasks } from '../lib/queries';
import { PRIORITIES, type StatusBoard, type Task, type TaskPriority, type TaskStatus } from '../lib/types';
import { Empty, ErrorState, InlineError, Loading } from './States';

const COLUMNS: { id: string; label: string; statuses: TaskStatus[]; dropAs: TaskStatus }[] = [
  { id: 'open', label: 'Open', statuses: ['open'], dropAs: 'open' },
  { id: 'claimed', label: 'Claimed', statuses: ['claimed'], dropAs: 'claimed' },
  { id: 'in_progress', label: 'In progress', statuses: ['in_progress'], dropAs: 'in_progress' },
  { id: 'blocked', label: 'Blocked', statuses: ['blocked'], dropAs: 'blocked' },
  { id: 'done', label: 'Done', statuses: ['done'], dropAs: 'done' },
  { id: 'closed', label: 'Failed / cancelled', statuses: ['failed', 'cancelled', 'dead'], dropAs: 'cancelled' },
];
/** What a person may set (dead is the pipeline's verdict after the last attempt). */
const SETTABLE: TaskStatus[] = ['open', 'claimed', 'in_progress', 'blocked', 'done', 'failed', 'cancelled'];
const STATUS_LABEL: Record<TaskStatus, string> = {
  open: 'Open',
  claimed: 'Claimed',
  in_progress: 'In progress',
  blocked: 'Blocked',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  dead: 'Dead (out of attempts)',
};

function useUpdateTask(project: string) {
  const qc = useQueryClient();
  return async (task: Task, changes: Record<string, unknown>) => {
    // Show the move at once; the hub's answer (or the feed) settles it.
    qc.setQueryData<Task[]>(keys.tasks(project), (old) =>
      old?.map((t) =>
        t.id === task.id
          ? ({
              ...t,
              ...(typeof changes.p_status === 'string' ? { status: changes.p_status as TaskStatus } : {}),
            } as Task)
          : t,
      ),
    );
    try {
      await rpc<Task>('mc_task_update', { p_meshwork: project, p_task_id: task.id, ...changes });
    } finally {
      await qc.invalidateQueries({ queryKey: keys.tasks(project) });
    }
  };
}

function NewTask({ project, board }: { project: string; board: StatusBoard }) {
  const qc = useQueryClient();
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [priority, setPriority] = useState<TaskPriority>('normal');
  const [assignee, setAssignee] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      className="new-task card"
      aria-label="New task"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        rpc('mc_task_create', {
          p_meshwork: project,
          p_title: title,
          p_body: body,
          p_priority: priority,
          p_assignee: assignee || undefined,
        })
          .then(async () => {
            setTitle('');
            setBody('');
            await qc.invalidateQueries({ queryKey: keys.tasks(project) });
          })
          .catch(setError)
          .finally(() => setBusy(false));
      }}
    >
      <div className="form-row">
        <label htmlFor="task-title">Title</label>
        <input
          id="task-title"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          placeholder="What needs doing?"
          required
          maxLength={500}
        />
      </div>
      <div className="form-row">
        <label htmlFor="task-body">Details</label>
        <textarea id="task-body" rows={2} value={body} onChange={(e) => setBody(e.target.value)} />
      </div>
      <div className="form-row form-row-inline">
        <label htmlFor="task-priority">Priority</label>
        <select id="task-priority" value={priority} onChange={(e) => setPriority(e.target.value as TaskPriority)}>
          {PRIORITIES.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
        <label htmlFor="task-assignee">Assignee</label>
        <select id="task-assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
          <option value="">nobody yet</option>
          {board.agents.map((a) => (
            <option key={a.id} value={a.name}>
              {a.name}
            </option>
          ))}
        </select>
        <button type="submit" className="btn btn-primary" disabled={busy || title.trim() === ''}>
          Add task
        </button>
      </div>
      <InlineError error={error} />
    </form>
  );
}

function EditTask({
  project,
  board,
  task,
  onClose,
}: {
  project: string;
  board: StatusBoard;
  task: Task;
  onClose: () => void;
}) {
  const update = useUpdateTask(project);
  const ref = useRef<HTMLDialogElement>(null);
  const [title, setTitle] = useState(task.title);
  const [body, setBody] = useState(task.body);
  const [priority, setPriority] = useState(task.priority);
  const [assignee, setAssignee] = useState(task.assignee ?? '');
  const [status, setStatus] = useState(task.status);
  const [progress, setProgress] = useState(task.progress);
  const [result, setResult] = useState(task.result ?? '');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);

  const save = () => {
    const changes: Record<string, unknown> = {};
    if (title !== task.title) changes.p_title = title;
    if (body !== task.body) changes.p_body = body;
    if (priority !== task.priority) changes.p_priority = priority;
    if (assignee !== (task.assignee ?? '')) changes.p_assignee = assignee;
    if (status !== task.status) changes.p_status = status;
    if (progress !== task.progress) changes.p_progress = progress;
    if (result !== (task.result ?? '')) changes.p_result = result;
    if (Object.keys(changes).length === 0) return onClose();
    setBusy(true);
    setError(null);
    update(task, changes).then(onClose, (err: unknown) => {
      setError(err);
      setBusy(false);
    });
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby="edit-task-title" onClose={onClose}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <h3 id="edit-task-title">Edit task</h3>
        <div className="form-row">
          <label htmlFor="edit-title">Title</label>
          <input id="edit-title" value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={500} />
        </div>
        <div className="form-row">
          <label htmlFor="edit-body">Details</label>
          <textarea id="edit-body" rows={4} value={body} onChange={(e) => setBody(e.target.value)} />
        </div>
        <div className="form-row form-row-inline">
          <label htmlFor="edit-status">Status</label>
          <select id="edit-status" value={status} onChange={(e) => setStatus(e.target.value as TaskStatus)}>
            {(SETTABLE.includes(task.status) ? SETTABLE : [task.status, ...SETTABLE]).map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </select>
          <label htmlFor="edit-priority">Priority</label>
          <select id="edit-priority" value={priority} onChange={(e) => setPriority(e.target.value as TaskPriority)}>
            {PRIORITIES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
          <label htmlFor="edit-assignee">Assignee</label>
          <select id="edit-assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
            <option value="">nobody</option>
            {board.agents.map((a) => (
              <option key={a.id} value={a.name}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <div className="form-row form-row-inline">
          <label htmlFor="edit-progress">Progress</label>
          <input
            id="edit-progress"
            type="range"
            min={0}
            max={100}
            step={5}
            value={progress}
            onChange={(e) => setProgress(Number(e.target.value))}
          />
          <output htmlFor="edit-progress">{progress}%</output>
        </div>
        <div className="form-row">
          <label htmlFor="edit-result">Result</label>
          <textarea id="edit-result" rows={2} value={result} onChange={(e) => setResult(e.target.value)} />
        </div>
        <InlineError error={error} />
        <div className="dialog-actions">
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || title.trim() === ''}>
            Save task
          </button>
        </div>
      </form>
    </dialog>
  );
}

function TaskCard({
  project,
  task,
  now,
  onEdit,
  onError,
}: {
  project: string;
  task: Task;
  now: number;
  onEdit: () => void;
  onError: (e: unknown) => void;
}) {
  const update = useUpdateTask(project);
  return (
    <li
      className={`card task task-${task.priority}`}
      draggable
      onDragStart={(e) => {
        e.dataTransfer.setData('text/x-task', task.id);
        e.dataTransfer.effectAllowed = 'move';
      }}
      aria-label={`${task.title}, ${STATUS_LABEL[task.status]}, ${task.priority} priority`}
      data-task={task.id}
    >
      <div className="task-head">
        <span className={`prio prio-${task.priority}`}>{task.priority}</span>
        <button type="button" className="btn btn-link btn-small" onClick={onEdit} aria-label={`Edit ${task.title}`}>
          Edit
        </button>
      </div>
      <p className="task-title">{task.title}</p>
      {task.body && <p className="task-body small muted">{truncate(task.body, 140)}</p>}
      <p className="task-meta small">
        <span>{task.assignee ? `@${task.assignee}` : 'unassigned'}</span>
        <span className="muted">{ago(task.updated_at, now)}</span>
      </p>
      {(task.progress > 0 || task.status === 'in_progress') && (
        <progress max={100} value={task.progress} aria-label={`Progress of ${task.title}: ${task.progress}%`}>
          {task.progress}%
        </progress>
      )}
      {task.status === 'dead' || task.status === 'failed' ? (
        <p className="small muted">
          {STATUS_LABEL[task.status]} after {task.attempts} of {task.max_attempts} attempts
        </p>
      ) : null}
      <label className="sr-only" htmlFor={`move-${task.id}`}>
        Move {task.title} to
      </label>
      <select
        id={`move-${task.id}`}
        className="task-move"
        value={task.status}
        onChange={(e) => void update(task, { p_status: e.target.value }).catch(onError)}
      >
        {(SETTABLE.includes(task.status) ? SETTABLE : [task.status, ...SETTABLE]).map((s) => (
          <option key={s} value={s}>
            {STATUS_LABEL[s]}
          </option>
        ))}
      </select>
    </li>
  );
}

export function TasksBoard({ project, board }: { project: string; board: StatusBoard }) {
  const tasks = useTasks(project);
  const update = useUpdateTask(project);
  const now = useNow(15_000);
  const [editing, setEditing] = useState<Task | null>(null);
  const [over, setOver] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  return (
    <section className="tasks" aria-labelledby="tasks-title">
      <div className="view-head">
        <h2 id="tasks-title">Tasks</h2>
        <span className="small muted">{tasks.data ? `${tasks.data.length} tasks` : ''}</span>
      </div>
      <NewTask project={project} board={board} />
      <InlineError error={error} />
      {tasks.isPending ? (
        <Loading label="Loading tasks…" />
      ) : tasks.error ? (
        <ErrorState error={tasks.error} retry={() => void tasks.refetch()} />
      ) : tasks.data.length === 0 ? (
        <Empty title="The board is empty">
          <p>
            Add a task above, or let agents create them with meshcode_tasks; webhooks and schedules add tasks here too.
          </p>
        </Empty>
      ) : (
        <div className="board">
          {COLUMNS.map((col) => {
            const items = tasks.data.filter((t) => col.statuses.includes(t.status));
            return (
              <section
                key={col.id}
                className={`column${over === col.id ? ' column-over' : ''}`}
                aria-labelledby={`col-${col.id}`}
                data-column={col.id}
                onDragOver={(e) => {
                  e.preventDefault();
                  setOver(col.id);
                }}
                onDragLeave={() => setOver((o) => (o === col.id ? null : o))}
                onDrop={(e) => {
                  e.preventDefault();
                  setOver(null);
                  const id = e.dataTransfer.getData('text/x-task');
                  const task = tasks.data.find((t) => t.id === id);
                  if (task && !col.statuses.includes(task.status)) {
                    setError(null);
                    update(task, { p_status: col.dropAs }).catch(setError);
                  }
                }}
              >
                <h3 id={`col-${col.id}`}>
                  {col.label} <span className="count">{items.length}</span>
                </h3>
                <ul className="column-list">
                  {items.map((t) => (
                    <TaskCard
                      key={t.id}
                      project={project}
                      task={t}
                      now={now}
                      onEdit={() => setEditing(t)}
                      onError={setError}
                    />
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
      )}
      {editing && <EditTask project={project} board={board} task={editing} onClose={() => setEditing(null)} />}
    </section>
  );
}
