// The hub SIGKILLed in the middle of a 2,000-message stream and restarted: the receiver resumes from its cursor
// with 0 lost and 0 duplicates, the sender's retries are stored once. Runs the hub as a real child process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createMeshClient, Inbox, signup, withRetry } from '@meshcode/client';
import { describeBackends, freshDatabaseUrl } from '@meshcode/db/testing';
import { freePort, spawnHub, type HubProcess } from '../testing/hub-process';

const TOTAL = 2000;

describeBackends('hub crash mid-stream', (_getDb, backend) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it(`SIGKILL during a ${TOTAL}-message stream: resume from cursor, 0 lost, 0 duplicates`, async () => {
    let env: Record<string, string>;
    if (backend === 'postgres') {
      env = { DATABASE_URL: await freshDatabaseUrl() };
    } else {
      const home = mkdtempSync(join(tmpdir(), 'meshcode-crash-'));
      cleanups.push(() => rmSync(home, { recursive: true, force: true }));
      env = { MESHCODE_HOME: home };
    }
    const port = await freePort();
    let hub: HubProcess = await spawnHub(env, port);
    cleanups.push(() => hub.kill('SIGKILL'));

    const { key } = await signup(hub.url, `crash-${backend}@example.test`, 'crash');
    const client = createMeshClient({ hubUrl: hub.url, apiKey: key });
    await client.createMeshwork('stream');
    await client.addAgent('stream', 'producer');
    await client.addAgent('stream', 'consumer');

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
    await hub.kill('SIGKILL');
    const killedAt = sent;
    await new Promise((r) => setTimeout(r, 300));
    hub = await spawnHub(env, port);

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
});
