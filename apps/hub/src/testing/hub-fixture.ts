// Test helpers: a real hub on a loopback port over the suite's database, and accounts made through real signup.
import { createMeshClient, signup, type MeshClient } from '@meshcode/client';
import type { Db } from '@meshcode/db';
import { resetState } from '@meshcode/db/testing';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createHub, type Hub, type HubOptions } from '../hub';

export interface HubFixture {
  url: string;
  hub: Hub;
  close(): Promise<void>;
}

export async function startTestHub(db: Db, opts: Omit<HubOptions, 'db' | 'log'> = {}): Promise<HubFixture> {
  const lines: string[] = [];
  const hub = await createHub({
    ...opts,
    db,
    log: (l) => {
      lines.push(l);
      if (l.includes('unexpected error')) process.stderr.write(l + '\n');
    },
  });
  const url = await hub.listen(0, '127.0.0.1');
  return {
    url,
    hub,
    async close() {
      await hub.close();
      const unexpected = lines.filter((l) => l.includes('unexpected error'));
      if (unexpected.length) throw new Error(`hub logged unexpected errors:\n${unexpected.join('\n')}`);
    },
  };
}

/**
 * A hub for the enclosing suite over its database, emptied before each test. The fixture is filled in before the first
 * test runs (and closed after the last), so it can be named at the top of the suite.
 */
export function useTestHub(getDb: () => Db, opts: Omit<HubOptions, 'db' | 'log'> = {}): HubFixture {
  const fixture = {} as HubFixture;
  beforeAll(async () => {
    Object.assign(fixture, await startTestHub(getDb(), opts));
  });
  afterAll(async () => {
    await fixture.close();
  });
  beforeEach(async () => {
    await resetState(getDb());
  });
  return fixture;
}

/** Wait until `cond` holds, polling every 10 ms; after `ms` (default 5 s) throw, naming what never happened. */
export async function until(cond: () => boolean | Promise<boolean>, what = 'the condition', ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`${what} did not happen within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Wait until exactly `n` sessions of this PostgreSQL database wait on a lock (`what` names them in the timeout). */
export async function untilLockWaits(db: Db, n: number, what: string): Promise<void> {
  await until(async () => {
    const r = await db.query<{ n: number | string }>(
      `select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
    );
    return Number(r.rows[0]!.n) === n;
  }, what);
}

let counter = 0;

export interface TestAccount {
  key: string;
  email: string;
  client: MeshClient;
}

export async function newAccount(url: string, name = 'user'): Promise<TestAccount> {
  const email = `${name}-${process.pid}-${Date.now()}-${counter++}@example.test`;
  const res = await signup(url, email, name);
  return { key: res.key, email, client: createMeshClient({ hubUrl: url, apiKey: res.key }) };
}

/** An owner with one project and the named agents. */
export async function newMesh(url: string, project: string, agents: string[]): Promise<TestAccount> {
  const acct = await newAccount(url, 'owner');
  await acct.client.createMeshwork(project);
  for (const a of agents) await acct.client.addAgent(project, a, { role: `${a} role` });
  return acct;
}
