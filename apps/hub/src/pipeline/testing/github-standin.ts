// A local stand-in for GitHub's REST API on 127.0.0.1, for tests and benchmarks: the endpoints the pipeline uses,
// with GitHub's request and response shapes (comments, labels, statuses, reviews, PR files and diff), bearer-token
// auth, and failure injection. It records every request.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface PullRequestFixture {
  headSha: string;
  files: { filename: string; status: string; additions: number; deletions: number; patch?: string }[];
  diff: string;
}

export interface GitHubStandIn {
  url: string;
  requests: Recorded[];
  comments: { id: number; repo: string; number: number; body: string }[];
  commitComments: { id: number; repo: string; sha: string; body: string }[];
  labels: Map<string, string[]>;
  statuses: { id: number; repo: string; sha: string; state: string; context: string; description: string | null }[];
  reviews: { id: number; repo: string; number: number; body: string; commit_id: string; comments: unknown[] }[];
  pulls: Map<string, PullRequestFixture>;
  /** The next `times` requests matching method + path prefix answer `status` (GitHub's error body). */
  failNext(method: string, pathPrefix: string, status: number, times?: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
const user = { login: 'meshcode-bot', id: 4242, node_id: 'U_kgDOAAAQkg', type: 'Bot', site_admin: false };

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'x-github-api-version-selected': '2022-11-28',
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    ...headers,
  });
  res.end(text);
}

