// mesh.send_many resolves a plain send in one statement (mesh.send_plain) and anything else through the full checks.
// The one statement must accept only what the full checks accept, and write and answer exactly what they would. Each
// case below runs twice, in a transaction rolled back afterwards: as it is, and with mesh.send_plain replaced (inside
// that transaction) by one that declines every send. Both must give the same answer or error and the same rows; each
// case says whether the one statement takes it, so the cases that exercise it cannot silently stop doing so.
import { expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import type { Db, Queryable } from '@meshcode/db';
import { hashKey } from '../auth';
import { newAccount, newMesh, useTestHub } from '../testing/hub-fixture';

interface Case {
  name: string;
  key: string;
  args: Record<string, unknown>;
  /** SQL run in the case's transaction before the send ($1 is the key's hash when it has a parameter). */
  setup?: string;
  /** Sends batched after this one (the same transaction, all or nothing). */
  more?: { key: string; args: Record<string, unknown> }[];
  /** Whether mesh.send_plain takes the (first) send rather than leaving it to the full checks. */
  plain: boolean;
  /** Refused all the same, after it was resolved (by what both paths write through). */
  refused?: boolean;
}

interface Outcome {
  plain: boolean;
  answer?: unknown;
  error?: { code?: string; message?: string; hint?: string; detail?: string };
  rows?: unknown;
}

class Rollback {
  constructor(readonly outcome: Outcome) {}
}

/** The rows a send writes, and whether it recorded the key's use, with its own ids and clock taken out. */
async function written(tx: Queryable, keyHash: string): Promise<unknown> {
  const q = async (sql: string, params: unknown[] = []) => (await tx.query(sql, params)).rows;
  return {
    messages: await q(
      `select m.meshwork_id, m.from_agent_id, m.from_account_id, m.to_agent_id, m.broadcast, m.kind, m.body, m.data,
              m.thread_id = m.id as own_thread, m.reply_to, m.deadline_at - m.created_at as deadline, m.idempotency_key
         from mesh.messages m where m.created_at = pg_catalog.now() order by m.body`,
    ),
    inbox: await q(
      `select i.agent_id, i.seq, m.body from mesh.inbox i join mesh.messages m on m.id = i.message_id
        where m.created_at = pg_catalog.now() order by i.agent_id, i.seq`,
    ),
    activity: await q(
      `select a.meshwork_id, a.agent_id, a.account_id, a.kind, a.summary, a.data - 'message_id' - 'thread_id' as data
         from mesh.activity a where a.kind = 'message' and a.data ->> 'message_id' in
           (select m.id::text from mesh.messages m where m.created_at = pg_catalog.now()) order by a.summary`,
    ),
    agents: await q(`select a.id, a.inbox_seq from mesh.agents a order by a.id`),
    keyUsed: await q(`select ak.last_used_at = pg_catalog.now() as used from mesh.api_keys ak where ak.key_hash = $1`, [
      keyHash,
    ]),
  };
}

/** The answer with the new messages' ids and the clock taken out (both differ between two runs of one send). */
function normalized(answer: unknown): unknown {
  const r = answer as { results?: { result?: { id?: string } | null }[] };
  let text = JSON.stringify(answer);
  (r.results ?? []).forEach((x, i) => {
    if (x.result?.id) text = text.split(x.result.id).join(`<message ${i} id>`);
  });
  text = text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '<time>');
  return JSON.parse(text);
}

/** mesh.send_plain declining every send, so that mesh.send_many takes the full checks. */
const DECLINE_ALL = `create or replace function mesh.send_plain(p_key text, a jsonb, out o mesh.outgoing, out exp bigint)
  language plpgsql volatile as $$ begin end $$`;

async function run(db: Db, full: boolean, c: Case): Promise<Outcome> {
  const keyHash = hashKey(c.key);
  const calls = JSON.stringify([[keyHash, c.args], ...(c.more ?? []).map((m) => [hashKey(m.key), m.args])]);
  try {
    await db.transaction(async (tx) => {
      if (c.setup) await tx.query(c.setup, c.setup.includes('$1') ? [keyHash] : []);
      const plain = await tx.query<{ plain: boolean }>(
        'select (p.o).id is not null as plain from mesh.send_plain($1, $2::jsonb) p',
        [keyHash, JSON.stringify(c.args)],
      );
      const outcome: Outcome = { plain: plain.rows[0]!.plain };
      if (full) await tx.query(DECLINE_ALL);
      try {
        const res = await tx.query<{ r: unknown }>('select mesh.send_many($1::jsonb) as r', [calls]);
        outcome.answer = normalized(res.rows[0]!.r);
      } catch (e) {
        const err = e as Outcome['error'];
        outcome.error = { code: err?.code, message: err?.message, hint: err?.hint, detail: err?.detail };
        throw new Rollback(outcome);
      }
      outcome.rows = normalized(await written(tx, keyHash));
      throw new Rollback(outcome);
    });
  } catch (e) {
    if (e instanceof Rollback) return e.outcome;
    throw e;
  }
  throw new Error('the case transaction was not rolled back');
}

