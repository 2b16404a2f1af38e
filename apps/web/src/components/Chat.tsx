'use client';
// Message history between agents (virtualised, paged into the past on scroll), threads, broadcasts, ask -> reply
// links, and a composer that posts as the overseer.
import { useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { rpc } from '../lib/api';
import { clock, dateTime, truncate } from '../lib/format';
import { useNow } from '../lib/hooks';
import { mergeNewMessages, useHistory, useThread } from '../lib/queries';
import type { Message, StatusBoard } from '../lib/types';
import { Empty, ErrorState, InlineError, Loading } from './States';

const BODY_CLAMP = 4000;

function who(m: Message): string {
  return m.from === 'overseer' ? `${m.from_display_name || 'you'} (overseer)` : m.from;
}

function recipient(m: Message): string {
  if (m.to === '*') return 'everyone';
  return m.to ?? 'overseer';
}

interface RowProps {
  m: Message;
  ask?: Message;
  reply?: Message;
  threadSize: number;
  highlighted: boolean;
  now: number;
  onJump?: (id: string) => void;
  onThread?: (thread: string) => void;
  onReply?: (m: Message) => void;
}

export function MessageRow({ m, ask, reply, threadSize, highlighted, now, onJump, onThread, onReply }: RowProps) {
  const [full, setFull] = useState(false);
  const broadcast = m.to === '*';
  const body = full || m.body.length <= BODY_CLAMP ? m.body : `${m.body.slice(0, BODY_CLAMP)}…`;
  const expired = m.kind === 'ask' && !reply && m.deadline_at !== undefined && Date.parse(m.deadline_at) < now;
  return (
    <article
      className={`msg msg-${m.kind}${broadcast ? ' msg-broadcast' : ''}${highlighted ? ' msg-highlight' : ''}`}
      aria-label={`${who(m)} to ${recipient(m)}${broadcast ? ' (broadcast)' : ''} at ${clock(m.created_at)}`}
      data-message={m.id}
    >
      <header className="msg-head">
        <strong className="msg-from">{who(m)}</strong>
        <span className="msg-arrow" aria-hidden="true">
          →
        </span>
        <span className="msg-to">{recipient(m)}</span>
        {broadcast && <span className="tag tag-broadcast">broadcast</span>}
        {m.kind === 'ask' && <span className="tag tag-ask">ask</span>}
        {m.kind === 'reply' && <span className="tag tag-reply">reply</span>}
        {m.kind === 'system' && <span className="tag tag-system">system</span>}
        {m.kind === 'event' && <span className="tag">event</span>}
        <time dateTime={m.created_at} title={dateTime(m.created_at)}>
          {clock(m.created_at)}
        </time>
      </header>
      {m.kind === 'reply' && m.reply_to && (
        <button type="button" className="msg-context" onClick={() => onJump?.(m.reply_to ?? '')}>
          ↳ reply to {ask ? `${ask.from}: “${truncate(ask.body, 80)}”` : 'an earlier ask'}
        </button>
      )}
      <div className="msg-body">{body}</div>
      {m.body.length > BODY_CLAMP && (
        <button type="button" className="btn btn-link btn-small" onClick={() => setFull((v) => !v)}>
          {full ? 'Show less' : `Show all ${m.body.length.toLocaleString()} characters`}
        </button>
      )}
      <footer className="msg-foot">
        {m.kind === 'ask' &&
          (reply ? (
            <button type="button" className="msg-link" onClick={() => onJump?.(reply.id)}>
              ✓ answered by {reply.from}
            </button>
          ) : (
            <span className={expired ? 'tag tag-expired' : 'tag tag-waiting'}>
              {expired ? 'no reply before the deadline' : 'awaiting reply'}
            </span>
          ))}
        {onThread && (threadSize > 1 || m.thread_id !== m.id) && (
          <button type="button" className="msg-link" onClick={() => onThread(m.thread_id)}>
            Thread{threadSize > 1 ? ` (${threadSize})` : ''}
          </button>
        )}
        {onReply && m.kind !== 'system' && (
          <button type="button" className="msg-link" onClick={() => onReply(m)} aria-label={`Reply to ${who(m)}`}>
            Reply
          </button>
        )}
      </footer>
    </article>
  );
}

function ThreadPanel({ project, thread, onClose }: { project: string; thread: string; onClose: () => void }) {
  const q = useThread(project, thread);
  const now = useNow(10_000);
  const msgs = useMemo(() => [...(q.data ?? [])].reverse(), [q.data]);
  return (
    <aside className="thread-panel" aria-label="Thread">
      <div className="thread-head">
        <h3>Thread</h3>
        <button type="button" className="btn btn-ghost btn-small" onClick={onClose}>
          Close thread
        </button>
      </div>
      {q.isPending ? (
        <Loading label="Loading the thread…" />
      ) : q.error ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : (
        <div className="thread-list">
          {msgs.map((m) => (
            <MessageRow
              key={m.id}
              m={m}
              ask={msgs.find((x) => x.id === m.reply_to)}
              reply={msgs.find((x) => x.reply_to === m.id)}
              threadSize={msgs.length}
              highlighted={false}
              now={now}
            />
          ))}
        </div>
      )}
    </aside>
  );
}

function Composer({
  project,
  board,
  replyTo,
  onCancelReply,
}: {
  project: string;
  board: StatusBoard;
  replyTo: Message | null;
  onCancelReply: () => void;
}) {
  const qc = useQueryClient();
  const [to, setTo] = useState<string>(board.agents[0]?.name ?? '*');
  const [kind, setKind] = useState<'message' | 'ask'>('message');
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const textRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (replyTo) textRef.current?.focus();
  }, [replyTo]);

  const send = () => {
    if (body.trim() === '') return;
    setBusy(true);
    setError(null);
    const args = replyTo
      ? {
          p_meshwork: project,
          p_to: replyTo.from,
          p_body: body,
          p_reply_to: replyTo.id,
          p_idempotency_key: crypto.randomUUID(),
        }
      : {
          p_meshwork: project,
          p_to: to,
          p_body: body,
          p_kind: kind,
          p_deadline_seconds: kind === 'ask' ? 600 : undefined,
          p_idempotency_key: crypto.randomUUID(),
        };
    rpc('mc_send', args)
      .then(async () => {
        setBody('');
        onCancelReply();
        await mergeNewMessages(qc, project);
      })
      .catch(setError)
      .finally(() => setBusy(false));
  };

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {replyTo ? (
        <div className="composer-reply">
          <span>
            Replying to {who(replyTo)}: “{truncate(replyTo.body, 80)}”
          </span>
          <button type="button" className="btn btn-ghost btn-small" onClick={onCancelReply}>
            Cancel reply
          </button>
        </div>
      ) : (
        <div className="composer-row">
          <label htmlFor="chat-to">To</label>
          <select id="chat-to" value={to} onChange={(e) => setTo(e.target.value)}>
            {board.agents.map((a) => (
              <option key={a.id} value={a.name}>
                {a.name}
              </option>
            ))}
            <option value="*">everyone (broadcast)</option>
          </select>
          <label htmlFor="chat-kind">Kind</label>
          <select id="chat-kind" value={kind} onChange={(e) => setKind(e.target.value as 'message' | 'ask')}>
            <option value="message">message</option>
            <option value="ask">ask (expects a reply)</option>
          </select>
        </div>
      )}
      <div className="composer-row">
        <textarea
          ref={textRef}
          aria-label="Message to send as the overseer"
          placeholder="Write as the overseer… (Enter sends, Shift+Enter for a new line)"
          value={body}
          rows={2}
          onChange={(e) => setBody(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              send();
            }
          }}
        />
        <button
          type="submit"
          className="btn btn-primary"
          disabled={busy || body.trim() === '' || board.agents.length === 0}
        >
          Send
        </button>
      </div>
      <InlineError error={error} />
    </form>
  );
}

