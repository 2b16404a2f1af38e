'use client';
// One agent's session as a timeline — every tool call, message, status change, task and memory edit from the
// activity log — played back with play, pause, step, scrub and speed. New steps join live at the end.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useMemo, useRef, useState } from 'react';
import { clock, dateTime } from '../lib/format';
import { projectHref } from '../lib/hooks';
import { useAgentActivity } from '../lib/queries';
import type { ActivityRow, StatusBoard } from '../lib/types';
import { Empty, ErrorState, Loading } from './States';

const SPEEDS = [0.5, 1, 2, 4, 8, 16];
/** Real gaps between steps, scaled by speed, but never a long wait for nothing. */
const MIN_STEP_MS = 60;
const MAX_STEP_MS = 1500;

const KIND_LABEL: Record<string, string> = {
  tool_call: 'tool call',
  message: 'message',
  status: 'status',
  task: 'task',
  memory: 'memory',
  scratchpad: 'scratchpad',
  note: 'note',
  agent: 'agent',
  key: 'key',
};

function Kind({ kind }: { kind: string }) {
  return <span className={`kind kind-${kind}`}>{KIND_LABEL[kind] ?? kind}</span>;
}

const ICONS = {
  first: 'M6 5h2v14H6zM20 5v14L9 12z',
  prev: 'M18 5v14L7 12z',
  play: 'M7 5v14l12-7z',
  pause: 'M7 5h4v14H7zM13 5h4v14h-4z',
  next: 'M6 5v14l11-7z',
  last: 'M16 5h2v14h-2zM4 5v14l11-7z',
};

function Icon({ d }: { d: string }) {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="currentColor">
      <path d={d} />
    </svg>
  );
}

function statusAt(rows: ActivityRow[], i: number): string | null {
  for (let j = i; j >= 0; j--) {
    const r = rows[j];
    if (r?.kind === 'status' && typeof r.data.status === 'string') return r.data.status;
  }
  return null;
}

