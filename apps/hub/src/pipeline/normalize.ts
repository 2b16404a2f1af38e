// Provider payloads -> one neutral shape: event name and action for rule matching, a one-line summary, and the
// subject (repository, PR/issue/MR number, commit) that write-back and hydration act on.

/** Where results can be written back: repositories (GitHub, GitLab) and chats (Slack, Telegram). */
export type Provider = RepoProvider | 'slack' | 'telegram';
/** The providers with pull/merge requests, commits and labels (and so hydration). */
export type RepoProvider = 'github' | 'gitlab';

export interface Subject {
  provider?: Provider;
  /** "owner/name" on GitHub, "group/project" on GitLab. */
  repo?: string;
  /** GitLab's numeric project id (API paths use it). */
  project_id?: number | string;
  /** PR or issue number (GitHub), MR or issue iid (GitLab). */
  number?: number;
  kind?: 'pull_request' | 'issue' | 'merge_request' | 'commit';
  sha?: string;
  url?: string;
  title?: string;
  actor?: string;
  ref?: string;
  /** "octo/repo#12" or "octo/repo@1a2b3c4", for people. */
  label?: string;
  /** Slack: the channel id; Telegram: the chat id. Where a reply goes. */
  channel?: string;
  /** Slack: the thread's ts (the message's own when it starts none); Telegram: the message id a reply answers. */
  thread?: string;
}

export interface NormalizedEvent {
  event: string;
  action?: string;
  summary: string;
  subject: Subject;
}

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : undefined;
}
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}
function firstLine(text: string | undefined): string | undefined {
  return text?.split('\n')[0]?.trim() || undefined;
}

function labelOf(s: Subject): string | undefined {
  if (!s.repo) return undefined;
  if (s.number !== undefined) return `${s.repo}${s.kind === 'merge_request' ? '!' : '#'}${s.number}`;
  if (s.sha) return `${s.repo}@${s.sha.slice(0, 7)}`;
  return s.repo;
}

function finish(event: string, action: string | undefined, subject: Subject, fallback: string): NormalizedEvent {
  subject.label = labelOf(subject);
  const summary = [subject.label, subject.title].filter(Boolean).join(' ') || fallback;
  return { event, ...(action ? { action } : {}), summary: summary.slice(0, 500), subject };
}

function github(event: string, p: Obj): NormalizedEvent {
  const action = str(p['action']);
  const repo = str(obj(p['repository'])?.['full_name']);
  const s: Subject = { provider: 'github', repo, actor: str(obj(p['sender'])?.['login']) };
  const pr = obj(p['pull_request']);
  const issue = obj(p['issue']);
  if (pr) {
    s.kind = 'pull_request';
    s.number = num(pr['number']);
    s.sha = str(obj(pr['head'])?.['sha']);
    s.ref = str(obj(pr['head'])?.['ref']);
    s.title = str(pr['title']);
    s.url = str(pr['html_url']);
  } else if (issue) {
    s.kind = obj(issue['pull_request']) ? 'pull_request' : 'issue';
    s.number = num(issue['number']);
    s.title = str(issue['title']);
    s.url = str(obj(p['comment'])?.['html_url']) ?? str(issue['html_url']);
  } else if (event === 'push') {
    s.kind = 'commit';
    const after = str(p['after']);
    s.sha = after && !/^0+$/.test(after) ? after : str(obj(p['head_commit'])?.['id']);
    s.ref = str(p['ref']);
    s.title = firstLine(str(obj(p['head_commit'])?.['message']));
    s.url = str(p['compare']);
  } else {
    const sha = str(p['sha']) ?? str(obj(p['check_suite'])?.['head_sha']) ?? str(obj(p['check_run'])?.['head_sha']);
    if (sha) {
      s.kind = 'commit';
      s.sha = sha;
    }
  }
  return finish(event, action, s, `${event}${action ? `.${action}` : ''}`);
}

