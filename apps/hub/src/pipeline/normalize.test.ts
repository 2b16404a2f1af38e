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

  it('gives chat events a summary, and the channel and thread (or chat and message) a reply goes to', () => {
    const mention = { event: { type: 'app_mention', text: 'hi there\nmore', user: 'U1', channel: 'C1', ts: '17.01' } };
    expect(normalizeEvent('slack', 'app_mention', mention)).toEqual({
      event: 'app_mention',
      summary: 'U1: hi there',
      subject: { provider: 'slack', actor: 'U1', channel: 'C1', thread: '17.01', label: 'Slack C1' },
    });
    // In a thread, the reply joins that thread; a slash command has a channel and no message to thread under.
    expect(
      normalizeEvent('slack', 'message', {
        event: { text: 'x', user: 'U1', channel: 'C1', ts: '18.02', thread_ts: '17.01' },
      }).subject.thread,
    ).toBe('17.01');
    const command = normalizeEvent('slack', '/deploy', {
      command: '/deploy',
      text: 'prod',
      user_name: 'ada',
      channel_id: 'C9',
    });
    expect(command.subject).toEqual({ provider: 'slack', actor: 'ada', channel: 'C9', label: 'Slack C9' });
    // A button press: the channel and the message it was on.
    const action = normalizeEvent('slack', 'block_actions', {
      type: 'block_actions',
      user: { id: 'U2' },
      channel: { id: 'C3' },
      message: { ts: '19.03' },
    });
    expect(action.subject).toMatchObject({ actor: 'U2', channel: 'C3', thread: '19.03' });
    // Without a channel there is nowhere to reply.
    expect(normalizeEvent('slack', 'app_home_opened', { event: { user: 'U1' } }).subject).toEqual({
      provider: 'slack',
      actor: 'U1',
    });

    const update = {
      update_id: 1,
      message: { message_id: 5, chat: { id: -100123 }, text: '/start', from: { username: 'ada' } },
    };
    expect(normalizeEvent('telegram', 'message', update)).toEqual({
      event: 'message',
      summary: 'ada: /start',
      subject: { provider: 'telegram', actor: 'ada', channel: '-100123', thread: '5', label: 'Telegram chat -100123' },
    });
    const pressed = normalizeEvent('telegram', 'callback_query', {
      update_id: 2,
      callback_query: { id: 'q', data: 'yes', from: { username: 'ada' }, message: { message_id: 6, chat: { id: 42 } } },
    });
    expect(pressed).toMatchObject({ summary: 'ada: yes', subject: { channel: '42', thread: '6' } });
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
