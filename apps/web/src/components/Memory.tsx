'use client';
// Per-agent memory and the project's shared scratchpad: view, add, edit and delete within the tools' limits
// (the hub enforces them; its sentence is shown when a change is refused).
import { useQueryClient } from '@tanstack/react-query';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { rpc } from '../lib/api';
import { ago, bytes } from '../lib/format';
import { projectHref, useNow } from '../lib/hooks';
import { keys, useMemory, useScratchpad } from '../lib/queries';
import { LIMITS, type MemoryEntry, type StatusBoard } from '../lib/types';
import { Empty, ErrorState, InlineError, Loading } from './States';

const SCRATCHPAD = '*scratchpad';

interface Target {
  kind: 'memory' | 'scratchpad';
  agent: string | null;
  maxKeys: number;
}

function ByteCount({ text, max, id }: { text: string; max: number; id: string }) {
  const n = bytes(text);
  return (
    <span id={id} className={`bytes small${n > max ? ' over' : ''}`}>
      {n.toLocaleString()} / {max.toLocaleString()} bytes
    </span>
  );
}

function useSave(project: string, target: Target) {
  const qc = useQueryClient();
  const key = target.kind === 'memory' ? keys.memory(project, target.agent ?? '') : keys.scratchpad(project);
  return {
    set: async (k: string, value: string) => {
      await (target.kind === 'memory'
        ? rpc('mc_memory_set', { p_meshwork: project, p_agent: target.agent, p_key: k, p_value: value })
        : rpc('mc_scratchpad_set', { p_meshwork: project, p_key: k, p_value: value }));
      await qc.invalidateQueries({ queryKey: key });
    },
    remove: async (k: string) => {
      await (target.kind === 'memory'
        ? rpc('mc_memory_delete', { p_meshwork: project, p_agent: target.agent, p_key: k })
        : rpc('mc_scratchpad_delete', { p_meshwork: project, p_key: k }));
      await qc.invalidateQueries({ queryKey: key });
    },
  };
}

function Entry({
  project,
  target,
  entry,
  updatedBy,
  now,
}: {
  project: string;
  target: Target;
  entry: MemoryEntry;
  updatedBy?: string;
  now: number;
}) {
  const save = useSave(project, target);
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(entry.value);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const confirmTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (confirmTimer.current && clearTimeout(confirmTimer.current)), []);
  useEffect(() => {
    if (!editing) setValue(entry.value);
  }, [entry.value, editing]);
  const id = `v-${entry.key.replace(/[^a-zA-Z0-9_-]/g, '_')}`;

  return (
    <li className="card kv" data-key={entry.key}>
      <div className="kv-head">
        <code className="kv-key">{entry.key}</code>
        <span className="small muted">
          {updatedBy ? `by ${updatedBy} · ` : ''}
          {ago(entry.updated_at, now)}
        </span>
        <span className="kv-actions">
          {!editing && (
            <button
              type="button"
              className="btn btn-small"
              onClick={() => setEditing(true)}
              aria-label={`Edit ${entry.key}`}
            >
              Edit
            </button>
          )}
          <button
            type="button"
            className={`btn btn-small${confirm ? ' btn-danger' : ''}`}
            aria-label={confirm ? `Confirm deleting ${entry.key}` : `Delete ${entry.key}`}
            disabled={busy}
            onClick={() => {
              if (!confirm) {
                setConfirm(true);
                confirmTimer.current = setTimeout(() => setConfirm(false), 4000);
                return;
              }
              setBusy(true);
              save.remove(entry.key).catch((e: unknown) => {
                setError(e);
                setBusy(false);
              });
            }}
          >
            {confirm ? 'Confirm delete' : 'Delete'}
          </button>
        </span>
      </div>
      {editing ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            save
              .set(entry.key, value)
              .then(() => setEditing(false))
              .catch(setError)
              .finally(() => setBusy(false));
          }}
        >
          <textarea
            aria-label={`Value of ${entry.key}`}
            aria-describedby={`${id}-bytes`}
            rows={Math.min(12, Math.max(3, value.split('\n').length + 1))}
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
          <div className="kv-edit-actions">
            <ByteCount text={value} max={LIMITS.valueBytes} id={`${id}-bytes`} />
            <button
              type="button"
              className="btn btn-ghost btn-small"
              onClick={() => {
                setEditing(false);
                setError(null);
              }}
            >
              Cancel
            </button>
            <button type="submit" className="btn btn-primary btn-small" disabled={busy}>
              Save {entry.key}
            </button>
          </div>
        </form>
      ) : (
        <pre className="kv-value">{entry.value}</pre>
      )}
      <InlineError error={error} />
    </li>
  );
}

