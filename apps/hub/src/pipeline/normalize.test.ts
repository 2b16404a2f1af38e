import examples from '@octokit/webhooks-examples';
import { describe, expect, it } from 'vitest';
import { normalizeEvent, parsePayload } from './normalize';

function example(name: string, action?: string): Record<string, unknown> {
  return examples
    .find((d) => d.name === name)!
    .examples.find((e) => action === undefined || (e as { action?: string }).action === action) as Record<
    string,
    unknown
  >;
}

describe('normalizeEvent', () => {
  it('reads the PR, its head commit and the repository from a real pull_request delivery', () => {
    expect(normalizeEvent('github', 'pull_request', example('pull_request', 'opened'))).toEqual({
      event: 'pull_request',
      action: 'opened',
      summary: 'Codertocat/Hello-World#2 Update the README with new information.',
      subject: {
        provider: 'github',
        repo: 'Codertocat/Hello-World',
        actor: 'Codertocat',
        kind: 'pull_request',
        number: 2,
        sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
        ref: 'changes',
        title: 'Update the README with new information.',
        url: 'https://github.com/Codertocat/Hello-World/pull/2',
        label: 'Codertocat/Hello-World#2',
      },
    });
  });

  it('handles issues, issue comments and pushes', () => {
    expect(normalizeEvent('github', 'issues', example('issues', 'opened')).subject).toMatchObject({
      kind: 'issue',
      number: 1,
    });
    expect(normalizeEvent('github', 'issue_comment', example('issue_comment', 'created'))).toMatchObject({
      action: 'created',
      subject: { kind: 'issue', number: 1 },
    });
    const push = normalizeEvent('github', 'push', example('push'));
    expect(push.subject).toMatchObject({
      kind: 'commit',
      sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      ref: 'refs/tags/simple-tag',
    });
    expect(push.action).toBeUndefined();
  });

  it('reads GitLab merge requests and notes on them', () => {
    const mr = {
      object_kind: 'merge_request',
      user: { username: 'root' },
      project: { id: 15, path_with_namespace: 'g/app' },
      object_attributes: { iid: 7, action: 'open', title: 'T', last_commit: { id: 'abc1234' } },
    };
    expect(normalizeEvent('gitlab', 'Merge Request Hook', mr)).toMatchObject({
      event: 'merge_request',
      action: 'open',
      summary: 'g/app!7 T',
      subject: { project_id: 15, number: 7, sha: 'abc1234', kind: 'merge_request' },
    });
    const note = {
      object_kind: 'note',
      project: { id: 15, path_with_namespace: 'g/app' },
      object_attributes: { noteable_type: 'MergeRequest' },
      merge_request: { iid: 7, title: 'T' },
    };
    expect(normalizeEvent('gitlab', 'Note Hook', note)).toMatchObject({
      event: 'note',
      action: 'merge_request',
      subject: { number: 7, kind: 'merge_request' },
    });
  });

  it('gives chat events a summary and no write-back target', () => {
    expect(
      normalizeEvent('slack', 'app_mention', { event: { type: 'app_mention', text: 'hi there\nmore', user: 'U1' } }),
    ).toEqual({ event: 'app_mention', summary: 'U1: hi there', subject: { actor: 'U1' } });
    expect(
      normalizeEvent('telegram', 'message', { update_id: 1, message: { text: '/start', from: { username: 'ada' } } })
        .summary,
    ).toBe('ada: /start');
  });
});

describe('parsePayload', () => {
  it('parses JSON, and Slack form bodies', () => {
    expect(parsePayload('github', Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(parsePayload('github', Buffer.from('[1]'))).toBeUndefined();
    expect(parsePayload('github', Buffer.from('a=1'))).toBeUndefined();
    expect(parsePayload('slack', Buffer.from('command=%2Fdeploy&text=prod'))).toEqual({
      command: '/deploy',
      text: 'prod',
    });
    expect(parsePayload('slack', Buffer.from(`payload=${encodeURIComponent('{"type":"block_actions"}')}`))).toEqual({
      type: 'block_actions',
    });
  });
});
