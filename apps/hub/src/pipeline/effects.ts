// A policy-filtered result -> the write-backs it asks for, each with a unique effect key (task id + kind): the key
// is inserted before the API is called, so one result is written back at most once.
import type { WorkerResult } from '@meshcode/worker/core';
import type { Decision } from './policy';
import type { Provider, Subject } from './normalize';

export type EffectKind = 'comment' | 'labels' | 'status' | 'review';

export interface EffectTarget {
  repo?: string;
  project_id?: number | string;
  number?: number;
  kind?: Subject['kind'];
  sha?: string;
  label?: string;
  channel?: string;
  thread?: string;
}

export interface EffectSpec {
  key: string;
  provider: Provider;
  kind: EffectKind;
  target: EffectTarget;
  payload: Record<string, unknown>;
}

export function effectKey(taskId: string, kind: EffectKind): string {
  return `task:${taskId}:${kind}`;
}

/** Hidden in every comment we post, so a write-back retried after a crash can see it already happened. */
export function effectMarker(key: string): string {
  return `<!-- meshcode:effect:${key} -->`;
}

function targetOf(s: Subject): EffectTarget {
  return {
    ...(s.repo !== undefined ? { repo: s.repo } : {}),
    ...(s.project_id !== undefined ? { project_id: s.project_id } : {}),
    ...(s.number !== undefined ? { number: s.number } : {}),
    ...(s.kind !== undefined ? { kind: s.kind } : {}),
    ...(s.sha !== undefined ? { sha: s.sha } : {}),
    ...(s.label !== undefined ? { label: s.label } : {}),
    ...(s.channel !== undefined ? { channel: s.channel } : {}),
    ...(s.thread !== undefined ? { thread: s.thread } : {}),
  };
}

/**
 * Effects for a filtered result. Actions the event has no target for (a label on a push, a status on a Slack
 * message) are recorded in the decision as denied, not sent. A chat message (Slack, Telegram) takes a reply only.
 */
export function planEffects(
  taskId: string,
  subject: Subject,
  source: string | null,
  result: WorkerResult,
  decision: Decision,
): EffectSpec[] {
  const effects: EffectSpec[] = [];
  const provider = subject.provider;
  const hasTarget =
    provider === 'github'
      ? subject.repo !== undefined
      : provider === 'gitlab'
        ? subject.project_id !== undefined
        : subject.channel !== undefined;
  const noTarget = (what: keyof Decision, why: string) => {
    const d = decision[what];
    if (d && typeof d === 'object' && d.allowed) {
      Object.assign(d, { allowed: false, reason: why });
      decision.denied_count += 1;
    }
  };
  if (!provider || !hasTarget) {
    const why = `no write-back target for ${source ?? 'this'} events`;
    for (const what of ['comment', 'labels', 'status', 'commit'] as const) noTarget(what, why);
    return effects;
  }
  const target = targetOf(subject);
  const add = (kind: EffectKind, payload: Record<string, unknown>) =>
    effects.push({ key: effectKey(taskId, kind), provider, kind, target, payload });
  if (provider === 'slack' || provider === 'telegram') {
    const where = `a ${provider === 'slack' ? 'Slack' : 'Telegram'} message`;
    if (result.comment) add('comment', { body: result.comment.body });
    if (result.labels) noTarget('labels', `no labels on ${where}`);
    if (result.status) noTarget('status', `no commit status on ${where}`);
    if (result.commit) noTarget('commit', `no commits on ${where}`);
    return effects;
  }
  const onItem = subject.number !== undefined && subject.kind !== 'commit';
  const isReview = subject.kind === 'pull_request' || subject.kind === 'merge_request';

  if (result.comment) {
    if (onItem || subject.sha) add('comment', { body: result.comment.body });
    else noTarget('comment', 'the event has no issue, pull request or commit to comment on');
  }
  if (result.labels) {
    if (onItem) add('labels', { add: result.labels.add ?? [], remove: result.labels.remove ?? [] });
    else noTarget('labels', 'the event has no issue or pull request to label');
  }
  if (result.status) {
    if (subject.sha || isReview) add('status', { ...result.status });
    else noTarget('status', 'the event has no commit to set a status on');
  }
  if (result.commit) {
    if (isReview && onItem) add('review', { message: result.commit.message, diff: result.commit.diff });
    else noTarget('commit', 'commit suggestions need a pull request or merge request');
  }
  return effects;
}
