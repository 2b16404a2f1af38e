// The hub killed and restarted on the same port while an agent sits in meshcode_wait: the wait retries and returns
// the message sent after the restart; nothing is lost or shown twice. The hub runs as a real child process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createMeshClient, signup, withRetry } from '@meshcode/client';
import { describeBackends, freshDatabaseUrl } from '@meshcode/db/testing';
import { freePort, spawnHub, type HubProcess } from '../../../apps/hub/src/testing/hub-process';
import { connectAgent, firstJson, until, type Connected } from './testing/harness';

describeBackends('mcp server across a hub restart', (_getDb, backend) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('a meshcode_wait held across a hub restart returns the message sent after it', async () => {
    let env: Record<string, string>;
    if (backend === 'postgres') {
      env = { DATABASE_URL: await freshDatabaseUrl() };
    } else {
      const home = mkdtempSync(join(tmpdir(), 'meshcode-mcp-restart-'));
      cleanups.push(() => rmSync(home, { recursive: true, force: true }));
      env = { MESHCODE_HOME: home };
    }
    const port = await freePort();
    let hub: HubProcess = await spawnHub(env, port);
    cleanups.push(() => hub.kill('SIGKILL'));

    const { key } = await signup(hub.url, `mcp-restart-${backend}@example.test`, 'owner');
    const owner = createMeshClient({ hubUrl: hub.url, apiKey: key });
    await owner.createMeshwork('team');
    await owner.addAgent('team', 'a');
    await owner.addAgent('team', 'b');
    const a: Connected = await connectAgent(hub.url, key, 'team', 'a');
    const b: Connected = await connectAgent(hub.url, key, 'team', 'b');
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );

    await a.call('meshcode_send', { to: 'b', body: 'before' });
    const first = firstJson<{ messages: { body: string }[] }>(
      (await b.call('meshcode_wait', { timeout_seconds: 5 })).text,
    );
    expect(first.messages.map((m) => m.body)).toEqual(['before']);

    const waiting = b.call('meshcode_wait', { timeout_seconds: 120 });
    await until(
      async () => (await owner.status('team')).agents.find((x) => x.name === 'b')?.status === 'waiting',
      'b to sit in its wait',
    );
    await hub.kill('SIGKILL');
    hub = await spawnHub(env, port);

    const sent = await a.call('meshcode_send', { to: 'b', body: 'after the restart' });
    expect(sent.isError, sent.text).toBe(false);
    const res = await waiting;
    expect(res.isError, res.text).toBe(false);
    expect(firstJson<{ messages: { body: string }[] }>(res.text).messages.map((m) => m.body)).toEqual([
      'after the restart',
    ]);

    // Nothing lost, nothing twice: the next messages follow in order and the earlier ones do not come back.
    await a.call('meshcode_send', { to: 'b', body: 'next' });
    const next = await withRetry(() => b.call('meshcode_wait', { timeout_seconds: 5 }));
    expect(firstJson<{ messages: { body: string }[] }>(next.text).messages.map((m) => m.body)).toEqual(['next']);
    await b.call('meshcode_done', { result: 'read all' });
    expect((await owner.status('team')).agents.find((x) => x.name === 'b')?.unread).toBe(0);
  }, 240_000);
});