function AddEntry({ project, target, count }: { project: string; target: Target; count: number }) {
  const save = useSave(project, target);
  const [k, setK] = useState('');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      className="card add-kv"
      aria-label={target.kind === 'memory' ? `Add a memory for ${target.agent ?? ''}` : 'Add a scratchpad entry'}
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        save
          .set(k, value)
          .then(() => {
            setK('');
            setValue('');
          })
          .catch(setError)
          .finally(() => setBusy(false));
      }}
    >
      <div className="form-row form-row-inline">
        <label htmlFor="kv-key">Key</label>
        <input id="kv-key" value={k} onChange={(e) => setK(e.target.value)} placeholder="conventions" required />
        <span className="small muted">
          {count} / {target.maxKeys} keys
        </span>
      </div>
      <div className="form-row">
        <label htmlFor="kv-value">Value</label>
        <textarea
          id="kv-value"
          rows={3}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-describedby="kv-value-bytes"
        />
      </div>
      <div className="kv-edit-actions">
        <ByteCount text={value} max={LIMITS.valueBytes} id="kv-value-bytes" />
        <button type="submit" className="btn btn-primary btn-small" disabled={busy || k.trim() === ''}>
          {target.kind === 'memory' ? 'Remember' : 'Save to scratchpad'}
        </button>
      </div>
      <InlineError error={error} />
    </form>
  );
}

function Entries({ project, target }: { project: string; target: Target }) {
  const memory = useMemory(project, target.kind === 'memory' ? target.agent : null);
  const scratch = useScratchpad(project, target.kind === 'scratchpad');
  const q = target.kind === 'memory' ? memory : scratch;
  const now = useNow(15_000);
  const [filter, setFilter] = useState('');
  if (q.isPending) return <Loading label="Loading…" />;
  if (q.error) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  const entries = (q.data ?? []) as (MemoryEntry & { updated_by?: string })[];
  const shown = filter ? entries.filter((e) => e.key.includes(filter) || e.value.includes(filter)) : entries;
  return (
    <>
      <AddEntry project={project} target={target} count={entries.length} />
      {entries.length > 10 && (
        <input
          className="filter"
          type="search"
          aria-label="Filter keys and values"
          placeholder="Filter"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
      )}
      {entries.length === 0 ? (
        <Empty
          title={
            target.kind === 'memory'
              ? `${target.agent ?? 'This agent'} remembers nothing yet`
              : 'The scratchpad is empty'
          }
        >
          <p>
            {target.kind === 'memory'
              ? 'Agents keep notes with meshcode_remember; you can add one above. Each agent keeps up to 100 keys of up to 10 KB.'
              : 'Agents share notes here with meshcode_scratchpad_set; up to 500 keys of up to 10 KB each.'}
          </p>
        </Empty>
      ) : (
        <ul className="kv-list">
          {shown.map((e) => (
            <Entry key={e.key} project={project} target={target} entry={e} updatedBy={e.updated_by} now={now} />
          ))}
        </ul>
      )}
    </>
  );
}

export function MemoryView({ project, board }: { project: string; board: StatusBoard }) {
  const params = useSearchParams();
  const router = useRouter();
  const wanted = params.get('agent');
  const selected =
    wanted === SCRATCHPAD || board.agents.some((a) => a.name === wanted)
      ? wanted
      : (board.agents[0]?.name ?? SCRATCHPAD);
  const target: Target =
    selected === SCRATCHPAD || selected === null
      ? { kind: 'scratchpad', agent: null, maxKeys: LIMITS.scratchpadKeys }
      : { kind: 'memory', agent: selected, maxKeys: LIMITS.memoryKeys };
  const choose = (v: string) => router.replace(projectHref(project, 'memory', { agent: v }));

  return (
    <section className="memory" aria-labelledby="memory-title">
      <div className="view-head">
        <h2 id="memory-title">Memory</h2>
        <p className="small muted">
          Per-agent memory (100 keys, 10 KB per value) and the shared scratchpad (500 keys).
        </p>
      </div>
      <div className="memory-body">
        <nav className="memory-nav" aria-label="Whose memory">
          <ul>
            {board.agents.map((a) => (
              <li key={a.id}>
                <button
                  type="button"
                  className="memory-pick"
                  aria-current={selected === a.name ? 'true' : undefined}
                  onClick={() => choose(a.name)}
                >
                  {a.name}
                </button>
              </li>
            ))}
            <li>
              <button
                type="button"
                className="memory-pick"
                aria-current={selected === SCRATCHPAD ? 'true' : undefined}
                onClick={() => choose(SCRATCHPAD)}
              >
                Shared scratchpad
              </button>
            </li>
          </ul>
        </nav>
        <div className="memory-main">
          <h3>{target.kind === 'memory' ? `Memory of ${target.agent ?? ''}` : 'Shared scratchpad'}</h3>
          <Entries key={selected ?? ''} project={project} target={target} />
        </div>
      </div>
    </section>
  );
}
