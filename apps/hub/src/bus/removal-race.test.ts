// A send that races with the removal of its recipient: the send resolved the agent, the removal committed before the
// send took the agent's counter. A direct message then gets a 404 that names the agent, and nothing of it is written;
// a broadcast goes to the agents still there. Alone or in a batch, the answer is the same. A send, or any other call,
// racing its project's deletion gets the 404 it gets once the project is gone.
import { expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { hashKey } from '../auth';
import { newMesh, untilLockWaits, useTestHub } from '../testing/hub-fixture';

describeBackends('a send racing its recipient’s removal', (getDb) => {
  const hub = useTestHub(getDb);

  async function send(key: string, args: Record<string, unknown>) {
    const res = await fetch(`${hub.url}/rest/v1/rpc/mc_send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ p_meshwork: 'p', ...args }),
    });
    return { status: res.status, body: (await res.json()) as { recipients?: number; message?: string; hint?: string } };
  }

  const stored = async (body: string) =>
    Number(
      (
        await getDb().query<{ n: string | number }>(
          `select (select count(*) from mesh.messages where body = $1) + (select count(*) from mesh.activity
             where kind = 'message' and summary like '%' || $1) as n`,
          [body],
        )
      ).rows[0]!.n,
    );

  /**
   * Runs `sql` (a removal or a deletion) in a transaction of its own, runs `during` once it is made but not committed,
   * waits until the call `during` started is blocked by it, then commits it and returns what `during` gave.
   */
  async function racing<T>(sql: string, params: unknown[], during: () => Promise<T>): Promise<T> {
    let made!: () => void;
    let commit!: () => void;
    const isMade = new Promise<void>((r) => (made = r));
    const go = new Promise<void>((r) => (commit = r));
    const change = getDb().transaction(async (tx) => {
      await tx.query(sql, params);
      made();
      await go;
    });
    await isMade;
    const started = during();
    await untilLockWaits(getDb(), 1, 'the call waiting on the change');
    commit();
    await change;
    return started;
  }

  /** Removes agent `name` while `during` runs (see racing). */
  const racingRemoval = <T>(name: string, during: () => Promise<T>) =>
    racing(`delete from mesh.agents where name = $1`, [name], during);

  /** Deletes project p while `during` runs (see racing). */
  const racingDeletion = <T>(during: () => Promise<T>) =>
    racing(`delete from mesh.meshworks where name = 'p'`, [], during);

  const ONE_SESSION = 'PGlite has one session: a removal cannot be in flight while a send runs there';

  it('a direct message gets a 404 naming the agent, and nothing of it is written', async (ctx) => {
    ctx.skip(getDb().kind !== 'postgres', ONE_SESSION);
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const answer = await racingRemoval('b', () =>
      send(owner.key, { p_from: 'a', p_to: 'b', p_body: 'lost in the race' }),
    );
    expect(answer.status).toBe(404);
    expect(answer.body.message).toBe("the agent 'b' was removed from the project while the message was being sent");
    expect(answer.body.hint).toBe('nothing was sent; agents here: a');
    expect(await stored('lost in the race')).toBe(0);
  });

  it('a broadcast goes to the agents still there', async (ctx) => {
    ctx.skip(getDb().kind !== 'postgres', ONE_SESSION);
    // One other agent: the single-row path. Two: the set-based one.
    const pair = await newMesh(hub.url, 'p', ['a', 'b']);
    const alone = await racingRemoval('b', () => send(pair.key, { p_from: 'a', p_to: '*', p_body: 'to nobody left' }));
    expect(alone).toMatchObject({ status: 200, body: { recipients: 0 } });
    expect(await stored('to nobody left')).toBe(2);
    await pair.client.deleteMeshwork('p', 'p');

    const trio = await newMesh(hub.url, 'p', ['a', 'b', 'c']);
    const both = await racingRemoval('b', () => send(trio.key, { p_from: 'a', p_to: '*', p_body: 'to c only' }));
    expect(both).toMatchObject({ status: 200, body: { recipients: 1 } });
    const inbox = await trio.client.wait({ meshwork: 'p', agent: 'c', timeoutSeconds: 0 });
    expect(inbox.messages.map((m) => [m.seq, m.body])).toEqual([[1, 'to c only']]);
  });

  it('a batch holding a direct message to it fails whole, with the same 404', async (ctx) => {
    ctx.skip(getDb().kind !== 'postgres', ONE_SESSION);
    const owner = await newMesh(hub.url, 'p', ['a', 'b', 'c']);
    const batch = JSON.stringify([
      [hashKey(owner.key), { p_meshwork: 'p', p_from: 'a', p_to: 'c', p_body: 'batched to c' }],
      [hashKey(owner.key), { p_meshwork: 'p', p_from: 'a', p_to: 'b', p_body: 'batched to b' }],
    ]);
    const outcome = await racingRemoval('b', () =>
      getDb()
        .query('select mesh.send_many($1::jsonb) as r', [batch])
        .then(
          () => null,
          (err: unknown) => err,
        ),
    );
    expect(outcome).toMatchObject({
      code: 'PT404',
      message: "the agent 'b' was removed from the project while the message was being sent",
      hint: 'nothing was sent; agents here: a, c',
    });
    expect(await stored('batched to c')).toBe(0);
    expect(await stored('batched to b')).toBe(0);
  });

  it('a send racing its project’s deletion gets the 404 a send to a deleted project gets', async (ctx) => {
    ctx.skip(getDb().kind !== 'postgres', ONE_SESSION);
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const answer = await racingDeletion(() =>
      send(owner.key, { p_from: 'a', p_to: 'b', p_body: 'into a deleted project' }),
    );
    expect(answer).toEqual(await send(owner.key, { p_from: 'a', p_to: 'b', p_body: 'after the deletion' }));
    expect(answer.status).toBe(404);
    expect(await stored('into a deleted project')).toBe(0);
  });

  it('any call racing its project’s deletion gets the 404 it gets after, not a foreign key’s 409', async (ctx) => {
    ctx.skip(getDb().kind !== 'postgres', ONE_SESSION);
    const calls: [string, Record<string, unknown>][] = [
      ['mc_task_create', { p_meshwork: 'p', p_title: 'raced' }],
      ['mc_scratchpad_set', { p_meshwork: 'p', p_key: 'k', p_value: 'v' }],
      ['mc_memory_set', { p_meshwork: 'p', p_agent: 'a', p_key: 'k', p_value: 'v' }],
      ['mc_add_agent', { p_meshwork: 'p', p_name: 'c' }],
    ];
    for (const [fn, args] of calls) {
      const owner = await newMesh(hub.url, 'p', ['a', 'b']);
      const call = () =>
        fetch(`${hub.url}/rest/v1/rpc/${fn}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${owner.key}`, 'content-type': 'application/json' },
          body: JSON.stringify(args),
        }).then(async (res) => ({ fn, status: res.status, body: (await res.json()) as unknown }));
      const raced = await racingDeletion(call);
      expect(raced).toEqual(await call());
      expect(raced.status).toBe(404);
    }
  });
});