function gitlab(headerEvent: string, p: Obj): NormalizedEvent {
  const event = str(p['object_kind']) ?? str(p['event_name']) ?? headerEvent;
  const oa = obj(p['object_attributes']) ?? {};
  const project = obj(p['project']);
  const s: Subject = {
    provider: 'gitlab',
    repo: str(project?.['path_with_namespace']),
    project_id: num(project?.['id']) ?? num(p['project_id']),
    actor: str(obj(p['user'])?.['username']) ?? str(p['user_username']),
  };
  let action = str(oa['action']);
  if (event === 'merge_request') {
    s.kind = 'merge_request';
    s.number = num(oa['iid']);
    s.sha = str(obj(oa['last_commit'])?.['id']);
    s.ref = str(oa['source_branch']);
    s.title = str(oa['title']);
    s.url = str(oa['url']);
  } else if (event === 'issue' || event === 'work_item') {
    s.kind = 'issue';
    s.number = num(oa['iid']);
    s.title = str(oa['title']);
    s.url = str(oa['url']);
  } else if (event === 'note') {
    const type = str(oa['noteable_type']);
    action = type ? type.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase() : action;
    s.url = str(oa['url']);
    const mr = obj(p['merge_request']);
    const issue = obj(p['issue']);
    const commit = obj(p['commit']);
    if (type === 'MergeRequest' && mr) {
      s.kind = 'merge_request';
      s.number = num(mr['iid']);
      s.sha = str(obj(mr['last_commit'])?.['id']);
      s.title = str(mr['title']);
    } else if (type === 'Issue' && issue) {
      s.kind = 'issue';
      s.number = num(issue['iid']);
      s.title = str(issue['title']);
    } else if (commit) {
      s.kind = 'commit';
      s.sha = str(commit['id']);
      s.title = firstLine(str(commit['message']));
    }
  } else if (event === 'push' || event === 'tag_push') {
    s.kind = 'commit';
    const after = str(p['after']);
    s.sha = str(p['checkout_sha']) ?? (after && !/^0+$/.test(after) ? after : undefined);
    s.ref = str(p['ref']);
    const commits = Array.isArray(p['commits']) ? (p['commits'] as unknown[]) : [];
    s.title = firstLine(str(obj(commits.at(-1))?.['message']));
  } else if (event === 'pipeline' || event === 'build') {
    s.kind = 'commit';
    s.sha = str(oa['sha']) ?? str(p['sha']);
    s.ref = str(oa['ref']) ?? str(p['ref']);
    action = str(oa['status']) ?? action;
  }
  return finish(event, action, s, event);
}

function slack(event: string, p: Obj): NormalizedEvent {
  const inner = obj(p['event']) ?? p;
  const text = firstLine(str(inner['text'])) ?? '';
  const who = str(inner['user']) ?? str(obj(inner['user'])?.['id']) ?? str(p['user_name']);
  // Events API: event.channel and event.ts/thread_ts; interactions: channel.id and message.ts; slash commands:
  // channel_id, and no message to thread under.
  const message = obj(p['message']);
  const channel = str(inner['channel']) ?? str(obj(inner['channel'])?.['id']) ?? str(p['channel_id']);
  const thread = str(inner['thread_ts']) ?? str(inner['ts']) ?? str(message?.['thread_ts']) ?? str(message?.['ts']);
  const subject: Subject = { provider: 'slack', actor: who };
  if (channel) Object.assign(subject, { channel, label: `Slack ${channel}` }, thread ? { thread } : {});
  return { event, summary: `${who ? `${who}: ` : ''}${text}`.slice(0, 500) || event, subject };
}

function telegram(event: string, p: Obj): NormalizedEvent {
  const message = obj(p[event]) ?? {};
  const from = obj(message['from']);
  const who = str(from?.['username']) ?? str(from?.['first_name']);
  const text = firstLine(str(message['text'])) ?? str(obj(p['callback_query'])?.['data']) ?? '';
  // A message (or an edited or channel post) carries its chat; a callback query, the message its button was on.
  const target = obj(message['chat']) ? message : (obj(message['message']) ?? {});
  const chatId = obj(target['chat'])?.['id'];
  const messageId = num(target['message_id']);
  const subject: Subject = { provider: 'telegram', actor: who };
  if (typeof chatId === 'number' || typeof chatId === 'string') {
    Object.assign(subject, { channel: String(chatId), label: `Telegram chat ${chatId}` });
    if (messageId !== undefined) subject.thread = String(messageId);
  }
  return { event, summary: `${who ? `${who}: ` : ''}${text}`.slice(0, 500) || event, subject };
}

function generic(event: string, p: Obj): NormalizedEvent {
  const action = str(p['action']);
  const title = str(p['summary']) ?? str(p['title']) ?? str(p['message']);
  return { event, ...(action ? { action } : {}), summary: (title ?? event).slice(0, 500), subject: {} };
}

export function normalizeEvent(source: string, event: string, payload: Obj): NormalizedEvent {
  switch (source) {
    case 'github':
      return github(event, payload);
    case 'gitlab':
      return gitlab(event, payload);
    case 'slack':
      return slack(event, payload);
    case 'telegram':
      return telegram(event, payload);
    default:
      return generic(event, payload);
  }
}

/** What prompt templates see: the raw payload under `event`, the subject's fields at the top, and hydrated extras. */
export function templateContext(
  source: string,
  deliveryId: string,
  normalized: NormalizedEvent,
  payload: Obj,
  extra: { diff?: string; files?: string } = {},
): Record<string, unknown> {
  const s = normalized.subject;
  return {
    source,
    name: normalized.event,
    action: normalized.action,
    delivery: deliveryId,
    event: payload,
    repo: s.repo,
    number: s.number,
    kind: s.kind,
    title: s.title,
    url: s.url,
    sha: s.sha,
    actor: s.actor,
    ref: s.ref,
    summary: normalized.summary,
    ...extra,
  };
}

/** Slack slash commands and interactions arrive form-encoded; everything else is JSON. */
export function parsePayload(source: string, rawBody: Buffer): Obj | undefined {
  const text = rawBody.toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    return obj(value);
  } catch {
    if (source !== 'slack') return undefined;
  }
  const form = new URLSearchParams(text);
  const inner = form.get('payload');
  if (inner) {
    try {
      return obj(JSON.parse(inner));
    } catch {
      return undefined;
    }
  }
  return Object.fromEntries(form.entries());
}
