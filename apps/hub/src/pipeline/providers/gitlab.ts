// GitLab REST write-back (MR/issue notes, labels, commit statuses; suggested diffs as a note) and MR hydration,
// speaking GitLab's v4 API shapes.
import { effectMarker } from '../effects';
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

export const GITLAB_API_URL = 'https://gitlab.com/api/v4';

const STATE: Record<string, string> = { success: 'success', failure: 'failed', error: 'failed', pending: 'pending' };

interface GitLabDiff {
  old_path?: string;
  new_path?: string;
  diff?: string;
  new_file?: boolean;
  renamed_file?: boolean;
  deleted_file?: boolean;
}

export function gitlabClient(opts: ProviderOptions): ProviderClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const label = `GitLab API at ${hostOf(base)}`;
  const call = (method: string, path: string, body?: unknown) =>
    apiCall(opts.fetch, `${base}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        'user-agent': 'meshcode-hub',
        ...(opts.token ? { 'private-token': opts.token } : {}),
      },
      body,
      label,
      timeoutMs: opts.timeoutMs,
    });

  function paths(target: DueEffect['target']): { project: string; item?: string } | undefined {
    if (target.project_id === undefined) return undefined;
    const project = `/projects/${encodeURIComponent(String(target.project_id))}`;
    if (target.number === undefined || target.kind === 'commit') return { project };
    const kind = target.kind === 'merge_request' ? 'merge_requests' : 'issues';
    return { project, item: `${project}/${kind}/${target.number}` };
  }

  async function alreadyPosted(
    path: string,
    key: string,
    field: 'body' | 'note',
  ): Promise<Record<string, unknown> | undefined> {
    const got = await call('GET', path);
    if (!got.ok || got.res.status !== 200 || !Array.isArray(got.res.json)) return undefined;
    const marker = effectMarker(key);
    const found = (got.res.json as Record<string, unknown>[]).find(
      (n) => typeof n[field] === 'string' && (n[field] as string).includes(marker),
    );
    return found ? { id: found['id'], recovered: true } : undefined;
  }

  async function note(
    p: { project: string; item?: string },
    sha: string | undefined,
    text: string,
    key: string,
    attempts: number,
  ): Promise<Outcome> {
    const body = `${text}\n\n${effectMarker(key)}`;
    if (p.item) {
      if (attempts > 1) {
        const found = await alreadyPosted(`${p.item}/notes?sort=desc&order_by=created_at&per_page=100`, key, 'body');
        if (found) return { ok: true, response: found };
      }
      const got = await call('POST', `${p.item}/notes`, { body });
      if (!got.ok) return got;
      if (got.res.status !== 201) return failureOf(got.res, label, 'POST note');
      const n = got.res.json as { id?: unknown };
      return { ok: true, response: { id: n.id } };
    }
    if (!sha) return permanent('The event has no merge request, issue or commit to comment on.');
    const commitPath = `${p.project}/repository/commits/${encodeURIComponent(sha)}/comments`;
    if (attempts > 1) {
      const found = await alreadyPosted(`${commitPath}?per_page=100`, key, 'note');
      if (found) return { ok: true, response: found };
    }
    const got = await call('POST', commitPath, { note: body });
    if (!got.ok) return got;
    if (got.res.status !== 201) return failureOf(got.res, label, 'POST commit comment');
    return { ok: true, response: { sha } };
  }

  async function itemSha(item: string): Promise<{ ok: true; sha: string } | Failure> {
    const got = await call('GET', item);
    if (!got.ok) return got;
    if (got.res.status !== 200) return failureOf(got.res, label, 'GET merge request');
    const sha = (got.res.json as { sha?: unknown } | undefined)?.sha;
    return typeof sha === 'string' ? { ok: true, sha } : permanent(`${label} returned a merge request without sha.`);
  }

  async function perform(effect: DueEffect): Promise<Outcome> {
    const p = paths(effect.target);
    if (!p) return permanent('The event names no GitLab project; nothing was written.');
    const payload = effect.payload;
    switch (effect.kind) {
      case 'comment':
        return note(p, effect.target.sha, String(payload['body'] ?? ''), effect.key, effect.attempts);
      case 'review': {
        const text = `${String(payload['message'] ?? 'Suggested changes')}\n\n\`\`\`diff\n${String(payload['diff'] ?? '')}\n\`\`\``;
        return note(p, effect.target.sha, text, effect.key, effect.attempts);
      }
      case 'labels': {
        if (!p.item) return permanent('Labels need a merge request or issue.');
        const add = Array.isArray(payload['add']) ? (payload['add'] as string[]) : [];
        const remove = Array.isArray(payload['remove']) ? (payload['remove'] as string[]) : [];
        const got = await call('PUT', p.item, {
          ...(add.length ? { add_labels: add.join(',') } : {}),
          ...(remove.length ? { remove_labels: remove.join(',') } : {}),
        });
        if (!got.ok) return got;
        if (got.res.status !== 200) return failureOf(got.res, label, 'PUT labels');
        return {
          ok: true,
          response: { added: add, removed: remove, labels: (got.res.json as { labels?: unknown })?.labels },
        };
      }
      case 'status': {
        let sha = effect.target.sha;
        if (!sha) {
          if (!p.item) return permanent('A commit status needs a commit.');
          const found = await itemSha(p.item);
          if (!found.ok) return found;
          sha = found.sha;
        }
        const state = STATE[String(payload['state'])] ?? 'failed';
        const got = await call('POST', `${p.project}/statuses/${encodeURIComponent(sha)}`, {
          state,
          name: payload['context'],
          ...(payload['description'] !== undefined ? { description: payload['description'] } : {}),
        });
        if (!got.ok) return got;
        if (got.res.status !== 201 && got.res.status !== 200) return failureOf(got.res, label, 'POST commit status');
        const s = got.res.json as { id?: unknown; status?: unknown; name?: unknown };
        return { ok: true, response: { id: s.id, state: s.status, context: s.name, sha } };
      }
    }
  }

  async function hydrate(target: DueEffect['target']): Promise<{ ok: true; value: Hydrated } | Failure> {
    const p = paths(target);
    if (!p?.item || target.kind !== 'merge_request') return permanent('Only merge requests can be hydrated.');
    const diffs: GitLabDiff[] = [];
    for (let page = 1; diffs.length < MAX_FILES && page <= Math.ceil(MAX_FILES / 100); page++) {
      const got = await call('GET', `${p.item}/diffs?per_page=100&page=${page}`);
      if (!got.ok) return got;
      if (got.res.status === 404 && page === 1) {
        // GitLab before 15.7 has no /diffs; /changes returns the same entries in one list.
        const changes = await call('GET', `${p.item}/changes`);
        if (!changes.ok) return changes;
        if (changes.res.status !== 200) return failureOf(changes.res, label, 'GET merge request changes');
        const list = (changes.res.json as { changes?: GitLabDiff[] } | undefined)?.changes;
        if (Array.isArray(list)) diffs.push(...list);
        break;
      }
      if (got.res.status !== 200) return failureOf(got.res, label, 'GET merge request diffs');
      const list = Array.isArray(got.res.json) ? (got.res.json as GitLabDiff[]) : [];
      diffs.push(...list);
      if (list.length < 100) break;
    }
    const text = diffs
      .map(
        (d) => `diff --git a/${d.old_path} b/${d.new_path}\n--- a/${d.old_path}\n+++ b/${d.new_path}\n${d.diff ?? ''}`,
      )
      .join('\n');
    const files = diffs
      .slice(0, MAX_FILES)
      .map(
        (d) =>
          `${d.new_file ? 'added' : d.deleted_file ? 'removed' : d.renamed_file ? 'renamed' : 'modified'} ${d.new_path}`,
      );
    const capped = capDiff(text);
    return {
      ok: true,
      value: { diff: capped.diff, files: files.join('\n'), truncated: capped.truncated || diffs.length > MAX_FILES },
    };
  }

  return { perform, hydrate };
}
