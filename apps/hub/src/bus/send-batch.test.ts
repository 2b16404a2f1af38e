// Sends that arrive together are written together (mesh.send_many, one transaction): each caller still gets exactly its
// own answer or error, sequences stay gapless, a retried key is stored once, and a failed batch writes nothing.
import { expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { hashKey } from '../auth';
import { newMesh, until, useTestHub } from '../testing/hub-fixture';

interface Answer {
  status: number;
  body: { id?: string; duplicate?: boolean; recipients?: number; message?: string; code?: string };
}

describeBackends('sends written together', (getDb) => {
  const hub = useTestHub(getDb);

  async function send(key: string, args: Record<string, unknown>): Promise<Answer> {
    const res = await fetch(`${hub.url}/rest/v1/rpc/mc_send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ p_meshwork: 'p', ...args }),
    });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  }

  const senders = Array.from({ length: 10 }, (_, i) => `s${i}`);
  const targets = ['t0', 't1', 't2', 't3'];

  async function messages(): Promise<{ id: string; body: string; created_at: unknown }[]> {
    return (
      await getDb().query<{ id: string; body: string; created_at: unknown }>(
        'select id, body, created_at from mesh.messages',
      )
    ).rows;
  }

  /** The seqs in an agent's inbox, in order. */
  async function seqsOf(agent: string): Promise<number[]> {
    const seqs = await getDb().query<{ seq: number | string }>(
      'select i.seq from mesh.inbox i join mesh.agents a on a.id = i.agent_id where a.name = $1 order by i.seq',
      [agent],
    );
    return seqs.rows.map((r) => Number(r.seq));
  }

  it('60 concurrent sends share transactions, and each answer names its own message', async () => {
    const owner = await newMesh(hub.url, 'p', [...targets, ...senders]);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        send(owner.key, { p_from: `s${i % 10}`, p_to: `t${i % 4}`, p_body: `m${i}` }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(60).fill(200));
    expect(answers.every((a) => a.body.duplicate === false && a.body.recipients === 1)).toBe(true);
    const rows = await messages();
    expect(rows).toHaveLength(60);
    const bodyOf = new Map(rows.map((r) => [r.id, r.body]));
    answers.forEach((a, i) => expect(bodyOf.get(a.body.id!)).toBe(`m${i}`));
    // Messages written in one transaction share its timestamp: fewer timestamps than messages means they were batched.
    // (Embedded PGlite runs each statement on the hub's own thread, so requests cannot pile up behind one there.)
    if (getDb().kind === 'postgres') expect(new Set(rows.map((r) => String(r.created_at))).size).toBeLessThan(60);
    for (const t of targets) expect(await seqsOf(t)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    const logged = await getDb().query<{ n: number | string }>(
      `select count(distinct data ->> 'message_id') as n from mesh.activity where kind = 'message'`,
    );
    expect(Number(logged.rows[0]!.n)).toBe(60);
  });

  it('sends from different keys in one batch each act with their own rights, in their own project', async () => {
    // Two accounts each own a project named p with the same agent names; a third has none. The batch resolves each
    // (key, project) once: a send must never borrow another key's project or rights.
    const owner = await newMesh(hub.url, 'p', [...targets, ...senders]);
    const other = await newMesh(hub.url, 'p', [...targets, ...senders]);
    const stranger = await newMesh(hub.url, 'q', ['s0']);
    const burst = (keys: string[], tag: string) =>
      Promise.all(
        Array.from({ length: 48 }, (_, i) =>
          send(keys[i % keys.length]!, {
            p_from: `s${i % 10}`,
            p_to: `t${i % 4}`,
            p_body: `${tag}${i % keys.length}:${i}`,
          }),
        ),
      );
    const mixed = await burst([owner.key, other.key], 'a');
    expect(mixed.map((a) => a.status)).toEqual(Array(48).fill(200));
    const refused = await burst([owner.key, stranger.key], 'b');
    refused.forEach((a, i) => expect(a.status).toBe(i % 2 === 1 ? 404 : 200));
    expect(refused[1]!.body.message).toMatch(/could not resolve project 'p'/);

    const rows = (
      await getDb().query<{ body: string; meshwork_id: string; created_at: unknown }>(
        'select m.body, m.meshwork_id, m.created_at from mesh.messages m',
      )
    ).rows;
    expect(rows).toHaveLength(72);
    const projectsOf = (tags: string[]) =>
      new Set(rows.filter((r) => tags.some((t) => r.body.startsWith(`${t}:`))).map((r) => r.meshwork_id));
    const owners = await getDb().query<{ id: string; key: string }>(
      'select w.id, k.key_hash as key from mesh.meshworks w join mesh.api_keys k on k.account_id = w.owner_id',
    );
    const keyOf = new Map(owners.rows.map((r) => [r.id, r.key]));
    expect([...projectsOf(['a0', 'b0'])].map((id) => keyOf.get(id))).toEqual([hashKey(owner.key)]);
    expect([...projectsOf(['a1'])].map((id) => keyOf.get(id))).toEqual([hashKey(other.key)]);
    // On PostgreSQL, the two accounts' sends shared transactions (one timestamp holds both).
    if (getDb().kind === 'postgres') {
      const byTx = new Map<string, Set<string>>();
      for (const r of rows.filter((x) => x.body.startsWith('a'))) {
        const tx = String(r.created_at);
        byTx.set(tx, (byTx.get(tx) ?? new Set()).add(r.body.split(':')[0]!));
      }
      expect([...byTx.values()].some((tags) => tags.size === 2)).toBe(true);
    }
  });

  it('a second send transaction runs beside a blocked one once eight sends wait, and never a third', async (ctx) => {
    // PGlite has one session: a lock held in one transaction there would stop every statement of the hub.
    if (getDb().kind !== 'postgres') return ctx.skip();
    const owner = await newMesh(hub.url, 'p', [...targets, ...senders]);
    const lockWaits = (n: number) =>
      until(
        async () =>
          Number(
            (
              await getDb().query<{ n: number | string }>(
                `select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
              )
            ).rows[0]!.n,
          ) === n,
        `${n} send transactions waiting on a lock`,
      );
    const settled = new Set<string>();
    const tracked = (label: string, p: Promise<Answer>) =>
      p.then((a) => {
        settled.add(label);
        return a;
      });
    const deferred = () => {
      let resolve!: () => void;
      return { promise: new Promise<void>((r) => (resolve = r)), resolve: () => resolve() };
    };
    const [t0Held, lockT2, t2Held, commit] = [deferred(), deferred(), deferred(), deferred()];
    // Another session holds t0's row, later t2's too: a send to either waits until it commits.
    const holder = getDb().transaction(async (tx) => {
      await tx.query(`select 1 from mesh.agents where name = 't0' for update`);
      t0Held.resolve();
      await lockT2.promise;
      await tx.query(`select 1 from mesh.agents where name = 't2' for update`);
      t2Held.resolve();
      await commit.promise;
    });
    let first: Promise<Answer>, second: Promise<Answer>[], third: Promise<Answer>[];
    try {
      await t0Held.promise;
      first = tracked('first', send(owner.key, { p_from: 's0', p_to: 't0', p_body: 'held' }));
      await lockWaits(1);

      // Seven waiting sends do not start a second transaction; the eighth does, and all eight are written meanwhile.
      const seven = Array.from({ length: 7 }, (_, i) =>
        tracked(`t1 ${i}`, send(owner.key, { p_from: `s${i + 1}`, p_to: 't1', p_body: `t1 ${i}` })),
      );
      await new Promise((r) => setTimeout(r, 300));
      expect([...settled]).toEqual([]);
      const eight = await Promise.all([...seven, send(owner.key, { p_from: 's8', p_to: 't1', p_body: 't1 7' })]);
      expect(eight.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(settled.has('first')).toBe(false);

      // With two transactions waiting, later sends wait for one of them, however many they are.
      lockT2.resolve();
      await t2Held.promise;
      second = Array.from({ length: 8 }, (_, i) =>
        tracked(`t2 ${i}`, send(owner.key, { p_from: `s${i}`, p_to: 't2', p_body: `t2 ${i}` })),
      );
      await lockWaits(2);
      third = Array.from({ length: 8 }, (_, i) =>
        tracked(`t3 ${i}`, send(owner.key, { p_from: `s${i}`, p_to: 't3', p_body: `t3 ${i}` })),
      );
      await new Promise((r) => setTimeout(r, 300));
      expect([...settled].filter((l) => !l.startsWith('t1'))).toEqual([]);
    } finally {
      lockT2.resolve();
      commit.resolve();
    }
    await holder;
    const rest = await Promise.all([first, ...second, ...third]);
    expect(rest.map((a) => a.status)).toEqual(Array(17).fill(200));
    for (const [t, n] of [
      ['t0', 1],
      ['t1', 8],
      ['t2', 8],
      ['t3', 8],
    ] as const) {
      expect(await seqsOf(t)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    }
  });

  it('a bad send among concurrent ones gets its own error; the others are written once', async () => {
    const owner = await newMesh(hub.url, 'p', [...targets, ...senders]);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        send(owner.key, {
          p_from: `s${i % 10}`,
          p_to: i % 7 === 3 ? 'nobody' : `t${i % 4}`,
          p_body: `m${i}`,
          ...(i % 11 === 5 ? { p_thread_id: 'not-a-uuid' } : {}),
        }),
      ),
    );
    const bad = (i: number) => i % 7 === 3 || i % 11 === 5;
    answers.forEach((a, i) => {
      if (i % 11 === 5) expect(a.status).toBe(400);
      else if (i % 7 === 3) {
        expect(a.status).toBe(404);
        expect(a.body.message).toMatch(/nobody/);
      } else expect(a.status).toBe(200);
    });
    const bodies = (await messages()).map((r) => r.body).sort();
    const expected = Array.from({ length: 60 }, (_, i) => i)
      .filter((i) => !bad(i))
      .map((i) => `m${i}`)
      .sort();
    expect(bodies).toEqual(expected);
  });

  it('a lone send that fails gets the error mc_send gives, whether or not it could be batched', async () => {
    const owner = await newMesh(hub.url, 'p', [...targets, ...senders]);
    const unknownAgent = await send(owner.key, { p_from: 's0', p_to: 'nobody', p_body: 'hello' });
    expect(unknownAgent.status).toBe(404);
    expect(unknownAgent.body.message).toMatch(/nobody/);
    const badUuid = await send(owner.key, { p_from: 's0', p_to: 't0', p_body: 'hello', p_reply_to: 'not-a-uuid' });
    expect(badUuid.status).toBe(400);
    // An argument mc_send does not have is refused by the RPC layer, as for any function.
    const unknownArg = await send(owner.key, { p_from: 's0', p_to: 't0', p_body: 'hello', p_bogus: 1 });
    expect(unknownArg.status).toBe(404);
    expect(unknownArg.body.code).toBe('PGRST202');
    expect(unknownArg.body.message).toMatch(/p_bogus/);
    expect(await messages()).toHaveLength(0);
  });

  it('one idempotency key sent 20 times at once is stored once; every answer names that message', async () => {
    const owner = await newMesh(hub.url, 'p', [...targets, ...senders]);
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, () =>
        send(owner.key, { p_from: 's0', p_to: 't0', p_body: 'once', p_idempotency_key: 'k1' }),
      ),
      ...Array.from({ length: 20 }, (_, i) =>
        send(owner.key, { p_from: `s${1 + (i % 9)}`, p_to: 't1', p_body: `other ${i}` }),
      ),
    ]);
    const retried = answers.slice(0, 20);
    expect(retried.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(retried.map((a) => a.body.id)).size).toBe(1);
    expect(retried.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    expect(retried.every((a) => a.body.recipients === 1)).toBe(true);
    expect((await messages()).filter((r) => r.body === 'once')).toHaveLength(1);
  });

  it('a waiter asleep on one agent gets every message sent to it at once, in gapless order', async () => {
    const owner = await newMesh(hub.url, 'p', [...targets, ...senders]);
    const first = owner.client.wait({ meshwork: 'p', agent: 't0', timeoutSeconds: 20 });
    await until(() => hub.hub.waiters.asleep > 0);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        send(owner.key, { p_from: `s${i % 10}`, p_to: `t${i % 2}`, p_body: `m${i}` }),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const got = (await first).messages;
    let cursor = got.at(-1)!.seq!;
    while (got.length < 20) {
      const more = await owner.client.wait({ meshwork: 'p', agent: 't0', afterSeq: cursor, timeoutSeconds: 5 });
      expect(more.messages.length).toBeGreaterThan(0);
      got.push(...more.messages);
      cursor = more.messages.at(-1)!.seq!;
    }
    expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // What the deliveries handed over is exactly what reading the inbox returns.
    const reread = await owner.client.wait({ meshwork: 'p', agent: 't0', afterSeq: 0, timeoutSeconds: 0, limit: 100 });
    expect(reread.messages).toEqual(got);
    expect(got.map((m) => m.body).sort()).toEqual(
      Array.from({ length: 40 }, (_, i) => i)
        .filter((i) => i % 2 === 0)
        .map((i) => `m${i}`)
        .sort(),
    );
  });

  it('an overseer message and a broadcast are delivered in the shape a read returns', async () => {
    const owner = await newMesh(hub.url, 'p', [...targets, ...senders]);
    let cursor = 0;
    for (const body of ['from the overseer', 'to everyone']) {
      const waiting = owner.client.wait({ meshwork: 'p', agent: 't0', afterSeq: cursor, timeoutSeconds: 20 });
      await until(() => hub.hub.waiters.asleep > 0);
      const before = hub.hub.delivered.count;
      await send(
        owner.key,
        body === 'to everyone' ? { p_from: 's0', p_to: '*', p_body: body } : { p_to: 't0', p_body: body },
      );
      const got = (await waiting).messages;
      expect(hub.hub.delivered.count).toBe(before + 1); // answered from the delivery, not by reading the inbox
      const reread = await owner.client.wait({ meshwork: 'p', agent: 't0', afterSeq: cursor, timeoutSeconds: 0 });
      expect(reread.messages).toEqual(got);
      expect(got.map((m) => m.body)).toEqual([body]);
      cursor = got[0]!.seq!;
    }
  });

  it('mesh.send_many is all or nothing, and answers in order with each key`s expiry', async () => {
    const owner = await newMesh(hub.url, 'p', [...targets, ...senders]);
    const key = hashKey(owner.key);
    const call = (items: unknown[]) =>
      getDb().query<{ r: { results: { result: { id: string }; exp: unknown }[]; wake: string } }>(
        'select mesh.send_many($1::jsonb) as r',
        [JSON.stringify(items)],
      );
    const good = (body: string) => [key, { p_meshwork: 'p', p_from: 's0', p_to: 't0', p_body: body }];
    await expect(
      call([good('a'), [key, { p_meshwork: 'p', p_from: 's0', p_to: 'nobody', p_body: 'b' }]]),
    ).rejects.toThrow(/nobody/);
    await expect(call([good('a'), [key, { p_meshwork: 'p', p_to: 't0', p_body: 'b', p_bogus: 1 }]])).rejects.toThrow(
      /batched send/,
    );
    await expect(call([good('a'), [null, { p_meshwork: 'p', p_to: 't0', p_body: 'b' }]])).rejects.toThrow(
      /batched send/,
    );
    expect(await messages()).toHaveLength(0);

    const res = await call([good('x'), good('y'), good('z')]);
    const { results, wake } = res.rows[0]!.r;
    const bodyOf = new Map((await messages()).map((r) => [r.id, r.body]));
    expect(results.map((x) => bodyOf.get(x.result.id))).toEqual(['x', 'y', 'z']);
    expect(results.every((x) => x.exp === null)).toBe(true);
    expect(wake).toMatch(/^[0-9a-f-]{36}$/);
  });
});
