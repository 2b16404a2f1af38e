// Two hubs on one PostgreSQL deliver to each other's waiters (coalesced NOTIFY outside the send transaction).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, freshDatabaseUrl } from '@meshcode/db/testing';
import { migrate, openDb, type Db } from '@meshcode/db';
import { newMesh, startTestHub, until, type HubFixture } from '../testing/hub-fixture';

describeBackends('two hubs, one database', (_getDb, backend) => {
  if (backend !== 'postgres') {
    it('is a PostgreSQL feature: embedded PGlite serves one hub process', () => {
      expect(backend).toBe('pglite');
    });
    return;
  }
  const dbs: Db[] = [];
  const hubs: HubFixture[] = [];
  beforeAll(async () => {
    const url = await freshDatabaseUrl();
    for (let i = 0; i < 2; i++) {
      const db = await openDb({ databaseUrl: url, poolSize: 4 });
      await migrate(db);
      dbs.push(db);
      hubs.push(await startTestHub(db));
    }
  });
  afterAll(async () => {
    for (const h of hubs) await h.close();
    for (const d of dbs) await d.close();
  });

  it('a message sent through hub 1 wakes a waiter held by hub 2, and the reverse', async () => {
    const [h1, h2] = hubs as [HubFixture, HubFixture];
    const owner = await newMesh(h1.url, 'p', ['a', 'b']);
    const { createMeshClient } = await import('@meshcode/client');
    const via2 = createMeshClient({ hubUrl: h2.url, apiKey: owner.key });
    for (let round = 0; round < 5; round++) {
      const waiting = via2.wait({ meshwork: 'p', agent: 'b', timeoutSeconds: 20 });
      await until(() => h2.hub.waiters.size === 1);
      const t0 = Date.now();
      await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: `r${round}` });
      const got = await waiting;
      expect(got.messages.map((m) => m.body)).toEqual([`r${round}`]);
      expect(Date.now() - t0).toBeLessThan(5000); // woken, not timed out (timeout is 20 s)
      await via2.ack('p', 'b', got.messages[0]!.seq!);
    }
    const back = owner.client.wait({ meshwork: 'p', agent: 'a', timeoutSeconds: 20 });
    await until(() => h1.hub.waiters.size === 1);
    await via2.send({ meshwork: 'p', from: 'b', to: 'a', body: 'pong' });
    expect((await back).messages.map((m) => m.body)).toEqual(['pong']);
  });

  it('a key revoked through hub 1 ends its wait held by hub 2 at once', async () => {
    const [h1, h2] = hubs as [HubFixture, HubFixture];
    const owner = await newMesh(h1.url, 'rv', ['a', 'b']);
    const scoped = await owner.client.createKey('rv', 'b');
    const { createMeshClient } = await import('@meshcode/client');
    const guest = createMeshClient({ hubUrl: h2.url, apiKey: scoped.key });
    const outcome = guest.wait({ meshwork: 'rv', timeoutSeconds: 20 }).then(
      () => 'answered',
      (err: unknown) => (err as { status?: number }).status,
    );
    await until(() => h2.hub.waiters.asleep === 1);
    const t0 = Date.now();
    await owner.client.revokeKey(scoped.id);
    expect(await outcome).toBe(401);
    expect(Date.now() - t0).toBeLessThan(5000); // ended by the signal, not by its 20 s timeout
  });

  it('an SSE feed on hub 2 sees activity written through hub 1', async () => {
    const [h1, h2] = hubs as [HubFixture, HubFixture];
    const owner = await newMesh(h1.url, 'feed', ['a', 'b']);
    const ac = new AbortController();
    const res = await fetch(`${h2.url}/realtime/v1/meshworks/feed/activity`, {
      headers: { authorization: `Bearer ${owner.key}` },
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await owner.client.send({ meshwork: 'feed', from: 'a', to: 'b', body: 'across hubs' });
    let text = '';
    const t0 = Date.now();
    while (!text.includes('across hubs') && Date.now() - t0 < 4000)
      text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    expect(text).toContain('across hubs');
    expect(Date.now() - t0).toBeLessThan(4000); // well under the 5 s safety refresh
  });
});
