// Retention: an owner keeps a project's chat and activity for some days; the hub prunes what is older, but never a
// message a recipient has not acknowledged, and nothing of a project that keeps everything.
import { describeBackends } from '@meshcode/db/testing';
import { expect, it, vi } from 'vitest';
import { createMeshClient } from '@meshcode/client';
import { createHub } from '../hub';
import { newMesh, useTestHub } from '../testing/hub-fixture';

describeBackends('retention', (getDb) => {
  // This suite's own hub prunes nothing by itself: the tests prune by hand, or start hubs that do.
  const hub = useTestHub(getDb, { pruneIntervalMs: null });
  const prune = async (limit = 1000) =>
    (await getDb().query<{ r: { activity: number; messages: number } }>('select mesh.prune($1) as r', [limit])).rows[0]!
      .r;
  /** Move everything a project has written so far back in time, as if written `days` ago. */
  const age = async (project: string, days: number) => {
    for (const table of ['messages', 'activity']) {
      await getDb().query(
        `update mesh.${table} set created_at = now() - make_interval(days => $1)
          where meshwork_id = (select id from mesh.meshworks where name = $2)`,
        [days, project],
      );
    }
  };

  it('is read by members and set by the owner only, within 1-3650 days or 0 for forever', async () => {
    const owner = await newMesh(hub.url, 'proj', ['a']);
    expect(await owner.client.retention('proj')).toEqual({ meshwork: 'proj', retention_days: null });
    expect(await owner.client.retention('proj', 30)).toEqual({ meshwork: 'proj', retention_days: 30 });
    expect(await owner.client.retention('proj')).toEqual({ meshwork: 'proj', retention_days: 30 });
    for (const bad of [-1, 3651]) {
      await expect(owner.client.retention('proj', bad)).rejects.toMatchObject({
        status: 400,
        message: 'retention must be between 1 and 3650 days, or 0 to keep everything',
      });
    }
    const agentKey = await owner.client.rpc<{ key: string }>('mc_create_key', { p_meshwork: 'proj', p_agent: 'a' });
    const asAgent = createMeshClient({ hubUrl: hub.url, apiKey: agentKey.key });
    expect(await asAgent.retention('proj')).toEqual({ meshwork: 'proj', retention_days: 30 });
    await expect(asAgent.retention('proj', 1)).rejects.toMatchObject({ status: 403 });
    const stranger = await newMesh(hub.url, 'other', ['x']);
    await expect(stranger.client.retention('proj')).rejects.toMatchObject({ status: 404 });
    expect(await owner.client.retention('proj', 0)).toEqual({ meshwork: 'proj', retention_days: null });
  });

  it('prunes what is older than the retention, except messages not yet acknowledged', async () => {
    const owner = await newMesh(hub.url, 'proj', ['a', 'b']);
    const forever = await newMesh(hub.url, 'keep', ['a', 'b']);
    const send = (o: typeof owner, project: string, to: string, body: string) =>
      o.client.send({ meshwork: project, from: 'a', to, body });
    await send(owner, 'proj', 'b', 'old read');
    await send(owner, 'proj', 'b', 'old unread');
    await send(owner, 'proj', '*', 'old broadcast read');
    await send(forever, 'keep', 'b', 'old kept');
    // b reads the first one and the broadcast: its cursor stops before "old unread".
    const page = await owner.client.wait({ meshwork: 'proj', agent: 'b', timeoutSeconds: 0 });
    expect(page.messages.map((m) => m.body)).toEqual(['old read', 'old unread', 'old broadcast read']);
    await owner.client.ack('proj', 'b', page.messages[0]!.seq!);
    await owner.client.retention('proj', 7);
    await age('proj', 8);
    await age('keep', 8);
    await send(owner, 'proj', 'b', 'new');

    // Nothing is old enough for a 30-day retention.
    await owner.client.retention('proj', 30);
    expect(await prune()).toMatchObject({ activity: 0, messages: 0 });
    await owner.client.retention('proj', 7);
    expect(await prune()).toMatchObject({ messages: 1 });
    // (Aged together, the old ones share a timestamp: compared as a set.)
    expect((await owner.client.history('proj')).map((m) => m.body).sort()).toEqual([
      'new',
      'old broadcast read',
      'old unread',
    ]);
    // The broadcast went once b acknowledged it; the unread one once b read past it.
    await owner.client.ack('proj', 'b', page.messages[2]!.seq!);
    expect(await prune()).toMatchObject({ messages: 2 });
    expect((await owner.client.history('proj')).map((m) => m.body)).toEqual(['new']);
    // b's inbox goes on from its cursor, and the activity of those messages is gone with them.
    const next = await owner.client.wait({ meshwork: 'proj', agent: 'b', timeoutSeconds: 0 });
    expect(next.messages.map((m) => m.body)).toEqual(['new']);
    const summaries = (await owner.client.rpc<{ summary: string }[]>('mc_activity', { p_meshwork: 'proj' })).map(
      (r) => r.summary,
    );
    expect(summaries.filter((s) => s.includes('old '))).toEqual([]);
    expect(summaries.some((s) => s.includes('new'))).toBe(true);
    // A project without retention keeps everything.
    expect((await forever.client.history('keep')).map((m) => m.body)).toEqual(['old kept']);
  });

  it('is run by the hub in the background, in batches', async () => {
    const owner = await newMesh(hub.url, 'proj', ['a', 'b']);
    for (let i = 0; i < 5; i++)
      await owner.client.send({ meshwork: 'proj', from: 'a', to: 'overseer', body: `old ${i}` });
    await owner.client.retention('proj', 1);
    await age('proj', 2);
    expect(await prune(2)).toMatchObject({ messages: 2 });
    const send = (body: string) => owner.client.send({ meshwork: 'proj', from: 'a', to: 'overseer', body });
    const historyEmpty = () =>
      vi.waitFor(async () => expect(await owner.client.history('proj')).toEqual([]), { timeout: 10_000 });
    // A hub prunes soon after it starts, whatever its interval (a hub restarted often still prunes)...
    const starting = await createHub({ db: getDb(), pruneIntervalMs: 3_600_000, log: () => undefined });
    try {
      await historyEmpty();
    } finally {
      await starting.close();
    }
    // ...and then on every interval.
    const pruning = await createHub({ db: getDb(), pruneIntervalMs: 20, log: () => undefined });
    try {
      await historyEmpty();
      await send('old again');
      await age('proj', 2);
      await historyEmpty();
    } finally {
      await pruning.close();
    }
  });
});
