// Cross-account isolation and hostile input, driven by the database catalog so a new RPC is covered automatically:
// account B calls every public RPC aimed at account A's objects and must get a 4xx or nothing of A's;
// every RPC fed malformed values must answer 4xx, never 5xx.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { newAccount, newMesh, startTestHub, type HubFixture, type TestAccount } from '../testing/hub-fixture';

interface RpcDef {
  name: string;
  args: string[];
}

async function listRpcs(query: (sql: string) => Promise<{ rows: RpcDef[] }>): Promise<RpcDef[]> {
  const res = await query(`
    select p.proname as name, coalesce(p.proargnames[1:p.pronargs], '{}') as args
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'public' and p.proname like 'mc\\_%' order by 1`);
  return res.rows;
}

async function call(
  url: string,
  key: string | null,
  fn: string,
  args: unknown,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${url}/rest/v1/rpc/${fn}`, { method: 'POST', headers, body: JSON.stringify(args) });
  return { status: res.status, text: await res.text() };
}

describeBackends('isolation and hostile input', (getDb) => {
  let hub: HubFixture;
  let rpcs: RpcDef[];
  let a: TestAccount;
  let b: TestAccount;
  const secrets: string[] = [];
  const targets: Record<string, unknown> = {};

  beforeAll(async () => {
    hub = await startTestHub(getDb());
    rpcs = await listRpcs((sql) => getDb().query<RpcDef>(sql));
    a = await newMesh(hub.url, 'alpha', ['commander', 'backend']);
    const mw = (await a.client.listMeshworks())[0]!;
    const msg = await a.client.send({
      meshwork: 'alpha',
      from: 'commander',
      to: 'backend',
      body: 'SECRET-MESSAGE-BODY',
      kind: 'ask',
      deadlineSeconds: 600,
    });
    const task = await a.client.createTask('alpha', { title: 'SECRET-TASK-TITLE', assignee: 'backend' });
    await a.client.remember('alpha', 'backend', 'plan', 'SECRET-MEMORY-VALUE');
    await a.client.scratchpadSet('alpha', 'shared', 'SECRET-SCRATCHPAD-VALUE');
    const key = await a.client.createKey('alpha', 'backend');
    secrets.push(
      mw.id,
      ...mw.agents.map((x) => x.id),
      'SECRET-MESSAGE-BODY',
      'SECRET-TASK-TITLE',
      'SECRET-MEMORY-VALUE',
      'SECRET-SCRATCHPAD-VALUE',
      a.email,
    );
    Object.assign(targets, {
      p_meshwork: mw.id,
      p_name: 'backend',
      p_agent: 'backend',
      p_from: 'backend',
      p_to: 'backend',
      p_assignee: 'backend',
      p_task_id: task.id,
      p_message_id: msg.id,
      p_reply_to: msg.id,
      p_thread_id: msg.thread_id,
      p_key: 'plan',
      p_key_id: key.id,
    });
    b = await newAccount(hub.url, 'mallory');
    await b.client.createMeshwork('alpha'); // same project name, different owner
    await b.client.addAgent('alpha', 'backend');
  });
  afterAll(async () => {
    await hub.close();
  });

  it('covers every public RPC', () => {
    expect(rpcs.length).toBeGreaterThanOrEqual(30);
  });

  it("account B gets nothing of account A's through any RPC (by id or by name)", async () => {
    const leaks: string[] = [];
    for (const rpc of rpcs) {
      for (const meshwork of [targets.p_meshwork, 'alpha']) {
        const args: Record<string, unknown> = {};
        for (const arg of rpc.args) {
          if (arg === 'p_meshwork') args[arg] = meshwork;
          else if (arg in targets) args[arg] = targets[arg];
          else if (arg === 'p_body' || arg === 'p_value' || arg === 'p_title' || arg === 'p_summary')
            args[arg] = 'probe';
        }
        const { status, text } = await call(hub.url, b.key, rpc.name, args);
        expect(status, `${rpc.name} -> ${status} ${text}`).toBeLessThan(500);
        if (status < 300)
          for (const s of secrets) if (text.includes(s)) leaks.push(`${rpc.name}(${JSON.stringify(args)}) leaked ${s}`);
      }
    }
    expect(leaks).toEqual([]);
    // And A's data is unchanged by B's attempts.
    const mem = await a.client.recall('alpha', 'backend', 'plan');
    expect(mem.value).toBe('SECRET-MEMORY-VALUE');
    const tasks = await a.client.listTasks('alpha');
    expect(tasks.map((t) => t.title)).toEqual(['SECRET-TASK-TITLE']);
  });

  it('anonymous callers reach no RPC outside the anon allowlist, and allowlisted ones need a valid token', async () => {
    const allowlist = new Set(
      (
        JSON.parse(readFileSync(new URL('../../../../supabase/anon-allowlist.json', import.meta.url), 'utf8')) as {
          function: string;
        }[]
      ).map((e) => e.function),
    );
    for (const rpc of rpcs) {
      const { status, text } = await call(hub.url, null, rpc.name, {});
      if (allowlist.has(rpc.name)) {
        const withBadToken = await call(
          hub.url,
          null,
          rpc.name,
          Object.fromEntries(rpc.args.map((a) => [a, 'mc_inv_bogus'])),
        );
        expect(withBadToken.status, `${rpc.name} ${withBadToken.text}`).toBeGreaterThanOrEqual(400);
        expect(withBadToken.status).toBeLessThan(500);
        for (const s of secrets) expect(withBadToken.text).not.toContain(s);
      } else {
        expect([401, 404], `${rpc.name} -> ${status} ${text}`).toContain(status);
      }
    }
  });

  describe('malformed input never yields a 5xx', () => {
    const bad: unknown[] = [
      null,
      'x'.repeat(1024 * 1024),
      'nul\u0000byte',
      'not-a-uuid',
      '00000000-0000-0000-0000-000000000000',
      -1,
      1e308,
      Number.MAX_SAFE_INTEGER * 1024,
      true,
      {},
      [],
      [1, 'a'],
      "' or 1=1 --",
      '\u{1F600}'.repeat(100),
    ];

    it('every argument of every RPC with each bad value, plus unknown and wrong-shaped bodies', async () => {
      const failures: string[] = [];
      for (const rpc of rpcs) {
        for (const arg of rpc.args) {
          for (const value of bad) {
            const { status, text } = await call(hub.url, a.key, rpc.name, { ...pick(targets, rpc.args), [arg]: value });
            if (status >= 500)
              failures.push(
                `${rpc.name} ${arg}=${JSON.stringify(value).slice(0, 40)} -> ${status} ${text.slice(0, 200)}`,
              );
          }
        }
        for (const body of [[], 'str', 42, { p_unknown_arg: 1 }]) {
          const { status } = await call(hub.url, a.key, rpc.name, body);
          if (status >= 500 || status < 400) failures.push(`${rpc.name} body=${JSON.stringify(body)} -> ${status}`);
        }
      }
      const raw = await fetch(`${hub.url}/rest/v1/rpc/mc_whoami`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.key}`, 'content-type': 'application/json' },
        body: '{not json',
      });
      expect(raw.status).toBe(400);
      const huge = await fetch(`${hub.url}/rest/v1/rpc/mc_whoami`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ p: 'x'.repeat(3 * 1024 * 1024) }),
      });
      expect(huge.status).toBe(413);
      expect(failures).toEqual([]);
    }, 300_000);

    it('random JSON arguments (property-based) never yield a 5xx', async () => {
      const names = rpcs.map((r) => r.name);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...names),
          fc.dictionary(fc.constantFrom(...allArgs(rpcs)), fc.jsonValue({ maxDepth: 2 })),
          async (fn, args) => {
            const { status, text } = await call(hub.url, a.key, fn, args);
            expect(status, `${fn}(${JSON.stringify(args).slice(0, 200)}) -> ${text.slice(0, 200)}`).toBeLessThan(500);
          },
        ),
        { numRuns: 300 },
      );
    }, 300_000);
  });
});

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in source) out[k] = source[k];
  return out;
}

function allArgs(rpcs: RpcDef[]): string[] {
  return [...new Set(rpcs.flatMap((r) => r.args))];
}