export async function startGitHubStandIn(opts: { token?: string } = {}): Promise<GitHubStandIn> {
  const requests: Recorded[] = [];
  const comments: GitHubStandIn['comments'] = [];
  const commitComments: GitHubStandIn['commitComments'] = [];
  const labels = new Map<string, string[]>();
  const statuses: GitHubStandIn['statuses'] = [];
  const reviews: GitHubStandIn['reviews'] = [];
  const pulls = new Map<string, PullRequestFixture>();
  const failures: { method: string; prefix: string; status: number; left: number; headers: Record<string, string> }[] =
    [];
  let nextId = 1_000_000;
  let base = '';

  const labelObject = (repo: string, name: string) => ({
    id: name.length * 1000 + 7,
    node_id: `LA_${Buffer.from(name).toString('base64url')}`,
    url: `${base}/repos/${repo}/labels/${encodeURIComponent(name)}`,
    name,
    color: 'ededed',
    default: false,
    description: null,
  });
  const commentObject = (repo: string, c: { id: number; number: number; body: string }) => ({
    url: `${base}/repos/${repo}/issues/comments/${c.id}`,
    html_url: `https://github.com/${repo}/pull/${c.number}#issuecomment-${c.id}`,
    issue_url: `${base}/repos/${repo}/issues/${c.number}`,
    id: c.id,
    node_id: `IC_${c.id}`,
    user,
    created_at: '2026-11-22T00:00:00Z',
    updated_at: '2026-11-22T00:00:00Z',
    author_association: 'NONE',
    body: c.body,
  });

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return send(res, 400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
    }
    requests.push({ method, path: path + url.search, headers: req.headers, body });
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
      return send(res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    }
    const failure = failures.find((f) => f.method === method && path.startsWith(f.prefix) && f.left > 0);
    if (failure) {
      failure.left -= 1;
      return send(
        res,
        failure.status,
        { message: 'Server Error', documentation_url: DOCS, status: String(failure.status) },
        failure.headers,
      );
    }
    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)$/.exec(path);
    if (!m) return send(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
    const repo = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
    const rest = m[3]!;
    let r: RegExpExecArray | null;
    const b = (body ?? {}) as Record<string, unknown>;

    if (method === 'POST' && (r = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      if (typeof b['body'] !== 'string') {
        return send(res, 422, {
          message: 'Invalid request.\n\n"body" wasn\'t supplied.',
          documentation_url: DOCS,
          status: '422',
        });
      }
      const c = { id: nextId++, repo, number: Number(r[1]), body: b['body'] };
      comments.push(c);
      return send(res, 201, commentObject(repo, c));
    }
    if (method === 'GET' && rest === '/issues/comments') {
      const list = comments.filter((c) => c.repo === repo).map((c) => commentObject(repo, c));
      return send(res, 200, url.searchParams.get('direction') === 'desc' ? list.reverse() : list);
    }
    if (method === 'GET' && (r = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const n = Number(r[1]);
      return send(
        res,
        200,
        comments.filter((c) => c.repo === repo && c.number === n).map((c) => commentObject(repo, c)),
      );
    }
    if (method === 'POST' && (r = /^\/issues\/(\d+)\/labels$/.exec(rest))) {
      const key = `${repo}#${r[1]}`;
      const wanted = Array.isArray(b['labels']) ? (b['labels'] as string[]) : [];
      const now = [...new Set([...(labels.get(key) ?? []), ...wanted])];
      labels.set(key, now);
      return send(
        res,
        200,
        now.map((name) => labelObject(repo, name)),
      );
    }
    if (method === 'DELETE' && (r = /^\/issues\/(\d+)\/labels\/(.+)$/.exec(rest))) {
      const key = `${repo}#${r[1]}`;
      const name = decodeURIComponent(r[2]!);
      const now = labels.get(key) ?? [];
      if (!now.includes(name))
        return send(res, 404, { message: 'Label does not exist', documentation_url: DOCS, status: '404' });
      labels.set(
        key,
        now.filter((l) => l !== name),
      );
      return send(
        res,
        200,
        (labels.get(key) ?? []).map((l) => labelObject(repo, l)),
      );
    }
    if (method === 'POST' && (r = /^\/statuses\/([0-9a-f]{7,64})$/.exec(rest))) {
      const state = String(b['state'] ?? '');
      if (!['error', 'failure', 'pending', 'success'].includes(state)) {
        return send(res, 422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Status', field: 'state', code: 'invalid' }],
          documentation_url: DOCS,
          status: '422',
        });
      }
      const s = {
        id: nextId++,
        repo,
        sha: r[1]!,
        state,
        context: typeof b['context'] === 'string' ? b['context'] : 'default',
        description: typeof b['description'] === 'string' ? b['description'] : null,
      };
      statuses.push(s);
      return send(res, 201, {
        url: `${base}/repos/${repo}/statuses/${s.sha}`,
        avatar_url: 'https://avatars.githubusercontent.com/u/4242',
        id: s.id,
        node_id: `SC_${s.id}`,
        state: s.state,
        description: s.description,
        target_url: b['target_url'] ?? null,
        context: s.context,
        created_at: '2026-11-22T00:00:00Z',
        updated_at: '2026-11-22T00:00:00Z',
        creator: user,
      });
    }
    if (method === 'POST' && (r = /^\/commits\/([0-9a-f]{7,64})\/comments$/.exec(rest))) {
      const c = { id: nextId++, repo, sha: r[1]!, body: String(b['body'] ?? '') };
      commitComments.push(c);
      return send(res, 201, {
        id: c.id,
        node_id: `CC_${c.id}`,
        body: c.body,
        commit_id: c.sha,
        user,
        html_url: `https://github.com/${repo}/commit/${c.sha}#commitcomment-${c.id}`,
      });
    }
    if (method === 'GET' && (r = /^\/commits\/([0-9a-f]{7,64})\/comments$/.exec(rest))) {
      const sha = r[1]!;
      return send(
        res,
        200,
        commitComments
          .filter((c) => c.repo === repo && c.sha === sha)
          .map((c) => ({ id: c.id, body: c.body, commit_id: c.sha })),
      );
    }
    if ((r = /^\/pulls\/(\d+)(\/files|\/reviews)?$/.exec(rest))) {
      const n = Number(r[1]);
      const pr = pulls.get(`${repo}#${n}`);
      if (!pr) return send(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
      if (method === 'GET' && r[2] === undefined) {
        const accept = String(req.headers.accept ?? '');
        if (accept.includes('diff')) return send(res, 200, pr.diff);
        return send(res, 200, {
          url: `${base}/repos/${repo}/pulls/${n}`,
          id: n * 10,
          number: n,
          state: 'open',
          head: { sha: pr.headSha, ref: 'feature' },
          base: { ref: 'main' },
        });
      }
      if (method === 'GET' && r[2] === '/files') {
        const page = Number(url.searchParams.get('page') ?? '1');
        const per = Number(url.searchParams.get('per_page') ?? '30');
        return send(
          res,
          200,
          pr.files.slice((page - 1) * per, page * per).map((f) => ({
            sha: pr.headSha,
            blob_url: '',
            raw_url: '',
            contents_url: '',
            changes: f.additions + f.deletions,
            ...f,
          })),
        );
      }
      if (r[2] === '/reviews' && method === 'POST') {
        const review = {
          id: nextId++,
          repo,
          number: n,
          body: String(b['body'] ?? ''),
          commit_id: String(b['commit_id'] ?? pr.headSha),
          comments: Array.isArray(b['comments']) ? (b['comments'] as unknown[]) : [],
        };
        reviews.push(review);
        return send(res, 200, {
          id: review.id,
          node_id: `PRR_${review.id}`,
          user,
          body: review.body,
          state: 'COMMENTED',
          html_url: `https://github.com/${repo}/pull/${n}#pullrequestreview-${review.id}`,
          pull_request_url: `${base}/repos/${repo}/pulls/${n}`,
          commit_id: review.commit_id,
          submitted_at: '2026-11-22T00:00:00Z',
        });
      }
      if (r[2] === '/reviews' && method === 'GET') {
        return send(
          res,
          200,
          reviews
            .filter((v) => v.repo === repo && v.number === n)
            .map((v) => ({ id: v.id, body: v.body, state: 'COMMENTED', commit_id: v.commit_id })),
        );
      }
    }
    return send(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    comments,
    commitComments,
    labels,
    statuses,
    reviews,
    pulls,
    failNext(method, pathPrefix, status, times = 1, headers = {}) {
      failures.push({ method, prefix: pathPrefix, status, left: times, headers });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
