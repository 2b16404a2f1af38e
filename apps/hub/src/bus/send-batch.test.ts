// Sends that arrive together are written together (mesh.send_many, one transaction): each caller still gets exactly its
// own answer or error, sequences stay gapless, a retried key is stored once, and a failed batch writes nothing.
import { expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { hashKey } from '../auth';
import { newMesh, until, untilLockWaits, useTestHub } from '../testing/hub-fixture';

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
    const lockWaits = (n: number) => untilLockWaits(getDb(), n, `${n} send transactions waiting on a lock`);
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

  it('a lone send writes exactly what the same send writes in a batch', async () => {
    // mesh.post_messages writes one message to at most one agent with single-row statements, and anything else with
    // set-based ones. The same sends go one call each into project a (and a two-agent project for the broadcast) and
    // in batches into project b: every row, note and answer must come out the same, ids and times aside.
    const owner = await newMesh(hub.url, 'a', ['s0', 't0', 't1']);
    for (const [project, agents] of [
      ['b', ['s0', 't0', 't1']],
      ['duo-a', ['s0', 't0']],
      ['duo-b', ['s0', 't0']],
    ] as const) {
      await owner.client.createMeshwork(project);
      for (const a of agents) await owner.client.addAgent(project, a);
    }
    const key = hashKey(owner.key);
    interface Outcome {
      results: { result: { id: string; thread_id: string } }[];
      wake: string | null;
      changed: string | null;
      deliver: string | null;
    }
    const call = async (items: Record<string, unknown>[]) =>
      (
        await getDb().query<{ r: Outcome }>('select mesh.send_many($1::jsonb) as r', [
          JSON.stringify(items.map((args) => [key, args])),
        ])
      ).rows[0]!.r;

    /** One round of sends into a side: one call each, one after another (lone), or one call for all (batch). */
    async function round(side: string, lone: boolean, sends: Record<string, unknown>[]) {
      const items = sends.map((s) => ({ ...s, p_meshwork: `${(s.p_meshwork as string | undefined) ?? ''}${side}` }));
      const outs: Outcome[] = [];
      if (lone) for (const item of items) outs.push(await call([item]));
      else outs.push(await call(items));
      return {
        results: outs.flatMap((o) => o.results.map((r) => r.result)),
        // Agents to wake and projects changed are noted once per transaction: compared as sets.
        wake: new Set(outs.flatMap((o) => o.wake?.split(',') ?? [])),
        changed: new Set(outs.flatMap((o) => o.changed?.split(',') ?? [])),
        deliver: outs.flatMap((o) => o.deliver?.split('\n') ?? []).map((l) => JSON.parse(l) as unknown),
      };
    }

    async function sendAll(side: string, lone: boolean) {
      const first = await round(side, lone, [
        { p_from: 's0', p_to: 't0', p_body: `hello ${'x'.repeat(300)}`, p_data: { n: 1 } }, // the log keeps 200 chars
        { p_to: 't0', p_body: 'from the overseer' },
        { p_from: 's0', p_to: 'overseer', p_body: 'to the overseer' },
        { p_from: 's0', p_to: 't1', p_body: 'ask', p_kind: 'ask', p_deadline_seconds: 60, p_idempotency_key: 'k' },
        { p_from: 's0', p_to: 't1', p_body: 'ask', p_kind: 'ask', p_deadline_seconds: 60, p_idempotency_key: 'k' },
      ]);
      const [hello, , , ask] = first.results;
      const second = await round(side, lone, [
        { p_from: 't1', p_to: '', p_reply_to: ask!.id, p_body: 'answer' },
        { p_from: 's0', p_to: 't0', p_thread_id: hello!.thread_id, p_body: 'more' },
        { p_meshwork: 'duo-', p_from: 's0', p_to: '*', p_body: 'to everyone' },
      ]);
      return { first, second };
    }

    /** What a side wrote and was told, with ids and times replaced by what they stand for. */
    async function seen(side: string, lone: boolean) {
      const told = await sendAll(side, lone);
      const params = [side, `duo-${side}`];
      const labels = await getDb().query<{ id: string; label: string }>(
        `select a.id, 'agent ' || a.name as label from mesh.agents a join mesh.meshworks w on w.id = a.meshwork_id
          where w.name in ($1, $2)
         union all select w.id, 'project ' || replace(w.name, $1, '') from mesh.meshworks w where w.name in ($1, $2)
         union all select m.id, 'message ' || m.body from mesh.messages m join mesh.meshworks w on w.id = m.meshwork_id
          where w.name in ($1, $2)
         union all select ac.id, 'owner' from mesh.accounts ac`,
        params,
      );
      const names = new Map(labels.rows.map((r) => [r.id, r.label]));
      const norm = (v: unknown): unknown =>
        JSON.parse(JSON.stringify(v), (_k, x: unknown) => {
          if (typeof x !== 'string') return x;
          if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/.test(x)) return names.get(x) ?? 'an id of neither side';
          return /^\d{4}-\d\d-\d\dT/.test(x) ? 'a time' : x;
        });
      const named = (ids: Set<string>) => [...ids].map((id) => names.get(id) ?? 'an id of neither side').sort();
      const rows = async (sql: string) => norm((await getDb().query(sql, params)).rows);
      const mine = `meshwork_id in (select id from mesh.meshworks where name in ($1, $2))`;
      return {
        told: [told.first, told.second].map((r) => norm({ ...r, wake: named(r.wake), changed: named(r.changed) })),
        messages: await rows(
          `select id, from_agent_id, from_account_id, to_agent_id, broadcast, kind, body, data, thread_id, reply_to,
                  deadline_at is not null as has_deadline, idempotency_key from mesh.messages where ${mine} order by body`,
        ),
        inbox: await rows(
          `select i.agent_id, i.seq, i.message_id from mesh.inbox i join mesh.agents a on a.id = i.agent_id
            where a.${mine} order by a.name, a.meshwork_id = (select id from mesh.meshworks where name = $1), i.seq`,
        ),
        agents: await rows(
          `select id, inbox_seq from mesh.agents where ${mine}
            order by name, meshwork_id = (select id from mesh.meshworks where name = $1)`,
        ),
        activity: await rows(
          `select agent_id, account_id, summary, data from mesh.activity where kind = 'message' and ${mine} order by id`,
        ),
      };
    }
    const lone = await seen('a', true);
    const batch = await seen('b', false);
    expect(lone.messages).toHaveLength(7);
    expect(lone.inbox).toHaveLength(6);
    expect(lone).toEqual(batch);
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
