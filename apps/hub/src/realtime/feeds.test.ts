// Live feeds: every activity row sent once, even one whose transaction commits after a row with a higher id; a
// failure ends the feed with an error that says what to do.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { HttpError } from '../http/errors';
import { newMesh, useTestHub } from '../testing/hub-fixture';
import { openStream, type SseEvent } from '../testing/sse';
import { Feeds, type FeedSource } from './feeds';

describeBackends('live activity feed', (getDb) => {
  const hub = useTestHub(getDb);

  it('a feed whose key is revoked ends at once with the 401 the next request gets', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const agentKey = await owner.client.createKey('p', 'a');
    const feed = await openStream(`${hub.url}/realtime/v1/meshworks/p/activity`, {
      authorization: `Bearer ${agentKey.key}`,
    });
    await feed.waitFor((e) => e.event === 'status');
    const revokedAt = Date.now();
    await owner.client.revokeKey(agentKey.id);
    const error = await feed.waitFor((e) => e.event === 'error');
    // Before, only the next activity row or the 5 s safety refresh ended it.
    expect(Date.now() - revokedAt).toBeLessThan(4_000);
    await feed.ended;
    const next = await fetch(`${hub.url}/rest/v1/rpc/mc_whoami`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentKey.key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(next.status).toBe(401);
    expect(JSON.parse(error.data)).toEqual(await next.json());
  });

  it('sends a row that commits after a higher id was sent, once, also to a feed resumed across the commit', async (ctx) => {
    // PGlite runs one transaction at a time, so rows there always commit in id order.
    if (getDb().kind !== 'postgres') return ctx.skip();
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const mw = (await getDb().query<{ id: string }>(`select id from mesh.meshworks where name = 'p'`)).rows[0]!.id;
    const url = `${hub.url}/realtime/v1/meshworks/p/activity`;
    const auth = { authorization: `Bearer ${owner.key}` };
    const summaryOf = (data: string) => (JSON.parse(data) as { summary: string }).summary;
    const sent = (text: string) => (e: { event: string; data: string }) =>
      e.event === 'activity' && summaryOf(e.data).includes(text);
    const rowIds = (events: SseEvent[]) =>
      events.filter((e) => e.event === 'activity').map((e) => (JSON.parse(e.data) as { id: number }).id);
    // One feed stays connected throughout; the other drops while the late row's transaction is open.
    const stays = await openStream(url, auth);
    const drops = await openStream(url, auth);
    await stays.waitFor((e) => e.event === 'status');
    await drops.waitFor((e) => e.event === 'status');

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
    const before = await drops.waitFor(sent('sent while it is open'));
    expect((JSON.parse(before.data) as { id: number }).id).toBeGreaterThan(id);
    await stays.waitFor(sent('sent while it is open'));
    // The resume cursor names the rows sent above a floor below the open transaction's id.
    const cursor = drops.events.filter((e) => e.event === 'activity').at(-1)!.id!;
    expect(cursor).toMatch(/^\d+:\d+(,\d+)*$/);
    expect(Number(cursor.split(':')[0])).toBeLessThan(id);
    drops.close();
    const seenBefore = rowIds(drops.events);

    commit();
    await late;
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'sent after it committed' });
    await stays.waitFor(sent('sent after it committed'));
    await stays.waitFor(sent('the late row'));
    stays.close();
    const ids = rowIds(stays.events);
    expect(ids).toContain(id);
    expect(new Set(ids).size).toBe(ids.length);

    // Resumed with the last event's id, as EventSource does (Last-Event-ID) or as a client passes it (?after=): the
    // late row arrives, and nothing sent before the drop comes again.
    for (const resumed of [
      await openStream(url, { ...auth, 'last-event-id': cursor }),
      await openStream(`${url}?after=${encodeURIComponent(cursor)}`, auth),
    ]) {
      await resumed.waitFor(sent('sent after it committed'));
      await resumed.waitFor(sent('the late row'));
      resumed.close();
      const again = rowIds(resumed.events);
      expect(again).toContain(id);
      expect(again.filter((x) => seenBefore.includes(x))).toEqual([]);
      expect(new Set([...seenBefore, ...again])).toEqual(new Set(ids));
    }
  });

  it('refuses a malformed resume cursor with 400', async () => {
    const owner = await newMesh(hub.url, 'p', ['a']);
    const url = `${hub.url}/realtime/v1/meshworks/p/activity`;
    const ids101 = Array.from({ length: 101 }, (_, i) => i + 2).join(',');
    for (const bad of ['-1', '1e3', 'abc', '5:5', '5:7,', '5:', `1:${ids101}`, '9999999999999999']) {
      const res = await fetch(`${url}?after=${encodeURIComponent(bad)}`, {
        headers: { authorization: `Bearer ${owner.key}` },
      });
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { message: string }).message).toBe(
        'after must be an activity id, or the id of the last event received',
      );
    }
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
    await new Feeds(mark).open(res as unknown as ServerResponse, source, { floor: 0, sent: [] });
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
