// No raw API key, invite token or spectator token is stored (only their sha256), written to the hub's log, put in
// the activity log, or echoed in an error: the whole private schema is dumped as text and searched for each secret.
import { createHash } from 'node:crypto';
import {
  createInvite,
  createMeshClient,
  redeemInvite,
  revokeMember,
  signup,
  spectate,
  watchSnapshot,
} from '@meshcode/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { createHub, type Hub } from '../hub';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describeBackends('secrets at rest, in logs and in errors', (getDb) => {
  let hub: Hub;
  let url: string;
  const logLines: string[] = [];
  beforeAll(async () => {
    hub = await createHub({ db: getDb(), log: (l) => logLines.push(l) });
    url = await hub.listen(0);
  });
  afterAll(async () => {
    await hub.close();
  });

  it('stores hashes only and never shows a secret where it does not belong', async () => {
    const secrets: Record<string, string> = {};
    const errors: string[] = [];
    const ada = await signup(url, 'ada-secrets@example.test', 'Ada');
    secrets['owner key'] = ada.key;
    const owner = createMeshClient({ hubUrl: url, apiKey: ada.key });
    await owner.createMeshwork('vault');
    await owner.addAgent('vault', 'lead');
    const agentKey = await owner.createKey('vault', 'lead');
    secrets['agent key'] = agentKey.key;

    const inv = await createInvite(owner, { meshwork: 'vault', agent: 'guest', role: 'helper' });
    secrets['invite token'] = inv.token;
    const used = await createInvite(owner, { meshwork: 'vault', agent: 'guest' });
    secrets['used invite token'] = used.token;
    const joined = await redeemInvite(url, used.token, 'Gus');
    secrets['invite-minted key'] = joined.key;
    const watch = await spectate(owner, 'vault');
    secrets['spectator token'] = watch.token!;
    const guest = createMeshClient({ hubUrl: url, apiKey: joined.key });
    await guest.connect('vault', 'guest', 'session-1');
    await guest.send({ meshwork: 'vault', to: 'lead', body: 'hello' });
    await watchSnapshot(url, watch.token!);

    // Failures with each secret in hand: their answers must not repeat it.
    const attempt = async (path: string, init: RequestInit) => {
      const res = await fetch(`${url}${path}`, init);
      errors.push(`${res.status} ${await res.text()}`);
    };
    const json = (body: unknown, key?: string): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    await attempt('/rest/v1/rpc/mc_redeem_invite', json({ p_token: used.token }));
    await attempt('/rest/v1/rpc/mc_redeem_invite', json({ p_token: `${inv.token}x` }));
    await attempt('/rest/v1/rpc/mc_redeem_invite', json({ p_token: inv.token, p_display_name: 'x'.repeat(300) }));
    await attempt(`/rest/v1/rpc/mc_redeem_invite?p_token=${inv.token}`, { method: 'GET' });
    await attempt('/rest/v1/rpc/mc_status', json({ p_meshwork: 'nope' }, joined.key));
    await attempt('/rest/v1/rpc/mc_status', json({ p_meshwork: 'vault' }, `${ada.key}x`));
    await attempt('/rest/v1/rpc/mc_create_invite', json({ p_meshwork: 'vault', p_agent: inv.token }, ada.key));
    await attempt('/rest/v1/rpc/mc_watch_snapshot', json({ p_token: `${watch.token}x` }));
    await attempt(`/realtime/v1/watch/${watch.token}x`, { method: 'GET' });
    await attempt('/rest/v1/rpc/mc_whoami', json({}, watch.token));
    await revokeMember(owner, 'vault', 'Gus');
    await attempt('/rest/v1/rpc/mc_status', json({ p_meshwork: 'vault' }, joined.key));
    await owner.revokeKey(agentKey.id);
    await attempt('/rest/v1/rpc/mc_status', json({ p_meshwork: 'vault' }, agentKey.key));
    expect(
      errors.every((e) => /^4\d\d /.test(e)),
      errors.join('\n'),
    ).toBe(true);

    // The whole private schema as text: every row of every table.
    const db = getDb();
    const tables = await db.query<{ t: string }>(
      `select format('%I.%I', n.nspname, c.relname) as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'mesh' and c.relkind in ('r', 'p') order by 1`,
    );
    let dump = '';
    for (const { t } of tables.rows) {
      const rows = await db.query<{ r: string }>(
        `select coalesce(string_agg(to_jsonb(x)::text, E'\\n'), '') as r from ${t} x`,
      );
      dump += `${t}\n${rows.rows[0]?.r ?? ''}\n`;
    }
    expect(dump).toContain('hello'); // the dump really holds the data
    const activity = JSON.stringify(await owner.activity('vault', { limit: 1000 }));

    for (const [name, secret] of Object.entries(secrets)) {
      expect(dump.includes(secret), `the ${name} is stored in the database`).toBe(false);
      expect(activity.includes(secret), `the ${name} is in the activity log`).toBe(false);
      expect(logLines.join('\n').includes(secret), `the ${name} is in the hub's log`).toBe(false);
      for (const e of errors) expect(e.includes(secret), `the ${name} is echoed in an error: ${e}`).toBe(false);
    }

    // What is stored is the sha256 of each secret.
    const hashes = await db.query<{ h: string }>(
      `select key_hash as h from mesh.api_keys union all select token_hash from mesh.invites
       union all select spectator_token_hash from mesh.meshworks where spectator_token_hash is not null`,
    );
    const stored = new Set(hashes.rows.map((r) => r.h));
    for (const [name, secret] of Object.entries(secrets)) {
      expect(stored.has(sha256(secret)), `the ${name}'s hash is stored`).toBe(true);
    }
  });
});
