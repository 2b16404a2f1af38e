// A live feed sends every activity row once, even one whose transaction commits after a row with a higher id.
import { expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { newMesh, useTestHub } from '../testing/hub-fixture';
import { openStream } from '../testing/sse';

describeBackends('live activity feed', (getDb) => {
  const hub = useTestHub(getDb);

  it('sends a row that commits after a higher id was sent, and every row once', async (ctx) => {
    // PGlite runs one transaction at a time, so rows there always commit in id order.
    if (getDb().kind !== 'postgres') return ctx.skip();
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const mw = (await getDb().query<{ id: string }>(`select id from mesh.meshworks where name = 'p'`)).rows[0]!.id;
    const stream = await openStream(`${hub.url}/realtime/v1/meshworks/p/activity`, {
      authorization: `Bearer ${owner.key}`,
    });
    await stream.waitFor((e) => e.event === 'status');
    const summaryOf = (data: string) => (JSON.parse(data) as { summary: string }).summary;
    const sent = (text: string) => (e: { event: string; data: string }) =>
      e.event === 'activity' && summaryOf(e.data).includes(text);

    // A transaction takes an activity id and stays open while a later row commits and is sent.
    let commit!: () => void;
    const open = new Promise<void>((r) => (commit = r));
    let took!: (id: number) => void;
    const lateId = new Promise<number>((r) => (took = r));
    const late = getDb().transaction(async (tx) => {
      const row = await tx.query<{ id: number | string }>(
        `insert into mesh.activity (meshwork_id, kind, summary) values ($1, 'note', 'the late row') returning id`,
        [mw],
      );
      took(Number(row.rows[0]!.id));
      await open;
    });
    const id = await lateId;
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'sent while it is open' });
    const before = await stream.waitFor(sent('sent while it is open'));
    expect((JSON.parse(before.data) as { id: number }).id).toBeGreaterThan(id);

    commit();
    await late;
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'sent after it committed' });
    await stream.waitFor(sent('sent after it committed'));
    await stream.waitFor(sent('the late row'));
    stream.close();

    const rows = stream.events.filter((e) => e.event === 'activity');
    const ids = rows.map((e) => (JSON.parse(e.data) as { id: number }).id);
    expect(ids).toContain(id);
    expect(new Set(ids).size).toBe(ids.length);
    // The SSE ids, which a reconnect resumes from, never go back: the late row carries the highest id sent before it.
    const resumeIds = rows.map((e) => Number(e.id));
    expect(resumeIds).toEqual(resumeIds.map((_, i) => Math.max(...ids.slice(0, i + 1))));
  });
});