export function Replay({ project, board }: { project: string; board: StatusBoard }) {
  const params = useSearchParams();
  const router = useRouter();
  const fallback = board.agents.find((a) => a.name === 'commander')?.name ?? board.agents[0]?.name ?? null;
  const wanted = params.get('agent');
  const agent = wanted && board.agents.some((a) => a.name === wanted) ? wanted : fallback;
  const q = useAgentActivity(project, agent);
  const rows = useMemo(() => q.data ?? [], [q.data]);

  const [pos, setPos] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const [follow, setFollow] = useState(true);

  // Start at the end (the present); while following, stay there as steps arrive.
  useEffect(() => {
    if (follow && rows.length > 0) setPos(rows.length - 1);
  }, [rows.length, follow]);
  useEffect(() => {
    setFollow(true);
    setPlaying(false);
  }, [agent]);

  useEffect(() => {
    if (!playing) return;
    if (pos >= rows.length - 1) {
      setPlaying(false);
      return;
    }
    const a = rows[pos];
    const b = rows[pos + 1];
    const gap = a && b ? Date.parse(b.created_at) - Date.parse(a.created_at) : 0;
    const t = setTimeout(
      () => setPos((p) => Math.min(p + 1, rows.length - 1)),
      Math.min(Math.max(gap / speed, MIN_STEP_MS), MAX_STEP_MS / Math.sqrt(speed)),
    );
    return () => clearTimeout(t);
  }, [playing, pos, rows, speed]);

  const listRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => listRef.current,
    estimateSize: () => 44,
    overscan: 10,
  });
  useEffect(() => {
    if (rows.length > 0) virtualizer.scrollToIndex(pos, { align: 'auto' });
  }, [pos, rows.length, virtualizer]);

  const seek = (i: number) => {
    setFollow(i >= rows.length - 1);
    setPos(Math.max(0, Math.min(i, rows.length - 1)));
  };
  const current = rows[pos];
  const statusNow = statusAt(rows, pos);

  if (board.agents.length === 0) {
    return <Empty title="No agents to replay yet" />;
  }
  return (
    <section className="replay" aria-labelledby="replay-title">
      <div className="view-head">
        <h2 id="replay-title">Replay</h2>
        <label htmlFor="replay-agent" className="small">
          Agent
        </label>
        <select
          id="replay-agent"
          value={agent ?? ''}
          onChange={(e) => router.replace(projectHref(project, 'replay', { agent: e.target.value }))}
        >
          {board.agents.map((a) => (
            <option key={a.id} value={a.name}>
              {a.name}
            </option>
          ))}
        </select>
      </div>
      {q.isPending ? (
        <Loading label="Loading the timeline…" />
      ) : q.error ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title={`${agent ?? 'This agent'} has no recorded steps yet`}>
          <p>
            Every tool call, message, status change, task and memory edit is recorded; they appear here as soon as the
            agent does something.
          </p>
        </Empty>
      ) : (
        <div className="replay-body">
          <div className="replay-controls" role="group" aria-label="Playback">
            <button type="button" className="btn" aria-label="Go to the first step" onClick={() => seek(0)}>
              <Icon d={ICONS.first} />
            </button>
            <button
              type="button"
              className="btn"
              aria-label="Previous step"
              onClick={() => seek(pos - 1)}
              disabled={pos === 0}
            >
              <Icon d={ICONS.prev} />
            </button>
            <button
              type="button"
              className="btn btn-primary"
              aria-label={playing ? 'Pause' : 'Play'}
              onClick={() => {
                if (!playing && pos >= rows.length - 1) seek(0);
                setFollow(false);
                setPlaying((p) => !p);
              }}
            >
              <Icon d={playing ? ICONS.pause : ICONS.play} />
              {playing ? 'Pause' : 'Play'}
            </button>
            <button
              type="button"
              className="btn"
              aria-label="Next step"
              onClick={() => seek(pos + 1)}
              disabled={pos >= rows.length - 1}
            >
              <Icon d={ICONS.next} />
            </button>
            <button
              type="button"
              className="btn"
              aria-label="Go to the latest step and follow live"
              onClick={() => seek(rows.length - 1)}
            >
              <Icon d={ICONS.last} />
              Live
            </button>
            <label htmlFor="replay-speed" className="small">
              Speed
            </label>
            <select id="replay-speed" value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
              {SPEEDS.map((s) => (
                <option key={s} value={s}>
                  {s}×
                </option>
              ))}
            </select>
            <span className="replay-counter small" aria-live="polite">
              Step {pos + 1} of {rows.length}
              {follow ? ' · following live' : ''}
            </span>
          </div>
          <input
            className="scrubber"
            type="range"
            min={0}
            max={Math.max(rows.length - 1, 0)}
            value={pos}
            aria-label="Scrub through the timeline"
            aria-valuetext={current ? `Step ${pos + 1} of ${rows.length}: ${current.summary}` : undefined}
            onChange={(e) => {
              setPlaying(false);
              seek(Number(e.target.value));
            }}
          />
          {current && (
            <div className="replay-current card" aria-live="polite">
              <div className="replay-current-head">
                <Kind kind={current.kind} />
                <time dateTime={current.created_at}>{dateTime(current.created_at)}</time>
                {statusNow && <span className="small muted">status then: {statusNow}</span>}
              </div>
              <p className="replay-summary">{current.summary}</p>
              {Object.keys(current.data).length > 0 && (
                <pre className="replay-data">{JSON.stringify(current.data, null, 2)}</pre>
              )}
            </div>
          )}
          <div className="replay-list" ref={listRef} role="list" aria-label={`Timeline of ${agent ?? ''}`}>
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {virtualizer.getVirtualItems().map((item) => {
                const r = rows[item.index];
                if (!r) return null;
                const state = item.index === pos ? 'now' : item.index < pos ? 'past' : 'future';
                return (
                  <div
                    key={r.id}
                    role="listitem"
                    data-index={item.index}
                    ref={virtualizer.measureElement}
                    className={`step step-${state}`}
                    style={{ transform: `translateY(${item.start}px)` }}
                  >
                    <button
                      type="button"
                      className="step-btn"
                      aria-current={state === 'now' ? 'step' : undefined}
                      onClick={() => {
                        setPlaying(false);
                        seek(item.index);
                      }}
                    >
                      <span className="step-time">{clock(r.created_at)}</span>
                      <Kind kind={r.kind} />
                      <span className="step-summary">{r.summary}</span>
                    </button>
                  </div>
                );
              })}
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
