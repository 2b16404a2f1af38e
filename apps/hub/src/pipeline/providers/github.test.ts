// The GitHub write-back client against the local GitHub stand-in: request shapes, failure classification, and the
// marker check that keeps a retried comment from being posted twice.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { effectMarker } from '../effects';
import { startGitHubStandIn, type GitHubStandIn } from '../testing/github-standin';
import { githubClient } from './github';
import type { DueEffect } from './types';

const TOKEN = 'ghp_clientTest0123456789abcdefABCDEFgh';
let gh: GitHubStandIn;

function effect(
  kind: DueEffect['kind'],
  payload: Record<string, unknown>,
  target: DueEffect['target'] = {},
  attempts = 1,
): DueEffect {
  return {
    id: 'e1',
    key: `task:t1:${kind}`,
    meshwork_id: 'm',
    task_id: 't1',
    event_id: null,
    provider: 'github',
    kind,
    target: { repo: 'octo/app', number: 5, kind: 'pull_request', ...target },
    payload,
    attempts,
  };
}

beforeAll(async () => {
  gh = await startGitHubStandIn({ token: TOKEN });
});
afterAll(async () => {
  await gh.close();
});
beforeEach(() => {
  gh.comments.length = 0;
  gh.statuses.length = 0;
  gh.requests.length = 0;
  gh.pulls.set('octo/app#5', { headSha: 'a'.repeat(40), files: [], diff: '' });
});

describe('githubClient', () => {
  const client = () => githubClient({ baseUrl: gh.url, token: TOKEN, fetch });

  it('posts a comment with the effect marker and GitHub headers', async () => {
    const out = await client().perform(effect('comment', { body: 'hello' }));
    expect(out).toEqual({
      ok: true,
      response: { id: expect.any(Number), html_url: expect.stringContaining('#issuecomment-') },
    });
    expect(gh.comments[0]!.body).toBe(`hello\n\n${effectMarker('task:t1:comment')}`);
    expect(gh.requests[0]!.headers).toMatchObject({
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      authorization: `Bearer ${TOKEN}`,
    });
  });

  it('does not post a retried comment that already reached GitHub', async () => {
    await client().perform(effect('comment', { body: 'once' }));
    const again = await client().perform(effect('comment', { body: 'once' }, {}, 2));
    expect(again).toMatchObject({ ok: true, response: { recovered: true } });
    expect(gh.comments).toHaveLength(1);
  });

  it("finds the PR's head commit for a status when the event did not carry it", async () => {
    const out = await client().perform(effect('status', { state: 'success', context: 'meshcode/w' }));
    expect(out).toMatchObject({ ok: true, response: { sha: 'a'.repeat(40) } });
    expect(gh.statuses[0]).toMatchObject({ sha: 'a'.repeat(40), state: 'success' });
  });

  it('comments on the commit of a push', async () => {
    const out = await client().perform(
      effect('comment', { body: 'on a commit' }, { number: undefined, kind: 'commit', sha: 'b'.repeat(40) }),
    );
    expect(out.ok).toBe(true);
    expect(gh.commitComments.at(-1)).toMatchObject({ sha: 'b'.repeat(40) });
  });

  it('treats removing an absent label as done', async () => {
    expect(await client().perform(effect('labels', { add: [], remove: ['not-there'] }))).toMatchObject({ ok: true });
  });

  it('classifies failures: bad token permanent, 5xx and rate limits transient, network errors transient', async () => {
    const bad = await githubClient({ baseUrl: gh.url, token: 'ghp_wrongToken0123456789abcdefABCDEFgh', fetch }).perform(
      effect('comment', { body: 'x' }),
    );
    expect(bad).toMatchObject({
      ok: false,
      transient: false,
      error: expect.stringMatching(/answered 401.*Bad credentials.*mc_set_source_token/),
    });
    gh.failNext('POST', '/repos/octo/app/issues/5/comments', 503);
    expect(await client().perform(effect('comment', { body: 'x' }))).toMatchObject({ ok: false, transient: true });
    gh.failNext('POST', '/repos/octo/app/statuses/', 403, 1, { 'x-ratelimit-remaining': '0', 'retry-after': '7' });
    expect(
      await client().perform(effect('status', { state: 'success', context: 'c' }, { sha: 'c'.repeat(40) })),
    ).toMatchObject({ ok: false, transient: true, retryAfterMs: 7000 });
    const down = await githubClient({ baseUrl: 'http://127.0.0.1:1', token: TOKEN, fetch }).perform(
      effect('comment', { body: 'x' }),
    );
    expect(down).toMatchObject({ ok: false, transient: true, error: expect.stringContaining('could not be reached') });
    expect(gh.comments).toEqual([]);
  });

  it('hydrates a PR: file list and diff, capped', async () => {
    gh.pulls.set('octo/app#5', {
      headSha: 'a'.repeat(40),
      files: Array.from({ length: 150 }, (_, i) => ({
        filename: `f${i}.ts`,
        status: 'added',
        additions: i,
        deletions: 0,
      })),
      diff: `diff --git a/x b/x\n${'+'.repeat(150_000)}`,
    });
    const got = await client().hydrate({ repo: 'octo/app', number: 5 });
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.value.files.split('\n')).toHaveLength(150);
    expect(got.value.files.split('\n')[149]).toBe('added f149.ts (+149 -0)');
    expect(got.value.diff).toMatch(/\[diff truncated: \d+ more characters\]$/);
    expect(got.value.truncated).toBe(true);
  });
});
