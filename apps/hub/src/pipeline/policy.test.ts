import { describe, expect, it } from 'vitest';
import { workerSchema, type WorkerPolicy } from '@meshcode/worker';
import { applyPolicy, DENY_ALL, describeDecision } from './policy';

function policyOf(raw: Record<string, unknown>): WorkerPolicy {
  return workerSchema.parse({ name: 'w', driver: 'http', http: { url: 'http://127.0.0.1:1' }, policy: raw }).policy;
}

describe('applyPolicy', () => {
  it('allows nothing when the policy says nothing', () => {
    const { result, decision } = applyPolicy(
      {
        output: '',
        comment: { body: 'hi' },
        labels: { add: ['a'] },
        status: { state: 'success' },
        commit: { message: 'm', diff: 'd' },
      },
      policyOf({}),
      { worker: 'w' },
    );
    expect(result).toEqual({ output: '' });
    expect(decision).toMatchObject({
      comment: { allowed: false },
      labels: { allowed: false, denied: ['a'] },
      status: { allowed: false },
      commit: { allowed: false },
      denied_count: 4,
    });
  });

  it('truncates a comment to max_length, marking the cut', () => {
    const { result, decision } = applyPolicy(
      { output: '', comment: { body: 'x'.repeat(100) } },
      policyOf({ comment: { allow: true, max_length: 40 } }),
      { worker: 'w' },
    );
    expect(result.comment!.body).toHaveLength(40);
    expect(result.comment!.body).toMatch(/\(truncated by policy\)$/);
    expect(decision.comment).toEqual({ allowed: true, length: 40, truncated: true, from_output: false });
  });

  it('uses plain output as the comment only when the result asks for no action', () => {
    const policy = policyOf({ comment: true, status: true });
    expect(applyPolicy({ output: 'Looks good' }, policy, { worker: 'w' }).result.comment).toEqual({
      body: 'Looks good',
    });
    expect(
      applyPolicy({ output: 'Looks good', status: { state: 'success' } }, policy, { worker: 'w' }).result.comment,
    ).toBeUndefined();
    expect(
      applyPolicy({ output: 'Looks good' }, policy, { worker: 'w', outputAsComment: false }).result.comment,
    ).toBeUndefined();
    expect(applyPolicy({ output: '   ' }, policy, { worker: 'w' }).decision.comment).toBeUndefined();
  });

  it('filters labels through the block list and the allow list, case-insensitively', () => {
    const blocked = applyPolicy(
      { output: '', labels: { add: ['bug', 'WontFix'], remove: ['triage'] } },
      policyOf({ labels: { allow: true, blocked: ['wontfix'] } }),
      { worker: 'w' },
    );
    expect(blocked.result.labels).toEqual({ add: ['bug'], remove: ['triage'] });
    expect(blocked.decision.labels).toMatchObject({ denied: ['WontFix'] });
    expect(blocked.decision.denied_count).toBe(1);
    const allowed = applyPolicy(
      { output: '', labels: { add: ['bug', 'security'] } },
      policyOf({ labels: { allow: true, allowed: ['Security'] } }),
      { worker: 'w' },
    );
    expect(allowed.result.labels).toEqual({ add: ['security'], remove: [] });
  });

  it('checks status states against the canonical set and the policy, and names the context', () => {
    const policy = policyOf({ status: { allow: true, states: ['success', 'failure'] } });
    expect(
      applyPolicy({ output: '', status: { state: 'SUCCESS', description: 'd'.repeat(200) } }, policy, { worker: 'rev' })
        .result.status,
    ).toEqual({
      state: 'success',
      context: 'meshcode/rev',
      description: 'd'.repeat(140),
    });
    expect(
      applyPolicy({ output: '', status: { state: 'pending' } }, policy, { worker: 'w' }).decision.status,
    ).toMatchObject({ allowed: false, reason: 'the policy allows only success, failure' });
    expect(
      applyPolicy({ output: '', status: { state: 'green' } }, policy, { worker: 'w' }).decision.status,
    ).toMatchObject({ allowed: false });
    const fixed = policyOf({ status: { allow: true, context: 'security/review' } });
    expect(
      applyPolicy({ output: '', status: { state: 'error', context: 'mine' } }, fixed, { worker: 'w' }).result.status
        ?.context,
    ).toBe('security/review');
  });

  it('refuses a commit diff over max_size in bytes', () => {
    const policy = policyOf({ commit: { allow: true, max_size: 10 } });
    expect(
      applyPolicy({ output: '', commit: { message: 'm', diff: 'é'.repeat(5) } }, policy, { worker: 'w' }).result.commit,
    ).toBeDefined();
    expect(
      applyPolicy({ output: '', commit: { message: 'm', diff: 'é'.repeat(6) } }, policy, { worker: 'w' }).decision
        .commit,
    ).toMatchObject({ allowed: false, bytes: 12 });
  });

  it('strips metadata when denied and keeps it by default', () => {
    expect(applyPolicy({ output: '', metadata: { a: 1 } }, policyOf({}), { worker: 'w' }).result.metadata).toEqual({
      a: 1,
    });
    expect(
      applyPolicy({ output: '', metadata: { a: 1 } }, policyOf({ metadata: false }), { worker: 'w' }).result.metadata,
    ).toBeUndefined();
    expect(applyPolicy({ output: 'x', metadata: { a: 1 } }, DENY_ALL, { worker: 'w' }).result).toEqual({ output: 'x' });
  });

  it('describes a decision in one line', () => {
    const { decision } = applyPolicy(
      { output: '', comment: { body: 'x'.repeat(50) }, labels: { add: ['ok', 'no'] }, status: { state: 'failure' } },
      policyOf({ comment: { allow: true, max_length: 30 }, labels: { allow: true, blocked: ['no'] }, status: true }),
      { worker: 'w' },
    );
    expect(describeDecision(decision)).toBe(
      'policy: comment allowed (truncated); labels +ok, denied no; status allowed (failure)',
    );
    expect(describeDecision({ denied_count: 0 })).toBe('policy: nothing to write back');
  });
});