describeBackends('a plain send resolved in one statement', (getDb) => {
  const hub = useTestHub(getDb);

  async function rpc(key: string | null, fn: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await fetch(`${hub.url}/rest/v1/rpc/${fn}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(args),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`${fn}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  it('accepts only what the full path accepts, and answers and writes the same', async () => {
    const db = getDb();
    // a: owns p (a0, a1, a2), q (q0, q1) and dup (d0, d1). b: owns its own p (a0, a1), and is a member of a's p and q.
    // c: a member of a's dup and of b's dup, the newer. g: a guest of a's p through an invite, bound to agent g.
    const a = await newMesh(hub.url, 'p', ['a0', 'a1', 'a2']);
    for (const [mw, agents] of [
      ['q', ['q0', 'q1']],
      ['dup', ['d0', 'd1']],
    ] as const) {
      await a.client.createMeshwork(mw);
      for (const ag of agents) await a.client.addAgent(mw, ag, {});
    }
    const b = await newMesh(hub.url, 'p', ['a0', 'a1']);
    await b.client.createMeshwork('dup');
    await b.client.addAgent('dup', 'd0', {});
    const c = await newAccount(hub.url, 'c');
    const idOf = async (key: string) =>
      (
        await db.query<{ account_id: string }>('select account_id from mesh.api_keys where key_hash = $1', [
          hashKey(key),
        ])
      ).rows[0]!.account_id;
    const [aId, bId, cId] = [await idOf(a.key), await idOf(b.key), await idOf(c.key)];
    const mwOf = async (owner: string, name: string) =>
      (await db.query<{ id: string }>('select id from mesh.meshworks where owner_id = $1 and name = $2', [owner, name]))
        .rows[0]!.id;
    const [ap, aq, aDup, bDup] = [
      await mwOf(aId, 'p'),
      await mwOf(aId, 'q'),
      await mwOf(aId, 'dup'),
      await mwOf(bId, 'dup'),
    ];
    await db.query(
      `insert into mesh.members (meshwork_id, account_id, role, created_at) values
         ($1, $3, 'member', now()), ($2, $3, 'member', now()), ($4, $6, 'guest', now()), ($5, $6, 'member', now())`,
      [ap, aq, bId, aDup, bDup, cId],
    );
    const agentKey = (await rpc(a.key, 'mc_create_key', { p_meshwork: 'p', p_agent: 'a0', p_days: 30 })).key as string;
    const invite = await rpc(a.key, 'mc_create_invite', { p_meshwork: 'p', p_agent: 'g' });
    const guestKey = (await rpc(null, 'mc_redeem_invite', { p_token: invite.token })).key as string;
    const revoked = await rpc(a.key, 'mc_create_key', { p_meshwork: 'p', p_agent: 'a1' });
    await rpc(revoked.key as string, 'mc_list_meshworks', {});
    await rpc(a.key, 'mc_revoke_key', { p_key_id: revoked.id });
    const unused = (await rpc(a.key, 'mc_create_key', { p_meshwork: 'p', p_agent: 'a2' })).key as string;
    // Every key has been used just now (the full path records a use at most once a minute).
    for (const k of [a.key, b.key, c.key, agentKey, guestKey]) await rpc(k, 'mc_list_meshworks', {});

    const base = { p_meshwork: 'p', p_from: 'a0', p_to: 'a1', p_body: 'hello' };
    const cases: Case[] = [
      // Taken by the one statement.
      { name: 'a direct message', key: a.key, args: base, plain: true },
      {
        name: 'names in other case, with spaces',
        key: a.key,
        args: { ...base, p_meshwork: ' P ', p_from: ' A0 ', p_to: 'A1  ' },
        plain: true,
      },
      { name: 'from the overseer', key: a.key, args: { p_meshwork: 'p', p_to: 'a2', p_body: 'x' }, plain: true },
      {
        name: 'an ask with a deadline',
        key: a.key,
        args: { ...base, p_kind: 'ask', p_deadline_seconds: 60 },
        plain: true,
      },
      {
        name: 'an event, deadline as a string',
        key: a.key,
        args: { ...base, p_kind: 'event', p_deadline_seconds: '86400' },
        plain: true,
      },
      { name: 'explicit nulls', key: a.key, args: { ...base, p_kind: null, p_idempotency_key: null }, plain: true },
      {
        name: 'data and an idempotency key',
        key: a.key,
        args: { ...base, p_data: { n: 1 }, p_idempotency_key: 'k1' },
        plain: true,
      },
      { name: 'a blank idempotency key', key: a.key, args: { ...base, p_idempotency_key: '  ' }, plain: true },
      {
        name: 'a retried idempotency key',
        key: a.key,
        args: { ...base, p_idempotency_key: 'k2' },
        setup: `select mesh.send_many(pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_array($1::text,
                  '{"p_meshwork":"p","p_from":"a0","p_to":"a1","p_body":"hello","p_idempotency_key":"k2"}'::jsonb)))`,
        plain: true,
      },
      {
        name: 'an idempotency key used for another message',
        key: a.key,
        args: { ...base, p_idempotency_key: 'k3' },
        setup: `select mesh.send_many(pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_array($1::text,
                  '{"p_meshwork":"p","p_from":"a0","p_to":"a1","p_body":"first","p_idempotency_key":"k3"}'::jsonb)))`,
        plain: true,
        refused: true,
      },
      { name: 'an agent key', key: agentKey, args: { p_meshwork: 'p', p_to: 'a1', p_body: 'x' }, plain: true },
      { name: 'an agent key naming its agent', key: agentKey, args: base, plain: true },
      { name: 'a guest key', key: guestKey, args: { p_meshwork: 'p', p_to: 'a1', p_body: 'x' }, plain: true },
      { name: 'own project before a joined one', key: b.key, args: base, plain: true },
      {
        name: 'a joined project',
        key: b.key,
        args: { ...base, p_meshwork: 'q', p_from: 'q0', p_to: 'q1' },
        plain: true,
      },
      {
        name: 'the oldest of two joined',
        key: c.key,
        args: { ...base, p_meshwork: 'dup', p_from: 'd0', p_to: 'd1' },
        plain: true,
      },
      {
        name: 'as a joined member, from no agent',
        key: c.key,
        args: { p_meshwork: 'dup', p_to: 'd1', p_body: 'x' },
        plain: true,
      },
      { name: 'a body at the limit', key: a.key, args: { ...base, p_body: 'x'.repeat(262144) }, plain: true },
      {
        name: 'in a batch with sends of other keys and the full checks',
        key: a.key,
        args: base,
        more: [
          { key: a.key, args: { ...base, p_to: '*', p_body: 'to all' } },
          { key: b.key, args: { ...base, p_body: 'from b' } },
          { key: agentKey, args: { p_meshwork: 'p', p_to: 'a2', p_body: 'from the agent key' } },
          { key: a.key, args: { ...base, p_meshwork: ap, p_to: 'a2', p_body: 'by id' } },
        ],
        plain: true,
      },
      {
        name: 'in a batch where a later send fails',
        key: a.key,
        args: base,
        more: [
          { key: b.key, args: { ...base, p_body: 'from b' } },
          { key: a.key, args: { ...base, p_to: 'nobody' } },
        ],
        plain: true,
      },

      // Left to the full path.
      {
        name: 'a key not used within the minute',
        key: unused,
        args: { p_meshwork: 'p', p_to: 'a1', p_body: 'x' },
        plain: false,
      },
      {
        name: 'an owner key not used within the minute',
        key: a.key,
        args: base,
        setup: `update mesh.api_keys set last_used_at = now() - interval '61 seconds' where key_hash = $1`,
        plain: false,
      },
      {
        name: 'a revoked key',
        key: revoked.key as string,
        args: { p_meshwork: 'p', p_to: 'a2', p_body: 'x' },
        plain: false,
      },
      {
        name: 'a key of one project, bound to no agent, in another',
        key: agentKey,
        args: { ...base, p_meshwork: 'q', p_from: 'q0', p_to: 'q1' },
        setup: `update mesh.api_keys set agent_id = null where key_hash = $1`,
        plain: false,
      },
      {
        name: 'an expired key',
        key: agentKey,
        args: base,
        setup: `update mesh.api_keys set expires_at = now() - interval '1 second' where key_hash = $1`,
        plain: false,
      },
      { name: 'an unknown key', key: 'mc_nobody', args: base, plain: false },
      {
        name: 'an agent key naming another agent',
        key: agentKey,
        args: { ...base, p_from: 'a1', p_to: 'a2' },
        plain: false,
      },
      { name: 'an agent key naming no one', key: agentKey, args: { ...base, p_from: '  ' }, plain: false },
      {
        name: 'an agent key in another project',
        key: agentKey,
        args: { ...base, p_meshwork: 'q', p_from: null, p_to: 'q1' },
        plain: false,
      },
      { name: 'an agent key to itself', key: agentKey, args: { ...base, p_from: null, p_to: 'a0' }, plain: false },
      {
        name: 'a guest whose membership ended',
        key: guestKey,
        args: { p_meshwork: 'p', p_to: 'a1', p_body: 'x' },
        setup: `update mesh.members set revoked_at = now() where role = 'guest' and meshwork_id = '${ap}'`,
        plain: false,
      },
      {
        name: 'a member whose membership ended',
        key: b.key,
        args: { ...base, p_meshwork: 'q', p_from: 'q0', p_to: 'q1' },
        setup: `update mesh.members set revoked_at = now() where meshwork_id = '${aq}' and account_id = '${bId}'`,
        plain: false,
      },
      { name: 'a project by id', key: a.key, args: { ...base, p_meshwork: ap }, plain: false },
      { name: 'an unknown project', key: a.key, args: { ...base, p_meshwork: 'nope' }, plain: false },
      { name: 'a blank project', key: a.key, args: { ...base, p_meshwork: ' ' }, plain: false },
      { name: 'a project name too long', key: a.key, args: { ...base, p_meshwork: 'p'.repeat(201) }, plain: false },
      {
        name: 'a project of no membership',
        key: c.key,
        args: { ...base, p_meshwork: 'q', p_from: 'q0', p_to: 'q1' },
        plain: false,
      },
      { name: 'an unknown sender', key: a.key, args: { ...base, p_from: 'nobody' }, plain: false },
      { name: 'a blank sender', key: a.key, args: { ...base, p_from: ' ' }, plain: false },
      { name: 'to itself', key: a.key, args: { ...base, p_to: 'a0' }, plain: false },
      { name: 'an unknown recipient', key: a.key, args: { ...base, p_to: 'nobody' }, plain: false },
      { name: 'no recipient', key: a.key, args: { ...base, p_to: ' ' }, plain: false },
      { name: 'a missing recipient', key: a.key, args: { p_meshwork: 'p', p_body: 'x' }, plain: false },
      { name: 'a broadcast', key: a.key, args: { ...base, p_to: '*' }, plain: false },
      { name: 'to the overseer', key: a.key, args: { ...base, p_to: 'Overseer' }, plain: false },
      { name: 'to another project', key: a.key, args: { ...base, p_to: 'q/q1' }, plain: false },
      { name: 'to its own project by path', key: a.key, args: { ...base, p_to: 'p/a1' }, plain: false },
      { name: 'a blank body', key: a.key, args: { ...base, p_body: '  ' }, plain: false },
      { name: 'a body over the limit', key: a.key, args: { ...base, p_body: 'x'.repeat(262145) }, plain: false },
      { name: 'no body', key: a.key, args: { p_meshwork: 'p', p_from: 'a0', p_to: 'a1' }, plain: false },
      { name: 'a reply without its message', key: a.key, args: { ...base, p_kind: 'reply' }, plain: false },
      { name: 'an unknown kind', key: a.key, args: { ...base, p_kind: 'shout' }, plain: false },
      {
        name: 'a reply',
        key: a.key,
        args: { ...base, p_reply_to: '00000000-0000-4000-8000-000000000000' },
        plain: false,
      },
      {
        name: 'in a thread',
        key: a.key,
        args: { ...base, p_thread_id: '00000000-0000-4000-8000-000000000000' },
        plain: false,
      },
      { name: 'a deadline of 0', key: a.key, args: { ...base, p_deadline_seconds: 0 }, plain: false },
      { name: 'a deadline too long', key: a.key, args: { ...base, p_deadline_seconds: 86401 }, plain: false },
      { name: 'a deadline not whole', key: a.key, args: { ...base, p_deadline_seconds: 1.5 }, plain: false },
      { name: 'a deadline not a number', key: a.key, args: { ...base, p_deadline_seconds: 'soon' }, plain: false },
      { name: 'data not an object', key: a.key, args: { ...base, p_data: [1] }, plain: false },
      { name: 'data as JSON null', key: a.key, args: { ...base, p_data: null }, plain: false },
      { name: 'data too large', key: a.key, args: { ...base, p_data: { x: 'x'.repeat(65536) } }, plain: false },
      {
        name: 'an idempotency key too long',
        key: a.key,
        args: { ...base, p_idempotency_key: 'k'.repeat(201) },
        plain: false,
      },
      { name: 'an unknown argument', key: a.key, args: { ...base, p_bogus: 1 }, plain: false },
    ];

    for (const c of cases) {
      const asIs = await run(db, false, c);
      const full = await run(db, true, c);
      expect({ case: c.name, plain: asIs.plain }).toEqual({ case: c.name, plain: c.plain });
      expect({ case: c.name, ...asIs }).toEqual({ case: c.name, ...full });
      // A lone send the one statement takes is sent; each accepted case wrote its messages.
      if (c.plain && !c.more) expect(asIs.error, c.name)[c.refused ? 'toBeDefined' : 'toBeUndefined']();
      if (asIs.answer) expect((asIs.rows as { messages: unknown[] }).messages.length, c.name).toBeGreaterThan(0);
    }
  });
});
