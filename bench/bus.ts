// Bus benchmark (prints figures; asserts nothing): send->wake latency, sustained durable msgs/s, idle waiters held
// and RSS per waiter, broadcast to 1,000 waiters. Runs the hub as a child process on a throwaway PostgreSQL 15
// cluster and on embedded PGlite. Usage: npm run bench:bus [-- --backend postgres|pglite] [--waiters N] [--rounds N]
// [--phases latency,throughput,idle,broadcast] [--ramdisk]
// --ramdisk puts the database on /dev/shm, separating the disk's fsync cost (pg_test_fsync: 0.13 ms per 8 kB write
// here) from ours.
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import pg from 'pg';
import { startCluster } from '../packages/db/src/testing/cluster';
import { spawnHub, type HubProcess } from '../apps/hub/src/testing/hub-process';
import { rssOf } from './proc';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'both' },
    // Idle waiters to hold: 10,000 on PostgreSQL; 2,000 on PGlite, whose hub refuses a burst of 10,000 connections.
    waiters: { type: 'string' },
    latency: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    senders: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '100' },
    ramdisk: { type: 'boolean', default: false },
    phases: { type: 'string', default: 'latency,throughput,idle,broadcast' },
  },
});

const dispatcher = new Agent({
  connections: null,
  pipelining: 1,
  keepAliveTimeout: 120_000,
  headersTimeout: 0,
  bodyTimeout: 0,
});

interface Answer {
  status: number;
  text: string;
  /** performance.now() when the answer's last byte arrived. */
  at: number;
}

/**
 * One RPC over undici's low-level dispatch (no body stream, no promise per chunk), its arrival stamped when its last
 * byte is read. This one process plays every agent, on the same two cores as the hub and the database: what it spends
 * reading and parsing 1,000 long-poll answers in turn would otherwise be counted as the hub's delay.
 */
function dispatchRpc(url: string, key: string, fn: string, args: Record<string, unknown>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status = 0;
    dispatcher.dispatch(
      {
        origin: url,
        path: `/rest/v1/rpc/${fn}`,
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(args),
      },
      {
        onRequestStart: () => undefined,
        onResponseStart: (_c, statusCode) => {
          status = statusCode;
        },
        onResponseData: (_c, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          const at = performance.now();
          resolve({ status, at, text: Buffer.concat(chunks).toString('utf8') });
        },
        onResponseError: (_c, err) => reject(err),
      },
    );
  });
}

function parsed(fn: string, answer: Answer): unknown {
  if (answer.status >= 300) throw new Error(`${fn} -> ${answer.status} ${answer.text}`);
  return JSON.parse(answer.text);
}

async function rpc(url: string, key: string, fn: string, args: Record<string, unknown>): Promise<unknown> {
  return parsed(fn, await dispatchRpc(url, key, fn, args));
}

/** Nearest-rank percentile: the smallest sample with at least p% of the samples at or below it. */
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function fmt(ms: number): string {
  return `${ms.toFixed(2)} ms`;
}

/** CPU seconds used so far by the hub, by all postgres processes, and by this benchmark client. */
function cpuSeconds(hubPid: number): { hub: number; postgres: number; client: number } {
  const tick = 100; // USER_HZ on Linux
  const of = (pid: string): number => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / tick;
    } catch {
      return 0;
    }
  };
  let postgres = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres')) postgres += of(pid);
    } catch {
      // gone meanwhile
    }
  }
  return { hub: of(String(hubPid)), postgres, client: of(String(process.pid)) };
}

async function addAgents(hub: HubProcess, key: string, project: string, prefix: string, agents: number): Promise<void> {
  await rpc(hub.url, key, 'mc_create_meshwork', { p_name: project });
  for (let i = 0; i < agents; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, agents - i) }, (_, j) =>
        rpc(hub.url, key, 'mc_add_agent', { p_meshwork: project, p_name: `${prefix}${i + j}` }),
      ),
    );
  }
}

async function setup(hub: HubProcess): Promise<{ key: string }> {
  const res = await request(`${hub.url}/auth/v1/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench-${Date.now()}@example.test`, display_name: 'bench' }),
    dispatcher,
  });
  const { key } = (await res.body.json()) as { key: string };
  // 'bench' carries the latency and throughput traffic; 'bcast' stays quiet for the idle and broadcast phases.
  await addAgents(hub, key, 'bench', 'a', 100);
  await addAgents(hub, key, 'bcast', 'b', 1001);
  return { key };
}

