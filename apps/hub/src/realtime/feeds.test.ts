// Live feeds: every activity row sent once, even one whose transaction commits after a row with a higher id; a
// failure ends the feed with an error that says what to do.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { HttpError } from '../http/errors';
import { newMesh, useTestHub } from '../testing/hub-fixture';
import { openStream } from '../testing/sse';
import { Feeds, type FeedSource } from './feeds';

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

describe('a feed that fails', () => {
  /** A feed over a response that records what is written, reading from `activity`, its marks from `mark`. */
  async function failingFeed(
    mark: () => Promise<never> | Promise<{ upto: number; xmin: bigint; xmax: bigint }>,
    activity: FeedSource['activity'],
  ) {
    const written: string[] = [];
    const res = Object.assign(new EventEmitter(), {
      writeHead: () => undefined,
      write: (chunk: string) => written.push(chunk),
      end: () => undefined,
    });
    const source: FeedSource = {
      snapshot: () => Promise.resolve({ meshworkId: 'm', status: {} }),
      activity,
      latestId: () => Promise.resolve(0),
    };
    await new Feeds(mark).open(res as unknown as ServerResponse, source, 0);
    return await vi.waitFor(() => {
      const error = written.find((c) => c.startsWith('event: error'));
      if (!error) throw new Error('no error event yet');
      return JSON.parse(error.split('data: ')[1]!) as { message: string; hint: string | null };
    });
  }
  const noRows = () => Promise.resolve([]);
  const marked = () => Promise.resolve({ upto: 0, xmin: 1n, xmax: 1n });

  it('says to reconnect after a fault of the hub or database, and says why after losing access', async () => {
    const fault = new HttpError(500, { code: 'XX000', message: 'internal error', details: null, hint: null });
    expect(await failingFeed(() => Promise.reject(fault), noRows)).toMatchObject({
      message: 'feed failed',
      hint: 'reconnect to resume',
    });
    const lost = new HttpError(403, { code: 'PT403', message: 'not a member', details: null, hint: 'ask the owner' });
    expect(await failingFeed(marked, () => Promise.reject(lost))).toMatchObject({
      message: 'not a member',
      hint: 'ask the owner',
    });
  });
});
