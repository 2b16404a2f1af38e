// The only governance checkpoint: what a worker's result may write back (comment length, label allow/block lists,
// status states, commit size, metadata). Pure: result + policy in, filtered result + a decision record out.
import { STATUS_STATES, type WorkerPolicy, type WorkerResult } from '@meshcode/worker/core';

export interface ActionDecision {
  allowed: boolean;
  reason?: string;
}

export interface Decision {
  comment?: ActionDecision & { length?: number; truncated?: boolean; from_output?: boolean };
  labels?: ActionDecision & { add: string[]; remove: string[]; denied: string[] };
  status?: ActionDecision & { state?: string; context?: string };
  commit?: ActionDecision & { bytes?: number };
  metadata?: ActionDecision;
  /** Actions (or labels) the policy refused; > 0 makes the trace step outcome "deny". */
  denied_count: number;
}

export interface PolicyOutcome {
  result: WorkerResult;
  decision: Decision;
}

const GITHUB_DESCRIPTION_MAX = 140;
const TRUNCATION_NOTE = '\n\n… (truncated by policy)';

/** Nothing may be written back: used when a worker's definition cannot be read. */
export const DENY_ALL: WorkerPolicy = {
  comment: { allow: false, max_length: 0 },
  labels: { allow: false, blocked: [] },
  status: { allow: false, states: [...STATUS_STATES] },
  commit: { allow: false, max_size: 0 },
  metadata: { allow: false },
};

function truncate(body: string, max: number): string {
  if (body.length <= max) return body;
  if (max <= TRUNCATION_NOTE.length) return body.slice(0, max);
  return body.slice(0, max - TRUNCATION_NOTE.length) + TRUNCATION_NOTE;
}

/**
 * Applies the worker's policy. A result with no write-back action but with output uses the output as its comment
 * (an LLM asked to review a PR answers in prose); `outputAsComment: false` turns that off.
 */
export function applyPolicy(
  input: WorkerResult,
  policy: WorkerPolicy,
  opts: { worker: string; outputAsComment?: boolean },
): PolicyOutcome {
  const result: WorkerResult = { output: input.output };
  const decision: Decision = { denied_count: 0 };
  const deny = (reason: string): ActionDecision => {
    decision.denied_count += 1;
    return { allowed: false, reason };
  };

  const hasAction = input.comment || input.labels || input.status || input.commit;
  const comment =
    input.comment ??
    (!hasAction && opts.outputAsComment !== false && input.output.trim() !== '' ? { body: input.output } : undefined);
  if (comment) {
    const fromOutput = input.comment === undefined;
    if (!policy.comment.allow) {
      decision.comment = { ...deny('comments are not allowed by the policy'), from_output: fromOutput };
    } else if (comment.body.trim() === '') {
      decision.comment = { ...deny('the comment is empty'), from_output: fromOutput };
    } else {
      const body = truncate(comment.body, policy.comment.max_length);
      result.comment = { ...comment, body };
      decision.comment = {
        allowed: true,
        length: body.length,
        truncated: body.length < comment.body.length,
        from_output: fromOutput,
      };
    }
  }

  if (input.labels) {
    const wanted = [...new Set([...(input.labels.add ?? []), ...(input.labels.remove ?? [])])];
    if (!policy.labels.allow) {
      decision.labels = { ...deny('labels are not allowed by the policy'), add: [], remove: [], denied: wanted };
    } else {
      const blocked = new Set(policy.labels.blocked.map((l) => l.toLowerCase()));
      const allowed = policy.labels.allowed ? new Set(policy.labels.allowed.map((l) => l.toLowerCase())) : undefined;
      const ok = (label: string) =>
        label.trim() !== '' && !blocked.has(label.toLowerCase()) && (!allowed || allowed.has(label.toLowerCase()));
      const add = [...new Set(input.labels.add ?? [])].filter(ok);
      const remove = [...new Set(input.labels.remove ?? [])].filter(ok);
      const denied = wanted.filter((l) => !ok(l));
      decision.denied_count += denied.length;
      if (add.length || remove.length) result.labels = { add, remove };
      decision.labels = {
        allowed: add.length + remove.length > 0,
        add,
        remove,
        denied,
        ...(denied.length ? { reason: `blocked or not in the allow list: ${denied.join(', ')}` } : {}),
      };
    }
  }

  if (input.status) {
    const state = input.status.state.toLowerCase();
    if (!policy.status.allow) {
      decision.status = { ...deny('commit statuses are not allowed by the policy'), state };
    } else if (!(STATUS_STATES as readonly string[]).includes(state)) {
      decision.status = { ...deny(`"${state}" is not a status state (error, failure, pending, success)`), state };
    } else if (!(policy.status.states as readonly string[]).includes(state)) {
      decision.status = { ...deny(`the policy allows only ${policy.status.states.join(', ')}`), state };
    } else {
      const context = policy.status.context ?? input.status.context ?? `meshcode/${opts.worker}`;
      result.status = {
        state,
        context,
        ...(input.status.description !== undefined
          ? { description: input.status.description.slice(0, GITHUB_DESCRIPTION_MAX) }
          : {}),
      };
      decision.status = { allowed: true, state, context };
    }
  }

  if (input.commit) {
    const bytes = Buffer.byteLength(input.commit.diff, 'utf8');
    if (!policy.commit.allow) {
      decision.commit = { ...deny('commit suggestions are not allowed by the policy'), bytes };
    } else if (bytes > policy.commit.max_size) {
      decision.commit = { ...deny(`the diff is ${bytes} bytes; the policy allows ${policy.commit.max_size}`), bytes };
    } else {
      result.commit = input.commit;
      decision.commit = { allowed: true, bytes };
    }
  }

  if (input.metadata) {
    if (policy.metadata.allow) {
      result.metadata = input.metadata;
      decision.metadata = { allowed: true };
    } else {
      decision.metadata = deny('metadata is not allowed by the policy');
    }
  }
  return { result, decision };
}

/** A one-line account of a decision for the trace. */
export function describeDecision(decision: Decision): string {
  const parts: string[] = [];
  const say = (name: string, d: ActionDecision | undefined, extra = '') => {
    if (!d) return;
    parts.push(d.allowed ? `${name} allowed${extra}` : `${name} denied (${d.reason ?? 'policy'})`);
  };
  say('comment', decision.comment, decision.comment?.truncated ? ' (truncated)' : '');
  if (decision.labels) {
    const l = decision.labels;
    const changed = [...l.add.map((x) => `+${x}`), ...l.remove.map((x) => `-${x}`)].join(' ');
    parts.push(`labels ${changed || 'none allowed'}${l.denied.length ? `, denied ${l.denied.join(', ')}` : ''}`.trim());
  }
  say('status', decision.status, decision.status?.state ? ` (${decision.status.state})` : '');
  say('commit', decision.commit);
  say('metadata', decision.metadata);
  return parts.length ? `policy: ${parts.join('; ')}` : 'policy: nothing to write back';
}
