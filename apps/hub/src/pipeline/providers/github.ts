// GitHub REST write-back (issue/PR comments, labels, commit statuses, review suggestions) and PR hydration (diff and
// file list), speaking the documented request and response shapes of api.github.com.
import { effectMarker } from '../effects';
import { suggestionsFromDiff } from '../diff';
import { apiCall, failureOf, hostOf, permanent, type Failure } from './http';
import {
  capDiff,
  MAX_FILES,
  type DueEffect,
  type Hydrated,
  type Outcome,
  type ProviderClient,
  type ProviderOptions,
} from './types';

export const GITHUB_API_URL = 'https://api.github.com';

interface GitHubFile {
  filename?: string;
  status?: string;
  additions?: number;
  deletions?: number;
}

function repoPath(repo: string | undefined): string | undefined {
  if (!repo || !/^[^/\s]+\/[^/\s]+$/.test(repo)) return undefined;
  const [owner = '', name = ''] = repo.split('/');
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}

export function githubClient(opts: ProviderOptions): ProviderClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const label = `GitHub API at ${hostOf(base)}`;
  const headers = (accept = 'application/vnd.github+json'): Record<string, string> => ({
    accept,
    'x-github-api-version': '2022-11-28',
    'user-agent': 'meshcode-hub',
    ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
  });
  const call = (method: string, path: string, body?: unknown, accept?: string) =>
    apiCall(opts.fetch, `${base}${path}`, {
      method,
      headers: headers(accept),
      body,
      label,
      timeoutMs: opts.timeoutMs,
    });

  async function headSha(repo: string, number: number): Promise<{ ok: true; sha: string } | Failure> {
    const got = await call('GET', `${repo}/pulls/${number}`);
    if (!got.ok) return got;
    if (got.res.status !== 200) return failureOf(got.res, label, `GET pull request #${number}`);
    const sha = (got.res.json as { head?: { sha?: unknown } } | undefined)?.head?.sha;
    return typeof sha === 'string'
      ? { ok: true, sha }
      : permanent(`${label} returned a pull request without head.sha.`);
  }

  /** After a crash mid-call the comment may exist already: look for our marker before posting again. */
  async function alreadyPosted(path: string, key: string): Promise<Record<string, unknown> | undefined> {
    const got = await call('GET', path);
    if (!got.ok || got.res.status !== 200 || !Array.isArray(got.res.json)) return undefined;
    const marker = effectMarker(key);
    const found = (got.res.json as { id?: unknown; html_url?: unknown; body?: unknown }[]).find(
      (c) => typeof c.body === 'string' && c.body.includes(marker),
    );
    return found ? { id: found.id, html_url: found.html_url, recovered: true } : undefined;
  }

  async function perform(effect: DueEffect): Promise<Outcome> {
    const repo = repoPath(effect.target.repo);
    if (!repo) return permanent(`The event names no GitHub repository ("owner/name"); nothing was written.`);
    const n = effect.target.number;
    const onItem = n !== undefined && effect.target.kind !== 'commit';
    const p = effect.payload;
    switch (effect.kind) {
      case 'comment': {
        const body = `${String(p['body'] ?? '')}\n\n${effectMarker(effect.key)}`;
        const listPath = onItem
          ? `${repo}/issues/comments?sort=created&direction=desc&per_page=100`
          : `${repo}/commits/${effect.target.sha ?? ''}/comments?per_page=100`;
        if (effect.attempts > 1) {
          const found = await alreadyPosted(listPath, effect.key);
          if (found) return { ok: true, response: found };
        }
        const path = onItem ? `${repo}/issues/${n}/comments` : `${repo}/commits/${effect.target.sha ?? ''}/comments`;
        const got = await call('POST', path, { body });
        if (!got.ok) return got;
        if (got.res.status !== 201) return failureOf(got.res, label, `POST ${onItem ? `#${n}` : 'commit'} comment`);
        const c = got.res.json as { id?: unknown; html_url?: unknown };
        return { ok: true, response: { id: c.id, html_url: c.html_url } };
      }
      case 'labels': {
        if (!onItem) return permanent('Labels need an issue or pull request.');
        const add = Array.isArray(p['add']) ? (p['add'] as string[]) : [];
        const remove = Array.isArray(p['remove']) ? (p['remove'] as string[]) : [];
        let labels: unknown;
        if (add.length) {
          const got = await call('POST', `${repo}/issues/${n}/labels`, { labels: add });
          if (!got.ok) return got;
          if (got.res.status !== 200) return failureOf(got.res, label, `POST labels on #${n}`);
          labels = got.res.json;
        }
        for (const name of remove) {
          const got = await call('DELETE', `${repo}/issues/${n}/labels/${encodeURIComponent(name)}`);
          if (!got.ok) return got;
          // 404: the label was not on the issue, which is what removing it wants.
          if (got.res.status !== 200 && got.res.status !== 404) {
            return failureOf(got.res, label, `DELETE label ${name} on #${n}`);
          }
          if (got.res.status === 200) labels = got.res.json;
        }
        const names = Array.isArray(labels) ? (labels as { name?: unknown }[]).map((l) => l.name) : undefined;
        return { ok: true, response: { added: add, removed: remove, ...(names ? { labels: names } : {}) } };
      }
      case 'status': {
        let sha = effect.target.sha;
        if (!sha) {
          if (n === undefined) return permanent('A commit status needs a commit.');
          const head = await headSha(repo, n);
          if (!head.ok) return head;
          sha = head.sha;
        }
        const got = await call('POST', `${repo}/statuses/${encodeURIComponent(sha)}`, {
          state: p['state'],
          context: p['context'],
          ...(p['description'] !== undefined ? { description: p['description'] } : {}),
        });
        if (!got.ok) return got;
        if (got.res.status !== 201) return failureOf(got.res, label, `POST status on ${sha.slice(0, 7)}`);
        const s = got.res.json as { id?: unknown; state?: unknown; context?: unknown; url?: unknown };
        return { ok: true, response: { id: s.id, state: s.state, context: s.context, sha } };
      }
      case 'review': {
        if (!onItem) return permanent('Review suggestions need a pull request.');
        const { suggestions, skipped } = suggestionsFromDiff(String(p['diff'] ?? ''));
        if (suggestions.length === 0) {
          return permanent('The suggested diff has no hunk that replaces existing lines, so no suggestion was made.');
        }
        if (effect.attempts > 1) {
          const found = await alreadyPosted(`${repo}/pulls/${n}/reviews?per_page=100`, effect.key);
          if (found) return { ok: true, response: found };
        }
        let sha = effect.target.sha;
        if (!sha) {
          const head = await headSha(repo, n);
          if (!head.ok) return head;
          sha = head.sha;
        }
        const got = await call('POST', `${repo}/pulls/${n}/reviews`, {
          commit_id: sha,
          event: 'COMMENT',
          body: `${String(p['message'] ?? 'Suggested changes')}\n\n${effectMarker(effect.key)}`,
          comments: suggestions.map((s) => ({
            path: s.path,
            body: `\`\`\`suggestion\n${s.body}\n\`\`\``,
            line: s.endLine,
            side: 'RIGHT',
            ...(s.startLine < s.endLine ? { start_line: s.startLine, start_side: 'RIGHT' } : {}),
          })),
        });
        if (!got.ok) return got;
        if (got.res.status !== 200) return failureOf(got.res, label, `POST review on #${n}`);
        const r = got.res.json as { id?: unknown; html_url?: unknown };
        return { ok: true, response: { id: r.id, html_url: r.html_url, suggestions: suggestions.length, skipped } };
      }
    }
  }

  async function hydrate(target: DueEffect['target']): Promise<{ ok: true; value: Hydrated } | Failure> {
    const repo = repoPath(target.repo);
    const n = target.number;
    if (!repo || n === undefined) return permanent('Only pull requests can be hydrated.');
    const files: string[] = [];
    for (let page = 1; files.length < MAX_FILES && page <= Math.ceil(MAX_FILES / 100); page++) {
      const got = await call('GET', `${repo}/pulls/${n}/files?per_page=100&page=${page}`);
      if (!got.ok) return got;
      if (got.res.status !== 200) return failureOf(got.res, label, `GET files of #${n}`);
      const list = Array.isArray(got.res.json) ? (got.res.json as GitHubFile[]) : [];
      for (const f of list) {
        files.push(`${f.status ?? 'modified'} ${f.filename ?? '?'} (+${f.additions ?? 0} -${f.deletions ?? 0})`);
      }
      if (list.length < 100) break;
    }
    const got = await call('GET', `${repo}/pulls/${n}`, undefined, 'application/vnd.github.diff');
    if (!got.ok) return got;
    if (got.res.status !== 200) return failureOf(got.res, label, `GET diff of #${n}`);
    const capped = capDiff(got.res.text);
    const truncatedFiles = files.length >= MAX_FILES;
    return {
      ok: true,
      value: {
        diff: capped.diff,
        files: files.slice(0, MAX_FILES).join('\n') + (truncatedFiles ? `\n[file list capped at ${MAX_FILES}]` : ''),
        truncated: capped.truncated || truncatedFiles,
      },
    };
  }

  return { perform, hydrate };
}