async function latency(hub: HubProcess, key: string, n: number) {
  const samples: number[] = [];
  const sends: number[] = [];
  let cursor = 0;
  for (let i = 0; i < n; i++) {
    const waiting = dispatchRpc(hub.url, key, 'mc_wait', {
      p_meshwork: 'bench',
      p_agent: 'a1',
      p_after_seq: cursor,
      p_timeout_seconds: 10,
    });
    await heldAtLeast(hub, 1); // an agent idling on the bus: its wait has read its inbox and sleeps
    const t0 = performance.now();
    const sent = await dispatchRpc(hub.url, key, 'mc_send', {
      p_meshwork: 'bench',
      p_from: 'a0',
      p_to: 'a1',
      p_body: `ping ${i}`,
    });
    parsed('mc_send', sent);
    const woke = await waiting;
    // Each answer is timed when its last byte arrives, whichever of the two comes first.
    sends.push(sent.at - t0);
    samples.push(woke.at - t0);
    cursor = (parsed('mc_wait', woke) as { messages: { seq: number }[] }).messages.at(-1)!.seq;
  }
  samples.sort((a, b) => a - b);
  sends.sort((a, b) => a - b);
  return { p50: pct(samples, 50), p99: pct(samples, 99), send50: pct(sends, 50) };
}

async function throughput(hub: HubProcess, key: string, seconds: number, senders: number) {
  const cpu0 = cpuSeconds(hub.child.pid!);
  let sent = 0;
  const end = performance.now() + seconds * 1000;
  const lat: number[] = [];
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await rpc(hub.url, key, 'mc_send', {
          p_meshwork: 'bench',
          p_from: `a${s % 50}`,
          p_to: `a${50 + (s % 50)}`,
          p_body: 'x'.repeat(200),
        });
        lat.push(performance.now() - t0);
        sent++;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  const cpu1 = cpuSeconds(hub.child.pid!);
  const perMsg = (k: 'hub' | 'postgres' | 'client') => ((cpu1[k] - cpu0[k]) * 1000) / sent;
  return {
    perSecond: sent / seconds,
    sendP50: pct(lat, 50),
    sendP99: pct(lat, 99),
    cpu: { hub: perMsg('hub'), postgres: perMsg('postgres'), client: perMsg('client') },
  };
}

/**
 * RSS per idle waiter is the growth from holding the first half of the waits to holding all of them, each measured
 * after a settling pause: the hub's RSS before any wait includes what the earlier phases left for the collector (on
 * PGlite hundreds of MiB, which can be returned while the waits open), and that would be counted against the waiters.
 */
async function idleWaiters(hub: HubProcess, key: string, count: number) {
  const before = rssOf(hub.child.pid!);
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // one abort listener per held request
  const pending: Promise<unknown>[] = [];
  const failures: string[] = [];
  let early = 0;
  const half = Math.floor(count / 2);
  let atHalf = 0;
  // Wait until the hub holds n, then let RSS settle.
  const settledAt = async (n: number): Promise<number> => {
    try {
      await heldAtLeast(hub, n);
    } catch (err) {
      throw new Error(
        `${(err as Error).message}; ${early} answered early, ${failures.length} failed, e.g. ${failures.slice(0, 3).join(' | ')}`,
        { cause: err },
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
    return rssOf(hub.child.pid!);
  };
  for (let i = 0; i < count; i++) {
    pending.push(
      request(`${hub.url}/rest/v1/rpc/mc_wait`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ p_meshwork: 'bcast', p_agent: `b${1 + (i % 1000)}`, p_timeout_seconds: 120 }),
        dispatcher,
        signal: ac.signal,
      }).then(
        async (res) => {
          const text = await res.body.text();
          if (res.statusCode >= 300) failures.push(`${res.statusCode} ${text.slice(0, 200)}`);
          else early++;
        },
        (err: unknown) => {
          if (!ac.signal.aborted) failures.push(String(err));
        },
      ),
    );
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 50));
    if (i === half - 1) atHalf = await settledAt(half);
  }
  const after = await settledAt(count);
  ac.abort();
  await Promise.allSettled(pending);
  await heldAtMost(hub, 0);
  return { held: count, rssBefore: before, rssAfter: after, perWaiter: (after - atHalf) / (count - half) };
}

