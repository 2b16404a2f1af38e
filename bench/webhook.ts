// Webhook benchmark (prints figures; asserts nothing): a signed GitHub delivery POSTed to the hub -> the task claimed
// by a worker that was waiting for it, as the worker runtime waits: in mc_worker_claim with p_wait_seconds, held by the
// hub until the task's assignment wakes it. Runs the hub as a child process on a throwaway PostgreSQL 15 cluster and on
// embedded PGlite.
// Usage: node --import tsx bench/webhook.ts [--backend postgres|pglite|both] [--n 500] [--ramdisk]
// --ramdisk puts the database on /dev/shm, separating the machine's fsync cost from ours.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import pg from 'pg';
import { startCluster } from '../packages/db/src/testing/cluster';
import { spawnHub, type HubProcess } from '../apps/hub/src/testing/hub-process';
import { signGitHub } from '../apps/hub/src/hooks/verify/index';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'both' },
    n: { type: 'string', default: '500' },
    ramdisk: { type: 'boolean', default: false },
  },
});

const dispatcher = new Agent({
  connections: null,
  pipelining: 1,
  keepAliveTimeout: 120_000,
  headersTimeout: 0,
  bodyTimeout: 0,
});

async function post(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; json: unknown }> {
  const res = await request(url, { method: 'POST', headers, body, dispatcher });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : null };
}

