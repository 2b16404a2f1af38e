// The hub SIGKILLed in the middle of a 2,000-message stream and restarted: the receiver resumes from its cursor
// with 0 lost and 0 duplicates, the sender's retries are stored once. And killed after acknowledgements and notes
// alone, which commit without waiting for the disk: they are kept all the same. Runs the hub as a real child process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createMeshClient, Inbox, signup, withRetry } from '@meshcode/client';
import { describeBackends, freshDatabaseUrl } from '@meshcode/db/testing';
import { ACTIVITY_ID_SKIP } from '../start';
import { freePort, spawnHub, type HubProcess } from '../testing/hub-process';

const TOTAL = 2000;

describeBackends('hub crash mid-stream', (_getDb, backend) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  const onPostgres = async (): Promise<Record<string, string>> => ({ DATABASE_URL: await freshDatabaseUrl() });
  const newHome = () => {
    const home = mkdtempSync(join(tmpdir(), 'meshcode-crash-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    return home;
  };

  /** A hub in a child process on a new database, an account, and a project with these agents. */
  async function crashable(project: string, agents: string[]) {
    const env = backend === 'postgres' ? await onPostgres() : { MESHCODE_HOME: newHome() };
    const port = await freePort();
    let hub: HubProcess = await spawnHub(env, port);
    cleanups.push(() => hub.kill('SIGKILL'));
    const { key } = await signup(hub.url, `${project}-${backend}@example.test`, project);
    const client = createMeshClient({ hubUrl: hub.url, apiKey: key });
    await client.createMeshwork(project);
    for (const agent of agents) await client.addAgent(project, agent);
    return {
      client,
      /** SIGKILL, then after `pauseMs` the same hub again, on the same database and port. */
      async crash(pauseMs = 0) {
        await hub.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, pauseMs));
        hub = await spawnHub(env, port);
      },
    };
  }

  it(`SIGKILL during a ${TOTAL}-message stream: resume from cursor, 0 lost, 0 duplicates`, async () => {
    const { client, crash } = await crashable('stream', ['producer', 'consumer']);

    let sent = 0;
    const producer = (async () => {
      for (let i = 0; i < TOTAL; i++) {
        await withRetry(() =>
          client.send({ meshwork: 'stream', from: 'producer', to: 'consumer', body: `m${i}`, idempotencyKey: `m${i}` }),
        );
        sent = i + 1;
      }
    })();

    const received: { seq: number; body: string }[] = [];
    const inbox = new Inbox(client, { meshwork: 'stream', agent: 'consumer' });
    const consumer = (async () => {
      while (received.length < TOTAL) {
        for (const m of await inbox.next({ timeoutSeconds: 5, limit: 100 }))
          received.push({ seq: m.seq!, body: m.body });
      }
    })();

    while (sent < TOTAL / 3) await new Promise((r) => setTimeout(r, 20));
    const killedAt = sent;
    await crash(300);

    await Promise.all([producer, consumer]);
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(TOTAL);
    expect(received).toHaveLength(TOTAL);
    expect(received.map((r) => r.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(new Set(received.map((r) => r.body)).size).toBe(TOTAL);
    expect(received.map((r) => r.body)).toEqual(Array.from({ length: TOTAL }, (_, i) => `m${i}`));
    await inbox.commit();
    const status = await client.status('stream');
    expect(status.agents.find((x) => x.name === 'consumer')?.unread).toBe(0);
  }, 240_000);

  it('SIGKILL after a spell of acknowledgements and notes only: they were kept, and no activity id comes twice', async () => {
    const { client, crash } = await crashable('acks', ['a', 'b']);
    for (let i = 0; i < 40; i++) await client.send({ meshwork: 'acks', from: 'a', to: 'b', body: `m${i}` });
    // From here on, only writes that commit without waiting for the disk (synchronous_commit off).
    for (let seq = 1; seq <= 40; seq++) await client.ack('acks', 'b', seq);
    for (let i = 0; i < 20; i++) await client.logActivity('acks', 'a', 'note', `note ${i}`);
    const seen = (await client.activity('acks', { limit: 1000 })).at(-1)!;
    expect(seen.summary).toBe('note 19');
    await new Promise((r) => setTimeout(r, 500)); // past the 200 ms in which PostgreSQL's WAL writer flushes them
    await crash();
    expect((await client.getAgent('acks', 'b')).acked_seq).toBe(40);
    expect((await client.activity('acks', { limit: 1000 })).map((r) => r.summary)).toContain('note 0');
    // A feed that had sent the last row resumes after it and gets what is written now.
    await client.logActivity('acks', 'a', 'note', 'after the restart');
    const after = await client.activity('acks', { afterId: seen.id });
    expect(after.map((r) => r.summary)).toEqual(['after the restart']);
    // The embedded hub moves ids on at every start, past any a crash may have lost after a feed sent them.
    if (backend === 'pglite') expect(after[0]!.id).toBeGreaterThan(seen.id + ACTIVITY_ID_SKIP);
  }, 120_000);
});