async function heldAtMost(hub: HubProcess, n: number): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const res = await request(`${hub.url}/health`, { dispatcher });
    if (((await res.body.json()) as { waiters: number }).waiters <= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function heldAtLeast(hub: HubProcess, n: number): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const res = await request(`${hub.url}/health`, { dispatcher });
    const { waiting } = (await res.body.json()) as { waiting: number };
    if (waiting >= n) return;
    if (performance.now() > deadline) throw new Error(`only ${waiting} of ${n} waits held after 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function broadcast(hub: HubProcess, key: string, waiters: number, rounds: number) {
  const samples: number[] = [];
  const sends: number[] = [];
  const firsts: number[] = [];
  const cursors = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    const waits = Array.from({ length: waiters }, (_, i) =>
      dispatchRpc(hub.url, key, 'mc_wait', {
        p_meshwork: 'bcast',
        p_agent: `b${i + 1}`,
        p_after_seq: cursors.get(`b${i + 1}`) ?? null,
        p_timeout_seconds: 30,
      }),
    );
    await heldAtLeast(hub, waiters); // every wait registered before the send
    const t0 = performance.now();
    await rpc(hub.url, key, 'mc_send', { p_meshwork: 'bcast', p_from: 'b0', p_to: '*', p_body: `all hands ${r}` });
    sends.push(performance.now() - t0);
    const answers = await Promise.all(waits);
    // Every waiter got the broadcast itself (checked once every arrival is stamped).
    answers.forEach((a, i) => {
      const last = (parsed('mc_wait', a) as { messages: { seq: number; body: string }[] }).messages.at(-1);
      if (last?.body !== `all hands ${r}`) throw new Error(`b${i + 1} did not get round ${r}'s broadcast`);
      cursors.set(`b${i + 1}`, last.seq);
    });
    const done = answers.map((a) => a.at - t0);
    samples.push(Math.max(...done));
    firsts.push(Math.min(...done));
  }
  samples.sort((a, b) => a - b);
  sends.sort((a, b) => a - b);
  firsts.sort((a, b) => a - b);
  return { p50: pct(samples, 50), p99: pct(samples, 99), rounds, send50: pct(sends, 50), first50: pct(firsts, 50) };
}

async function runBackend(backend: 'postgres' | 'pglite') {
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;
  if (backend === 'postgres') {
    const dir = mkdtempSync(join(values.ramdisk ? '/dev/shm' : tmpdir(), 'meshcode-bench-pg-'));
    const cluster = await startCluster(dir);
    process.once('exit', () => cluster.stop());
    const admin = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query('create database bench');
    await admin.end();
    env = { DATABASE_URL: `postgres://postgres@127.0.0.1:${cluster.port}/bench`, MESHCODE_DB_POOL: '16' };
    cleanup = async () => {
      cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const home = mkdtempSync(join(values.ramdisk ? '/dev/shm' : tmpdir(), 'meshcode-bench-'));
    env = { MESHCODE_HOME: home };
    cleanup = async () => rmSync(home, { recursive: true, force: true });
  }
  const hub = await spawnHub({ ...env, NODE_OPTIONS: `--expose-gc ${process.env.BENCH_HUB_NODE_OPTIONS ?? ''}` });
  // An interrupted run must not leave a hub or a cluster behind.
  const onExit = () => hub.child.kill('SIGKILL');
  process.once('exit', onExit);
  try {
    const waiterCount = Number(values.waiters ?? (backend === 'postgres' ? 10_000 : 2_000));
    const { key } = await setup(hub);
    const only = new Set(values.phases.split(','));
    console.log(
      `\n## bus benchmark — ${backend}${values.ramdisk ? ' (data on tmpfs: fsync cost removed)' : ''} (hub in its own process, 2-core machine)`,
    );
    if (only.has('latency')) {
      const lat = await latency(hub, key, Number(values.latency));
      console.log(
        `send -> wake latency        p50 ${fmt(lat.p50)}   p99 ${fmt(lat.p99)}   (${values.latency} sequential round trips; the send's own answer p50 ${fmt(lat.send50)})`,
      );
    }
    if (only.has('throughput')) {
      const thr = await throughput(hub, key, Number(values.seconds), Number(values.senders));
      console.log(
        `sustained durable sends     ${thr.perSecond.toFixed(0)} msgs/s   (${values.senders} concurrent senders, ${values.seconds} s; send p50 ${fmt(thr.sendP50)} p99 ${fmt(thr.sendP99)})`,
      );
      console.log(
        `  CPU per message           hub ${thr.cpu.hub.toFixed(2)} ms   postgres ${thr.cpu.postgres.toFixed(2)} ms   benchmark client ${thr.cpu.client.toFixed(2)} ms`,
      );
    }
    if (only.has('idle')) {
      const idle = await idleWaiters(hub, key, waiterCount);
      console.log(
        `idle waiters held           ${idle.held}   hub RSS ${(idle.rssBefore / 2 ** 20).toFixed(0)} -> ${(idle.rssAfter / 2 ** 20).toFixed(0)} MiB   ${(idle.perWaiter / 1024).toFixed(1)} KiB per waiter (growth from half to all held)`,
      );
    }
    if (only.has('broadcast')) {
      const bc = await broadcast(hub, key, 1000, Number(values.rounds));
      console.log(
        `broadcast to 1,000 waiters  p50 ${fmt(bc.p50)}   p99 ${fmt(bc.p99)}   (${bc.rounds} rounds, send -> last waiter answered; the send itself p50 ${fmt(bc.send50)}, first waiter p50 ${fmt(bc.first50)})`,
      );
    }
  } finally {
    process.off('exit', onExit);
    await hub.kill('SIGTERM');
    await cleanup();
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const backends: ('postgres' | 'pglite')[] =
  values.backend === 'both' ? ['postgres', 'pglite'] : [values.backend as 'postgres' | 'pglite'];
for (const b of backends) await runBackend(b);
await dispatcher.close();