export function Chat({ project, board }: { project: string; board: StatusBoard }) {
  const [agent, setAgent] = useState<string | null>(null);
  const [thread, setThread] = useState<string | null>(null);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [highlight, setHighlight] = useState<string | null>(null);
  const history = useHistory(project, agent);
  const now = useNow(10_000);
  const messages = useMemo(() => (history.data?.pages.flat() ?? []).slice().reverse(), [history.data]);
  const index = useMemo(() => {
    const byId = new Map<string, number>();
    const replies = new Map<string, Message>();
    const threads = new Map<string, number>();
    messages.forEach((m, i) => {
      byId.set(m.id, i);
      if (m.reply_to && !replies.has(m.reply_to)) replies.set(m.reply_to, m);
      threads.set(m.thread_id, (threads.get(m.thread_id) ?? 0) + 1);
    });
    return { byId, replies, threads };
  }, [messages]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 84,
    overscan: 8,
    getItemKey: (i) => messages[i]?.id ?? i,
  });

  // Keep the view anchored: at the bottom when new messages arrive (if it was there), in place when older load.
  const atBottom = useRef(true);
  const [unseen, setUnseen] = useState(0);
  const prev = useRef<{ first?: string; last?: string; total: number; count: number }>({ total: 0, count: 0 });
  useLayoutEffect(() => {
    const first = messages[0]?.id;
    const last = messages[messages.length - 1]?.id;
    const el = scrollRef.current;
    const p = prev.current;
    if (el && messages.length > 0) {
      if (p.first !== undefined && first !== p.first && last === p.last) {
        el.scrollTop += virtualizer.getTotalSize() - p.total;
      } else if (last !== p.last && (p.last === undefined || atBottom.current)) {
        virtualizer.scrollToIndex(messages.length - 1, { align: 'end' });
      } else if (last !== p.last) {
        // Reading older messages: do not yank the view; offer a way down instead.
        setUnseen((n) => n + Math.max(1, messages.length - p.count));
      }
    }
    prev.current = { first, last, total: virtualizer.getTotalSize(), count: messages.length };
  }, [messages, virtualizer]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    if (atBottom.current) setUnseen(0);
    if (el.scrollTop < 300 && history.hasNextPage && !history.isFetchingNextPage) void history.fetchNextPage();
  };

  const jump = (id: string) => {
    const i = index.byId.get(id);
    if (i === undefined) {
      const m = messages.find((x) => x.reply_to === id || x.id === id);
      if (m) setThread(m.thread_id);
      return;
    }
    atBottom.current = false;
    virtualizer.scrollToIndex(i, { align: 'center' });
    setHighlight(id);
    setTimeout(() => setHighlight((h) => (h === id ? null : h)), 2500);
  };

  return (
    <section className="chat" aria-labelledby="chat-title">
      <div className="view-head">
        <h2 id="chat-title">Chat</h2>
        <label htmlFor="chat-filter" className="small">
          Show
        </label>
        <select
          id="chat-filter"
          value={agent ?? ''}
          onChange={(e) => {
            // Another list: start it at the bottom like a fresh load.
            prev.current = { total: 0, count: 0 };
            atBottom.current = true;
            setUnseen(0);
            setAgent(e.target.value || null);
          }}
        >
          <option value="">all messages</option>
          {board.agents.map((a) => (
            <option key={a.id} value={a.name}>
              to or from {a.name}
            </option>
          ))}
        </select>
        <span className="small muted">{messages.length.toLocaleString()} loaded</span>
      </div>
      <div className={`chat-body${thread ? ' with-thread' : ''}`}>
        <div className="chat-main">
          {history.isPending ? (
            <Loading label="Loading messages…" />
          ) : history.error ? (
            <ErrorState error={history.error} retry={() => void history.refetch()} />
          ) : messages.length === 0 ? (
            <Empty title="No messages yet">
              <p>
                When agents talk through meshcode_send, ask or broadcast, their messages show up here live. You can
                write to them below.
              </p>
            </Empty>
          ) : (
            <div
              className="chat-scroll"
              ref={scrollRef}
              onScroll={onScroll}
              role="log"
              aria-label="Messages"
              aria-live="polite"
            >
              <div className="chat-older">
                {history.hasNextPage ? (
                  <button
                    type="button"
                    className="btn btn-small"
                    disabled={history.isFetchingNextPage}
                    onClick={() => void history.fetchNextPage()}
                  >
                    {history.isFetchingNextPage ? 'Loading older messages…' : 'Load older messages'}
                  </button>
                ) : (
                  <span className="small muted">Beginning of the conversation</span>
                )}
              </div>
              <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
                {virtualizer.getVirtualItems().map((item) => {
                  const m = messages[item.index];
                  if (!m) return null;
                  return (
                    <div
                      key={item.key}
                      data-index={item.index}
                      ref={virtualizer.measureElement}
                      className="chat-item"
                      style={{ transform: `translateY(${item.start}px)` }}
                    >
                      <MessageRow
                        m={m}
                        ask={m.reply_to ? messages[index.byId.get(m.reply_to) ?? -1] : undefined}
                        reply={m.kind === 'ask' ? index.replies.get(m.id) : undefined}
                        threadSize={index.threads.get(m.thread_id) ?? 1}
                        highlighted={highlight === m.id}
                        now={now}
                        onJump={jump}
                        onThread={setThread}
                        onReply={setReplyTo}
                      />
                    </div>
                  );
                })}
              </div>
            </div>
          )}
          {unseen > 0 && (
            <button
              type="button"
              className="btn btn-small jump-newest"
              onClick={() => {
                atBottom.current = true;
                setUnseen(0);
                virtualizer.scrollToIndex(messages.length - 1, { align: 'end' });
              }}
            >
              {unseen === 1 ? '1 new message' : `${unseen} new messages`} — jump to the newest
            </button>
          )}
          <Composer project={project} board={board} replyTo={replyTo} onCancelReply={() => setReplyTo(null)} />
        </div>
        {thread && <ThreadPanel project={project} thread={thread} onClose={() => setThread(null)} />}
      </div>
    </section>
  );
}
