// A local stand-in for GitLab's v4 REST API on 127.0.0.1: MR/issue notes, label updates, commit statuses and MR
// diffs with GitLab's shapes and PRIVATE-TOKEN auth.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitLabStandIn {
  url: string;
  requests: { method: string; path: string; body: unknown }[];
  notes: { id: number; project: string; item: string; body: string }[];
  labels: Map<string, string[]>;
  statuses: { id: number; project: string; sha: string; state: string; name: string }[];
  diffs: Map<
    string,
    {
      old_path: string;
      new_path: string;
      diff: string;
      new_file: boolean;
      renamed_file: boolean;
      deleted_file: boolean;
    }[]
  >;
  close(): Promise<void>;
}

export async function startGitLabStandIn(opts: { token?: string } = {}): Promise<GitLabStandIn> {
  const self: Omit<GitLabStandIn, 'url' | 'close'> = {
    requests: [],
    notes: [],
    labels: new Map(),
    statuses: [],
    diffs: new Map(),
  };
  let nextId = 500;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
      self.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, body });
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (opts.token !== undefined && req.headers['private-token'] !== opts.token)
        return send(401, { message: '401 Unauthorized' });
      const m = /^\/api\/v4\/projects\/([^/]+)(\/.*)$/.exec(url.pathname);
      if (!m) return send(404, { message: '404 Not Found' });
      const project = decodeURIComponent(m[1]!);
      const rest = m[2]!;
      let r: RegExpExecArray | null;
      if (req.method === 'POST' && (r = /^\/(merge_requests|issues)\/(\d+)\/notes$/.exec(rest))) {
        const note = { id: nextId++, project, item: `${r[1]}/${r[2]}`, body: String(body['body'] ?? '') };
        self.notes.push(note);
        return send(201, {
          id: note.id,
          type: null,
          body: note.body,
          author: { id: 1, username: 'meshcode-bot' },
          created_at: '2026-11-22T00:00:00.000Z',
          system: false,
          noteable_id: 1,
          noteable_type: r[1] === 'issues' ? 'Issue' : 'MergeRequest',
          noteable_iid: Number(r[2]),
        });
      }
      if (req.method === 'GET' && (r = /^\/(merge_requests|issues)\/(\d+)\/notes$/.exec(rest))) {
        const item = `${r[1]}/${r[2]}`;
        return send(
          200,
          self.notes
            .filter((n) => n.project === project && n.item === item)
            .reverse()
            .map((n) => ({ id: n.id, body: n.body })),
        );
      }
      if (req.method === 'PUT' && (r = /^\/(merge_requests|issues)\/(\d+)$/.exec(rest))) {
        const key = `${project}/${r[1]}/${r[2]}`;
        const add = typeof body['add_labels'] === 'string' ? body['add_labels'].split(',') : [];
        const remove = typeof body['remove_labels'] === 'string' ? body['remove_labels'].split(',') : [];
        const now = [...new Set([...(self.labels.get(key) ?? []), ...add])].filter((l) => !remove.includes(l));
        self.labels.set(key, now);
        return send(200, { iid: Number(r[2]), labels: now, state: 'opened' });
      }
      if (req.method === 'GET' && (r = /^\/merge_requests\/(\d+)$/.exec(rest))) {
        return send(200, { iid: Number(r[1]), sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', state: 'opened' });
      }
      if (req.method === 'GET' && (r = /^\/merge_requests\/(\d+)\/diffs$/.exec(rest))) {
        return send(200, self.diffs.get(`${project}!${r[1]}`) ?? []);
      }
      if (req.method === 'POST' && (r = /^\/statuses\/([0-9a-f]{7,64})$/.exec(rest))) {
        const s = {
          id: nextId++,
          project,
          sha: r[1]!,
          state: String(body['state']),
          name: String(body['name'] ?? 'default'),
        };
        self.statuses.push(s);
        return send(201, {
          id: s.id,
          sha: s.sha,
          ref: 'main',
          status: s.state,
          name: s.name,
          description: body['description'] ?? null,
          created_at: '2026-11-22T00:00:00.000Z',
          author: { username: 'meshcode-bot' },
        });
      }
      return send(404, { message: '404 Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4`;
  return {
    ...self,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
