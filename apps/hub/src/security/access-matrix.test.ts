// The cross-tenant access matrix, generated from the database catalog: every function in schema public is called
// through the hub by every principal below, and the status must be the one declared in MATRIX. A public function
// with no entry fails the run with its name; so does an entry for a function that no longer exists. A refused call
// must leave the target project unchanged, and an allowed one must not carry secrets the principal may not see.
import { createInvite, link, redeemInvite, spectate } from '@meshcode/client';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { newAccount, newMesh, startTestHub, type HubFixture } from '../testing/hub-fixture';

const PRINCIPALS = ['anon', 'spectator', 'expired', 'revoked', 'other', 'guest', 'member', 'owner'] as const;
type Principal = (typeof PRINCIPALS)[number];
/** 'ok' = any 2xx; a number = exactly that status. */
type Outcome = 'ok' | 400 | 401 | 403 | 404 | 405 | 409 | 410;

interface Entry {
  expect: Record<Principal, Outcome>;
  /** Arguments beyond the shared ones (ARGS), by name; `undefined` leaves a shared one out. */
  args?: Record<string, unknown>;
  /** Rebuild the fixture before each principal: an allowed call would change what the next one sees. */
  fresh?: boolean;
  /** Secrets this function shows by design to everyone it lets in (the spectator page shows the chat). */
  shows?: Secret[];
}

/** Without a usable key: anonymous, the spectator link's holder, an expired key, a revoked key. */
const NO_KEY = { anon: 401, spectator: 401, expired: 401, revoked: 401 } as const;
/** Status for: another account, the guest's invite key, a member's account key, the owner's account key. */
function keyed(other: Outcome, guest: Outcome, member: Outcome, owner: Outcome): Record<Principal, Outcome> {
  return { ...NO_KEY, other, guest, member, owner };
}
const PROJECT_RPC = keyed(404, 'ok', 'ok', 'ok');
const MEMBERS_ONLY = keyed(404, 403, 'ok', 'ok');
const OWNER_ONLY = keyed(404, 403, 403, 'ok');
const ACCOUNT_WIDE = keyed('ok', 403, 'ok', 'ok');
/** Functions for anyone holding a token: the principals with a bad key still get 401 from the key check. */
function tokenHolder(spectator: Outcome): Record<Principal, Outcome> {
  return { anon: 'ok', spectator, expired: 401, revoked: 401, other: 'ok', guest: 'ok', member: 'ok', owner: 'ok' };
}

