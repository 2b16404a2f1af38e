// Retention: an owner keeps a project's history for some days; the hub prunes what is older, but never a message a
// recipient has not acknowledged, open work or a pending write-back, and nothing of a project that keeps everything.
import { describeBackends } from '@meshcode/db/testing';
import { expect, it, vi } from 'vitest';
import { createMeshClient } from '@meshcode/client';
import { createHub } from '../hub';
import { newMesh, useTestHub } from '../testing/hub-fixture';

describeBackends('retention', (getDb) => {
  // This suite's own hub prunes nothing by itself: the tests prune by hand, or start hubs that do. Its pipeline is
  // paused too: a test writes pipeline rows by hand (a pending write-back, a dispatched event), which a running loop
  // would go on to work (fail the write-back, settle the event) before the prune it asserts on.
  const hub = useTestHub(getDb, { pruneIntervalMs: null, pipeline: { paused: true } });
  const prune = async (limit = 1000) =>
    (await getDb().query<{ r: Record<string, number> }>('select mesh.prune($1) as r', [limit])).rows[0]!.r;
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

  it('prunes finished tasks and settled pipeline events, never open work or a pending write-back', async () => {
    const owner = await newMesh(hub.url, 'proj', ['a']);
    const forever = await newMesh(hub.url, 'keep', ['a']);
    const db = getDb();
    const sql = async <T>(text: string, params: unknown[] = []) => (await db.query<T>(text, params)).rows;
    const task = async (o: typeof owner, project: string, title: string, status: string) => {
      const t = await o.client.createTask(project, { title });
      await sql(`update mesh.tasks set status = $2 where id = $1`, [t.id, status]);
      return t.id;
    };
    const mwOf = async (project: string) =>
      (await sql<{ id: string }>(`select id from mesh.meshworks where name = $1`, [project]))[0]!.id;
    const mw = await mwOf('proj');
    const event = async (delivery: string, state: string, meshworkId = mw) =>
      (
        await sql<{ id: string }>(
          `insert into mesh.events (meshwork_id, source, delivery_id, event, state) values ($1, 'github', $2, 'issues', $3)
           returning id`,
          [meshworkId, delivery, state],
        )
      )[0]!.id;
    const run = (taskId: string, eventId: string, stage: string) =>
      sql(`insert into mesh.runs (task_id, meshwork_id, event_id, stage, timeout_ms) values ($1, $2, $3, $4, 60000)`, [
        taskId,
        mw,
        eventId,
        stage,
      ]);
    const effect = (taskId: string, eventId: string, state: string) =>
      sql(
        `insert into mesh.effects (meshwork_id, task_id, event_id, effect_key, provider, kind, target, payload, state)
         values ($1, $2, $3, $4, 'github', 'comment', '{}', '{}', $5)`,
        [mw, taskId, eventId, `key-${taskId}`, state],
      );

    const done = await task(owner, 'proj', 'done', 'done');
    await task(owner, 'proj', 'cancelled', 'cancelled');
    await task(owner, 'proj', 'open', 'open');
    await task(owner, 'proj', 'in progress', 'in_progress');
    // An event whose task is finished and written back: both go.
    const written = await event('d-written', 'completed');
    const writtenTask = await task(owner, 'proj', 'written back', 'done');
    await run(writtenTask, written, 'written');
    await effect(writtenTask, written, 'done');
    const agentA = (await sql<{ id: string }>(`select id from mesh.agents where meshwork_id = $1`, [mw]))[0]!.id;
    await sql(`insert into mesh.cost_ledger (meshwork_id, worker_id, task_id, cost_usd) values ($1, $2, $3, 0.25)`, [
      mw,
      agentA,
      writtenTask,
    ]);
    // A finished task whose write-back is still pending stays, and so does its event.
    const pending = await event('d-pending', 'completed');
    const pendingTask = await task(owner, 'proj', 'write-back pending', 'done');
    await run(pendingTask, pending, 'decided');
    await effect(pendingTask, pending, 'pending');
    // An event with a task still open stays with it; one still in flight stays; one settled with no task goes.
    const busy = await event('d-busy', 'completed');
    await run(await task(owner, 'proj', 'from an event, open', 'open'), busy, 'ready');
    await event('d-dispatched', 'dispatched');
    await event('d-skipped', 'skipped');
    await task(forever, 'keep', 'kept done', 'done');
    await event('d-kept', 'completed', await mwOf('keep'));

    await owner.client.retention('proj', 7);
    for (const project of ['proj', 'keep']) {
      await sql(
        `update mesh.tasks set updated_at = now() - interval '8 days', created_at = now() - interval '8 days'
          where meshwork_id = (select id from mesh.meshworks where name = $1)`,
        [project],
      );
      await sql(
        `update mesh.events set updated_at = now() - interval '8 days', received_at = now() - interval '8 days'
          where meshwork_id = (select id from mesh.meshworks where name = $1)`,
        [project],
      );
    }
    await task(owner, 'proj', 'done recently', 'done');

    expect(await prune()).toMatchObject({ tasks: 3, events: 2 });
    expect(await prune()).toMatchObject({ tasks: 0, events: 0 });
    const titles = async (o: typeof owner, project: string) =>
      (await o.client.listTasks(project)).map((t) => t.title).sort();
    expect(await titles(owner, 'proj')).toEqual([
      'done recently',
      'from an event, open',
      'in progress',
      'open',
      'write-back pending',
    ]);
    expect(await titles(forever, 'keep')).toEqual(['kept done']);
    const deliveries = async (o: typeof owner, project: string) =>
      (await o.client.rpc<{ delivery_id: string }[]>('mc_events', { p_meshwork: project }))
        .map((e) => e.delivery_id)
        .sort();
    expect(await deliveries(owner, 'proj')).toEqual(['d-busy', 'd-dispatched', 'd-pending']);
    expect(await deliveries(forever, 'keep')).toEqual(['d-kept']);
    // The pruned task's run and write-back went with it; its cost stays in the ledger.
    expect(await sql(`select 1 from mesh.runs where task_id = any ($1)`, [[done, writtenTask]])).toEqual([]);
    expect(await sql(`select 1 from mesh.effects where task_id = $1`, [writtenTask])).toEqual([]);
    expect(
      await sql(`select task_id, cost_usd::text as cost from mesh.cost_ledger where meshwork_id = $1`, [mw]),
    ).toEqual([{ task_id: null, cost: '0.250000' }]);
    // Once its write-back is made, the last finished task goes, and then its event.
    await sql(`update mesh.effects set state = 'done' where task_id = $1`, [pendingTask]);
    await sql(`update mesh.runs set stage = 'written' where task_id = $1`, [pendingTask]);
    expect(await prune()).toMatchObject({ tasks: 1, events: 1 });
    expect(await deliveries(owner, 'proj')).toEqual(['d-busy', 'd-dispatched']);
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