async function rpc<T>(hub: HubProcess, key: string, fn: string, args: Record<string, unknown>): Promise<T> {
  const res = await post(
    `${hub.url}/rest/v1/rpc/${fn}`,
    { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    JSON.stringify(args),
  );
  if (res.status >= 300) throw new Error(`${fn} -> ${res.status} ${JSON.stringify(res.json)}`);
  return res.json as T;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

/** A realistic delivery: GitHub's push payload shape, about 7 KB. */
function pushPayload(i: number): string {
  const commit = (n: number) => ({
    id: randomBytes(20).toString('hex'),
    tree_id: randomBytes(20).toString('hex'),
    distinct: true,
    message: `Commit ${i}.${n}: tidy the webhook intake path`,
    timestamp: new Date().toISOString(),
    url: `https://github.com/octo/bench/commit/${n}`,
    author: { name: 'Octo Cat', email: 'octo@example.com', username: 'octocat' },
    committer: { name: 'Octo Cat', email: 'octo@example.com', username: 'octocat' },
    added: [],
    removed: [],
    modified: ['README.md', 'src/index.ts'],
  });
  return JSON.stringify({
    ref: 'refs/heads/main',
    before: randomBytes(20).toString('hex'),
    after: randomBytes(20).toString('hex'),
    repository: {
      id: 1,
      name: 'bench',
      full_name: 'octo/bench',
      private: false,
      owner: { login: 'octo', id: 1 },
      html_url: 'https://github.com/octo/bench',
      default_branch: 'main',
    },
    pusher: { name: 'octocat', email: 'octo@example.com' },
    sender: { login: 'octocat', id: 583231, type: 'User' },
    created: false,
    deleted: false,
    forced: false,
    compare: 'https://github.com/octo/bench/compare/a...b',
    commits: Array.from({ length: 8 }, (_, n) => commit(n)),
    head_commit: commit(9),
  });
}

async function heldAtLeast(hub: HubProcess, n: number): Promise<void> {
  for (;;) {
    const res = await request(`${hub.url}/health`, { dispatcher });
    if (((await res.body.json()) as { waiting: number }).waiting >= n) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function settled(hub: HubProcess, key: string, eventId: string): Promise<void> {
  for (;;) {
    const trace = await rpc<{ event: { state: string } }>(hub, key, 'mc_event_trace', {
      p_meshwork: 'bench',
      p_event_id: eventId,
    });
    if (trace.event.state === 'completed' || trace.event.state === 'failed') return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

interface Claim {
  task: { id: string } | null;
  run?: { attempt: number };
  reason?: string;
}

async function measure(hub: HubProcess, n: number) {
  const { key } = (await (
    await request(`${hub.url}/auth/v1/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `bench-${Date.now()}@example.test`, display_name: 'bench' }),
      dispatcher,
    })
  ).body.json()) as { key: string };
  await rpc(hub, key, 'mc_create_meshwork', { p_name: 'bench' });
  const hook = await rpc<{ url: string; secret: string }>(hub, key, 'mc_set_webhook_secret', {
    p_meshwork: 'bench',
    p_source: 'github',
  });
  await rpc(hub, key, 'mc_worker_upsert', {
    p_meshwork: 'bench',
    p_definition: {
      name: 'bench-worker',
      driver: 'exec',
      exec: { command: ['cat'] },
      events: [{ source: 'github', on: 'push', prompt: 'Summarise {{ summary }}' }],
      limits: { concurrency: 1000, rate_per_minute: 1_000_000 },
    },
  });
  const waitingClaim = () =>
    rpc<Claim>(hub, key, 'mc_worker_claim', { p_meshwork: 'bench', p_agent: 'bench-worker', p_wait_seconds: 30 });
  const posts: number[] = [];
  const claims: number[] = [];
  for (let i = 0; i < n + 20; i++) {
    const body = pushPayload(i);
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': signGitHub(body, hook.secret),
    };
    const waiting = waitingClaim().then((claim) => ({ claim, at: performance.now() }));
    // Let the hub hold the claim, as a worker idling for tasks would have long before the delivery.
    await heldAtLeast(hub, 1);
    const t0 = performance.now();
    const posted = post(hook.url, headers, body).then((r) => {
      if (r.status !== 202) throw new Error(`delivery answered ${r.status} ${JSON.stringify(r.json)}`);
      return { at: performance.now(), eventId: (r.json as { event_id: string }).event_id };
    });
    const { claim, at } = await waiting;
    const { at: tPost, eventId } = await posted;
    if (!claim.task) throw new Error(`the waiting worker was answered without a task (${claim.reason})`);
    await rpc(hub, key, 'mc_worker_report', {
      p_meshwork: 'bench',
      p_agent: 'bench-worker',
      p_task_id: claim.task.id,
      p_attempt: claim.run!.attempt,
      p_ok: true,
      p_output: 'ok',
    });
    // Each delivery is measured on its own: the previous one's policy step has finished before the next is posted.
    await settled(hub, key, eventId);
    if (i < 20) continue; // warm-up
    posts.push(tPost - t0);
    claims.push(at - t0);
  }
  for (const a of [posts, claims]) a.sort((x, y) => x - y);
  return { posts, claims };
}

async function runBackend(backend: 'postgres' | 'pglite') {
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;
  const masterKey = randomBytes(32).toString('base64');
  if (backend === 'postgres') {
    const dir = mkdtempSync(join(values.ramdisk ? '/dev/shm' : tmpdir(), 'meshcode-bench-pg-'));
    const cluster = await startCluster(dir);
    const admin = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query('create database bench');
    await admin.end();
    const home = mkdtempSync(join(tmpdir(), 'meshcode-bench-home-'));
    env = {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${cluster.port}/bench`,
      MESHCODE_DB_POOL: '16',
      MESHCODE_HOME: home,
      MESHCODE_MASTER_KEY: masterKey,
    };
    cleanup = async () => {
      cluster.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    };
  } else {
    const home = mkdtempSync(join(values.ramdisk ? '/dev/shm' : tmpdir(), 'meshcode-bench-'));
    env = { MESHCODE_HOME: home, MESHCODE_MASTER_KEY: masterKey };
    cleanup = async () => rmSync(home, { recursive: true, force: true });
  }
  const hub = await spawnHub(env);
  try {
    const n = Number(values.n);
    const r = await measure(hub, n);
    console.log(
      `\n## webhook benchmark — ${backend}${values.ramdisk ? ' (data on tmpfs: fsync cost removed)' : ''} (hub in its own process, ${n} sequential signed GitHub push deliveries of ~7 KB, each after the previous one settled)`,
    );
    console.log(
      `webhook POST answered (verify, match, event + task + wake in one transaction)   p50 ${fmt(pct(r.posts, 50))}   p99 ${fmt(pct(r.posts, 99))}`,
    );
    console.log(
      `webhook POST -> task claimed by the waiting worker (its mc_worker_claim returns)  p50 ${fmt(pct(r.claims, 50))}   p99 ${fmt(pct(r.claims, 99))}   (target p50 <= 5 ms, p99 <= 20 ms on PostgreSQL)`,
    );
  } finally {
    await hub.kill('SIGTERM');
    await cleanup();
  }
}

const backends: ('postgres' | 'pglite')[] =
  values.backend === 'both' ? ['postgres', 'pglite'] : [values.backend as 'postgres' | 'pglite'];
for (const b of backends) await runBackend(b);
await dispatcher.close();