const MATRIX: Record<string, Entry> = {
  // Accounts and keys
  mc_whoami: { expect: keyed('ok', 'ok', 'ok', 'ok') },
  mc_create_meshwork: { expect: ACCOUNT_WIDE, args: { p_name: 'zeta' } },
  mc_list_meshworks: { expect: keyed('ok', 'ok', 'ok', 'ok') },
  mc_create_key: { expect: OWNER_ONLY },
  mc_list_keys: { expect: ACCOUNT_WIDE },
  mc_revoke_key: { expect: keyed(404, 403, 404, 'ok') },
  // Projects and agents
  mc_add_agent: { expect: MEMBERS_ONLY, args: { p_exist_ok: true } },
  mc_edit_agent: { expect: MEMBERS_ONLY },
  mc_remove_agent: { expect: MEMBERS_ONLY, fresh: true },
  mc_get_agent: { expect: PROJECT_RPC },
  mc_status: { expect: PROJECT_RPC },
  mc_connect: { expect: PROJECT_RPC },
  mc_heartbeat: { expect: PROJECT_RPC },
  mc_disconnect: { expect: PROJECT_RPC },
  mc_activity: { expect: PROJECT_RPC },
  mc_log_activity: { expect: PROJECT_RPC, args: { p_kind: 'note' } },
  // Messages
  mc_send: { expect: PROJECT_RPC },
  mc_wait: { expect: PROJECT_RPC },
  mc_ack: { expect: PROJECT_RPC },
  mc_wait_reply: { expect: keyed(404, 403, 'ok', 'ok'), args: { p_agent: 'commander' } },
  mc_history: { expect: PROJECT_RPC },
  // Setting how long history is kept is the owner's (reading it is any member's: retention.test.ts).
  mc_retention: { expect: OWNER_ONLY, args: { p_days: 30 } },
  // Deleting the project: the owner's account key, with the project's name as confirmation.
  mc_delete_meshwork: { expect: OWNER_ONLY, args: { p_confirm: 'alpha' }, fresh: true },
  // Tasks
  mc_task_create: { expect: PROJECT_RPC },
  mc_task_list: { expect: PROJECT_RPC },
  mc_task_claim: { expect: PROJECT_RPC, args: { p_task_id: undefined } },
  // The guest's agent may change only tasks assigned to it.
  mc_task_update: { expect: keyed(404, 403, 'ok', 'ok') },
  // Memory (another agent's: the guest's key reaches only its own) and scratchpad
  mc_memory_set: { expect: keyed(404, 403, 'ok', 'ok'), args: { p_agent: 'backend' } },
  mc_memory_get: { expect: keyed(404, 403, 'ok', 'ok'), args: { p_agent: 'backend' } },
  mc_memory_delete: { expect: keyed(404, 403, 'ok', 'ok'), args: { p_agent: 'backend' } },
  mc_scratchpad_set: { expect: PROJECT_RPC },
  mc_scratchpad_get: { expect: PROJECT_RPC },
  mc_scratchpad_delete: { expect: PROJECT_RPC },
  // Invites and members
  mc_create_invite: { expect: OWNER_ONLY },
  mc_list_invites: { expect: OWNER_ONLY },
  mc_revoke_invite: { expect: keyed(404, 403, 404, 'ok') },
  mc_invite_info: { expect: tokenHolder(404), args: { p_token: 'invite' } },
  mc_redeem_invite: { expect: tokenHolder(404), args: { p_token: 'invite' }, fresh: true, shows: ['project id'] },
  mc_members: { expect: PROJECT_RPC },
  mc_revoke_member: { expect: OWNER_ONLY },
  // Spectator
  mc_spectate: { expect: OWNER_ONLY },
  mc_watch_snapshot: { expect: tokenHolder('ok'), args: { p_token: 'watch' }, shows: ['message'] },
  // Linked projects
  mc_link: { expect: OWNER_ONLY },
  mc_unlink: { expect: OWNER_ONLY },
  mc_links: { expect: MEMBERS_ONLY },
  // Workers, events and webhooks (pipeline)
  mc_worker_upsert: { expect: MEMBERS_ONLY },
  mc_workers: { expect: PROJECT_RPC },
  // The guest's key is bound to its own agent, not to the worker.
  mc_worker_get: { expect: keyed(404, 403, 'ok', 'ok'), args: { p_name: 'bot' } },
  mc_worker_set: { expect: MEMBERS_ONLY, args: { p_name: 'bot' } },
  mc_worker_remove: { expect: MEMBERS_ONLY, args: { p_name: 'bot' }, fresh: true },
  // The next task, not the shared probe task (assigned to backend, so not the worker's to claim: 409).
  mc_worker_claim: { expect: keyed(404, 403, 'ok', 'ok'), args: { p_agent: 'bot', p_task_id: undefined } },
  // Allowed through to the lease check: the worker never held the task, so its report is refused as not its own.
  mc_worker_report: { expect: keyed(404, 403, 403, 403), args: { p_agent: 'bot' } },
  mc_events: { expect: PROJECT_RPC },
  // The fixture has no event: callers who may read events get "no event with that id in this project".
  mc_event_trace: { expect: keyed(404, 404, 404, 404) },
  mc_set_webhook_secret: { expect: OWNER_ONLY },
  mc_set_source_token: { expect: OWNER_ONLY, args: { p_token: 'ghp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } },
  mc_webhooks: { expect: MEMBERS_ONLY },
};

const SECRETS = ['message', 'memory', 'scratchpad', 'owner email', 'project id'] as const;
type Secret = (typeof SECRETS)[number];
/** A guest sees its project (id, scratchpad, broadcasts) but not other agents' memory or messages, nor emails. */
const HIDDEN_FROM_GUEST: readonly Secret[] = ['message', 'memory', 'owner email'];

const WORKER = { name: 'bot', driver: 'exec', exec: { command: ['true'] } };

interface Fixture {
  keys: Record<Principal, string | null>;
  /** Shared argument values by name. */
  args: Record<string, unknown>;
  inviteToken: string;
  watchToken: string;
  targetId: string;
  /** Secrets of the target project by name: nobody outside it may see them; the guest only some. */
  secrets: Record<Secret, string>;
}

interface RpcDef {
  name: string;
  args: string[];
  /** Declared VOLATILE: a call may change data. */
  volatile: boolean;
}

const allowlist = (
  JSON.parse(readFileSync(new URL('../../../../supabase/anon-allowlist.json', import.meta.url), 'utf8')) as {
    function: string;
  }[]
).map((e) => e.function);

describeBackends('access matrix (every public function × principal)', (getDb) => {
  let hub: HubFixture;
  let rpcs: RpcDef[];

  beforeAll(async () => {
    hub = await startTestHub(getDb());
    const res = await getDb().query<RpcDef>(`
      select p.proname as name, coalesce(p.proargnames[1:p.pronargs], '{}') as args, p.provolatile = 'v' as volatile
        from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' order by 1`);
    rpcs = res.rows;
  });
  afterAll(async () => {
    await hub.close();
  });

  // Each fixture is made of new accounts, so nothing is truncated (the hub's background loops would make a TRUNCATE
  // deadlock-prone) and earlier fixtures cannot be reached by name.
  async function build(): Promise<Fixture> {
    const db = getDb();
    const ada = await newMesh(hub.url, 'alpha', ['commander', 'backend']);
    const mw = (await ada.client.listMeshworks())[0]!;
    const ask = await ada.client.send({
      meshwork: 'alpha',
      from: 'commander',
      to: 'backend',
      body: 'SECRET-MESSAGE-BODY',
      kind: 'ask',
      deadlineSeconds: 600,
    });
    const task = await ada.client.createTask('alpha', { title: 'probe task', assignee: 'backend' });
    await ada.client.remember('alpha', 'backend', 'plan', 'SECRET-MEMORY-VALUE');
    await ada.client.scratchpadSet('alpha', 'shared', 'SECRET-SCRATCHPAD-VALUE');
    const joined = await redeemInvite(
      hub.url,
      (await createInvite(ada.client, { meshwork: 'alpha', agent: 'designer' })).token,
      'Gina',
    );
    // The senders below act as designer, who may add to the ask's thread once it has a message of it.
    await ada.client.send({
      meshwork: 'alpha',
      from: 'commander',
      to: 'designer',
      body: 'cc',
      threadId: ask.thread_id,
    });
    const pending = await createInvite(ada.client, { meshwork: 'alpha', agent: 'designer' });
    const expired = await ada.client.createKey('alpha', 'backend');
    await db.query(`update mesh.api_keys set expires_at = now() - interval '1 minute' where id = $1`, [expired.id]);
    const revoked = await ada.client.createKey('alpha', 'backend');
    await ada.client.revokeKey(revoked.id);
    const live = await ada.client.createKey('alpha', 'backend');
    const watch = await spectate(ada.client, 'alpha');
    await ada.client.createMeshwork('second');
    await link(ada.client, 'alpha', 'second');
    await ada.client.rpc('mc_worker_upsert', {
      p_meshwork: 'alpha',
      p_definition: WORKER,
      p_spec: {},
    });

    const mira = await newAccount(hub.url, 'mira');
    await mira.client.createMeshwork('miras');
    const miraId = (await mira.client.whoami()).account.id;
    await db.query(`insert into mesh.members (meshwork_id, account_id, role) values ($1, $2, 'member')`, [
      mw.id,
      miraId,
    ]);
    const oscar = await newMesh(hub.url, 'alpha', ['backend', 'designer', 'commander']);

    return {
      keys: {
        anon: null,
        spectator: null,
        expired: expired.key,
        revoked: revoked.key,
        other: oscar.key,
        guest: joined.key,
        member: mira.key,
        owner: ada.key,
      },
      args: {
        p_meshwork: mw.id,
        p_name: 'designer',
        p_agent: 'designer',
        p_from: 'designer',
        p_to: 'commander',
        p_body: 'probe',
        p_title: 'probe',
        p_summary: 'probe',
        p_kind: undefined,
        p_key: 'plan',
        p_value: 'probe value',
        p_role: 'probe role',
        p_session: 'probe-session',
        p_seq: 0,
        p_after_seq: 0,
        p_timeout_seconds: 0,
        p_task_id: task.id,
        p_progress: 10,
        p_message_id: ask.id,
        p_thread_id: ask.thread_id,
        p_key_id: live.id,
        p_invite_id: pending.id,
        p_display_name: 'Probe',
        p_user: 'Gina',
        p_enable: true,
        p_target: 'second',
        p_source: 'github',
        p_secret: 'probe-webhook-secret-0123456789',
        p_definition: WORKER,
        p_spec: {},
        p_enabled: true,
        p_attempt: 1,
        p_ok: true,
        p_event_id: '00000000-0000-4000-8000-000000000000',
      },
      inviteToken: pending.token,
      watchToken: watch.token!,
      targetId: mw.id,
      secrets: {
        message: 'SECRET-MESSAGE-BODY',
        memory: 'SECRET-MEMORY-VALUE',
        scratchpad: 'SECRET-SCRATCHPAD-VALUE',
        'owner email': ada.email,
        'project id': mw.id,
      },
    };
  }

  /** Everything of the target project a refused call must not change. */
  async function fingerprint(meshworkId: string): Promise<string> {
    const res = await getDb().query<{ f: string }>(
      `select md5(concat_ws('|',
         (select string_agg(concat_ws(',', a.name, a.role, a.launch_prompt, a.status, a.session_id, a.inbox_seq, a.acked_seq), ';' order by a.name)
            from mesh.agents a where a.meshwork_id = $1),
         (select string_agg(concat_ws(',', m.key, m.value), ';' order by m.key) from mesh.agent_memory m
            join mesh.agents a on a.id = m.agent_id where a.meshwork_id = $1),
         (select string_agg(concat_ws(',', s.key, s.value), ';' order by s.key) from mesh.scratchpad s where s.meshwork_id = $1),
         (select string_agg(concat_ws(',', t.title, t.status, t.progress, t.assignee_id), ';' order by t.id) from mesh.tasks t where t.meshwork_id = $1),
         (select string_agg(concat_ws(',', i.id, i.uses, i.revoked_at), ';' order by i.id) from mesh.invites i where i.meshwork_id = $1),
         (select string_agg(concat_ws(',', mb.account_id, mb.role, mb.revoked_at), ';' order by mb.account_id) from mesh.members mb where mb.meshwork_id = $1),
         (select string_agg(concat_ws(',', l.meshwork_id, l.target_id), ';' order by l.meshwork_id, l.target_id) from mesh.links l where $1 in (l.meshwork_id, l.target_id)),
         (select string_agg(concat_ws(',', k.id, k.revoked_at), ';' order by k.id) from mesh.api_keys k where k.meshwork_id = $1),
         (select m.spectator_token_hash from mesh.meshworks m where m.id = $1),
         (select count(*) from mesh.messages m where m.meshwork_id = $1),
         (select count(*) from mesh.activity a where a.meshwork_id = $1))) as f`,
      [meshworkId],
    );
    return res.rows[0]?.f ?? '';
  }

  function argsFor(rpc: RpcDef, entry: Entry, fx: Fixture, who: Principal): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of rpc.args) {
      let value = entry.args && name in entry.args ? entry.args[name] : fx.args[name];
      if (name === 'p_token' && (value === 'invite' || value === 'watch')) {
        value = value === 'invite' ? fx.inviteToken : fx.watchToken;
      }
      // The link holder has one secret: whatever asks for a token gets the spectator token.
      if (name === 'p_token' && who === 'spectator') value = fx.watchToken;
      if (value !== undefined) out[name] = value;
    }
    return out;
  }

  async function call(fn: string, key: string | null, args: unknown): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key) headers.authorization = `Bearer ${key}`;
    const res = await fetch(`${hub.url}/rest/v1/rpc/${fn}`, { method: 'POST', headers, body: JSON.stringify(args) });
    return { status: res.status, text: await res.text() };
  }

  it('has an entry for every public function, and none for a function that is gone', () => {
    const names = rpcs.map((r) => r.name);
    const missing = names.filter((n) => !(n in MATRIX));
    const stale = Object.keys(MATRIX).filter((n) => !names.includes(n));
    expect(
      missing.map((n) => `public.${n} has no entry in the access matrix (apps/hub/src/security/access-matrix.test.ts)`),
    ).toEqual([]);
    expect(stale.map((n) => `the access matrix has an entry for public.${n}, which no longer exists`)).toEqual([]);
  });

  it('lets anonymous callers reach exactly the functions in supabase/anon-allowlist.json', () => {
    const anonReachable = Object.entries(MATRIX)
      .filter(([, e]) => e.expect.anon !== 401)
      .map(([n]) => n)
      .sort();
    expect(anonReachable).toEqual([...allowlist].sort());
  });

  it('every function answers every principal as declared, refusals change nothing, and nothing leaks', async () => {
    const problems: string[] = [];
    let fx = await build();
    let dirty = false;
    for (const rpc of rpcs) {
      const entry = MATRIX[rpc.name];
      if (!entry) continue;
      // Only a call that may have changed data (an allowed call to a volatile function) needs a new fixture.
      if (dirty) fx = await build();
      dirty = false;
      for (const who of PRINCIPALS) {
        if (entry.fresh && who !== PRINCIPALS[0]) fx = await build();
        const before = await fingerprint(fx.targetId);
        const { status, text } = await call(rpc.name, fx.keys[who], argsFor(rpc, entry, fx, who));
        const want = entry.expect[who];
        const ok = want === 'ok' ? status >= 200 && status < 300 : status === want;
        if (rpc.volatile && status < 300) dirty = true;
        if (!ok) problems.push(`${rpc.name} as ${who}: expected ${want}, got ${status} ${text.slice(0, 160)}`);
        if (status >= 300 && (await fingerprint(fx.targetId)) !== before) {
          problems.push(`${rpc.name} as ${who}: refused with ${status} but changed the target project`);
        }
        if (status < 300) {
          const forbidden = who === 'owner' || who === 'member' ? [] : who === 'guest' ? HIDDEN_FROM_GUEST : SECRETS;
          for (const s of forbidden) {
            if (text.includes(fx.secrets[s]) && !entry.shows?.includes(s)) {
              problems.push(`${rpc.name} as ${who} leaked the ${s}`);
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
  }, 600_000);

  it('the spectator token is not an API key anywhere', async () => {
    const fx = await build();
    for (const rpc of rpcs) {
      const entry = MATRIX[rpc.name] ?? { expect: keyed(401, 401, 401, 401) };
      const { status } = await call(rpc.name, fx.watchToken, argsFor(rpc, entry, fx, 'other'));
      expect(status, rpc.name).toBe(401);
    }
  });
});
