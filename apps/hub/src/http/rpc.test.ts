// The RPC surface through @supabase/supabase-js exactly as a user would call it, on PGlite and PostgreSQL.
import { createSupabase } from '@meshcode/client';
import { expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { newAccount, newMesh, useTestHub } from '../testing/hub-fixture';

describeBackends('hub RPC surface', (getDb) => {
  const hub = useTestHub(getDb);

  it('signs up, creates a project and agents, and lists them through supabase-js rpc()', async () => {
    const a = await newAccount(hub.url, 'ada');
    const sb = createSupabase(hub.url, a.key);
    const created = await sb.rpc('mc_create_meshwork', { p_name: 'Demo' });
    expect(created.error).toBeNull();
    expect(created.data).toMatchObject({ name: 'demo', role: 'owner' });
    await sb.rpc('mc_add_agent', { p_meshwork: 'demo', p_name: 'commander', p_role: 'lead' });
    const list = await sb.rpc('mc_list_meshworks');
    expect(list.data).toHaveLength(1);
    expect(list.data[0].agents.map((x: { name: string }) => x.name)).toEqual(['commander']);
  });

  it('answers with PostgREST envelopes and statuses', async () => {
    const a = await newAccount(hub.url);
    const sb = createSupabase(hub.url, a.key);
    const unknown = await sb.rpc('mc_does_not_exist', {});
    expect(unknown.status).toBe(404);
    expect(unknown.error).toMatchObject({ code: 'PGRST202' });
    const badArg = await sb.rpc('mc_status', { p_meshwork: 'x', p_bogus: 1 });
    expect(badArg.status).toBe(404);
    expect(badArg.error?.message).toContain('p_bogus');
    const notFound = await sb.rpc('mc_status', { p_meshwork: 'nope' });
    expect(notFound.status).toBe(404);
    expect(notFound.error?.message).toBe("could not resolve project 'nope': project not found");
    expect(notFound.error?.hint).toBeTruthy();
    const anon = await fetch(`${hub.url}/rest/v1/rpc/mc_status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"p_meshwork":"x"}',
    });
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual({
      code: '42501',
      message: 'this request needs an API key (permission denied for function mc_status)',
      details: null,
      hint: 'send the header "Authorization: Bearer mc_…" with your key; meshcode signup or POST /auth/v1/signup gives one',
    });
    // PostgreSQL's own refusal of a value says what to check.
    const badType = await sb.rpc('mc_wait_reply', { p_meshwork: 'x', p_message_id: 'abc' });
    expect(badType.status).toBe(400);
    expect(badType.error).toMatchObject({
      code: '22P02',
      message: 'invalid input syntax for type uuid: "abc"',
      hint: 'an argument has the wrong type or form: check each against the RPC reference (ids are UUIDs, times ISO 8601)',
    });
    // supabase-js needs a key to make a client: "anon" stands for none, as Supabase's anon key does.
    const anonClient = createSupabase(hub.url, 'anon');
    const info = await anonClient.rpc('mc_invite_info', { p_token: 'mci_nosuchinvite' });
    expect(info.status).toBe(404);
    const whoami = await anonClient.rpc('mc_whoami');
    expect(whoami.status).toBe(401);
    expect(whoami.error?.message).toBe('this request needs an API key (permission denied for function mc_whoami)');
    const badKey = createSupabase(hub.url, 'mc_notarealkey');
    const r = await badKey.rpc('mc_whoami');
    expect(r.status).toBe(401);
    expect(r.error?.message).toContain('invalid or has been revoked');
  });

  it('refuses a GET for a function that changes data', async () => {
    const a = await newAccount(hub.url);
    const res = await fetch(`${hub.url}/rest/v1/rpc/mc_create_meshwork?p_name=x`, {
      headers: { authorization: `Bearer ${a.key}` },
    });
    expect(res.status).toBe(405);
    const ok = await fetch(`${hub.url}/rest/v1/rpc/mc_whoami`, { headers: { authorization: `Bearer ${a.key}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { account: { email: string } }).account.email).toBe(a.email);
  });

  it('revocation bites on the very next request', async () => {
    const owner = await newMesh(hub.url, 'p', ['backend']);
    const scoped = await owner.client.createKey('p', 'backend');
    const sb = createSupabase(hub.url, scoped.key);
    expect((await sb.rpc('mc_status', { p_meshwork: 'p' })).status).toBe(200);
    await owner.client.revokeKey(scoped.id);
    const after = await sb.rpc('mc_status', { p_meshwork: 'p' });
    expect(after.status).toBe(401);
  });

  it('an expired key gets 401', async () => {
    const owner = await newMesh(hub.url, 'p', ['backend']);
    const scoped = await owner.client.createKey('p', 'backend', { days: 1 });
    await getDb().query("update mesh.api_keys set expires_at = now() - interval '1 second' where id = $1", [scoped.id]);
    const sb = createSupabase(hub.url, scoped.key);
    const r = await sb.rpc('mc_whoami');
    expect(r.status).toBe(401);
    expect(r.error?.message).toBe('API key has expired');
  });

  it('a scoped key reaches only its own agent slot', async () => {
    const owner = await newMesh(hub.url, 'p', ['backend', 'frontend']);
    await owner.client.createMeshwork('other');
    const scoped = await owner.client.createKey('p', 'backend');
    const sb = createSupabase(hub.url, scoped.key);
    const other = await sb.rpc('mc_status', { p_meshwork: 'other' });
    expect(other.status).toBe(403);
    expect(other.error?.message).toBe('scoped api key cannot access this project');
    const impersonate = await sb.rpc('mc_send', { p_meshwork: 'p', p_from: 'frontend', p_to: 'backend', p_body: 'hi' });
    expect(impersonate.status).toBe(403);
    const own = await sb.rpc('mc_send', { p_meshwork: 'p', p_to: 'frontend', p_body: 'hi' });
    expect(own.status).toBe(200);
    const theirMemory = await sb.rpc('mc_memory_get', { p_meshwork: 'p', p_agent: 'frontend' });
    expect(theirMemory.status).toBe(403);
    const addAgent = await sb.rpc('mc_add_agent', { p_meshwork: 'p', p_name: 'x' });
    expect(addAgent.status).toBe(403);
    const projects = await sb.rpc('mc_list_meshworks');
    expect(projects.data.map((m: { name: string }) => m.name)).toEqual(['p']);
  });

  it('enforces memory limits in SQL with clear errors', async () => {
    const owner = await newMesh(hub.url, 'p', ['backend']);
    const big = 'x'.repeat(10 * 1024 + 1);
    await expect(owner.client.remember('p', 'backend', 'k', big)).rejects.toMatchObject({
      status: 400,
      message: 'memory value is 10241 bytes; the limit is 10 KB (10240 bytes) per value',
    });
    for (let i = 0; i < 100; i++) await owner.client.remember('p', 'backend', `k${i}`, 'v');
    await expect(owner.client.remember('p', 'backend', 'one-too-many', 'v')).rejects.toMatchObject({
      status: 400,
      message: 'memory is full: an agent keeps at most 100 keys',
    });
    await owner.client.remember('p', 'backend', 'k1', 'updated');
    expect((await owner.client.recall('p', 'backend', 'k1')).value).toBe('updated');
    await getDb().query('delete from mesh.agent_memory');
    await expect(
      getDb().query(
        "insert into mesh.agent_memory (agent_id, key, value) select id, 'raw', repeat('y', 20000) from mesh.agents limit 1",
      ),
    ).rejects.toMatchObject({ code: '23514' });
  });

  it('claiming a given task that cannot be claimed says why; one of no project here is a 404', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const other = await newMesh(hub.url, 'q', ['c']);
    const hint = "list open tasks with mc_task_list(p_status => 'open')";
    const claim = (taskId: string, agent = 'a') => owner.client.claimTask('p', { agent, taskId });
    const elsewhere = await other.client.createTask('q', { title: 'not yours' });
    for (const taskId of [elsewhere.id, '00000000-0000-4000-8000-000000000000']) {
      await expect(claim(taskId)).rejects.toMatchObject({
        status: 404,
        message: `no task ${taskId} in this project`,
        hint,
      });
    }
    const assigned = await owner.client.createTask('p', { title: 'for b', assignee: 'b' });
    await expect(claim(assigned.id)).rejects.toMatchObject({
      status: 409,
      message: 'that task is assigned to b',
      hint,
    });
    const held = await owner.client.createTask('p', { title: 'held' });
    await claim(held.id, 'b');
    await expect(claim(held.id)).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/^that task is claimed by b until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as unknown,
      hint,
    });
    await owner.client.updateTask('p', held.id, { status: 'done', agent: 'b' });
    await expect(claim(held.id)).rejects.toMatchObject({ status: 409, message: 'that task is done', hint });
  });

  it('tasks: create, claim with a lease, progress, complete; activity records each step', async () => {
    const owner = await newMesh(hub.url, 'p', ['commander', 'backend']);
    const t = await owner.client.createTask('p', {
      title: 'build api',
      assignee: 'backend',
      priority: 'high',
      agent: 'commander',
    });
    expect(t.status).toBe('open');
    const dup = await owner.client.createTask('p', { title: 'x', dedupKey: 'd1' });
    const dup2 = await owner.client.createTask('p', { title: 'x', dedupKey: 'd1' });
    expect(dup2.id).toBe(dup.id);
    expect(dup2.duplicate).toBe(true);
    const claimed = await owner.client.claimTask('p', { agent: 'backend' });
    expect(claimed.task?.id).toBe(t.id);
    expect(claimed.task?.status).toBe('claimed');
    const progressed = await owner.client.updateTask('p', t.id, { progress: 50, agent: 'backend' });
    expect(progressed.status).toBe('in_progress');
    const done = await owner.client.updateTask('p', t.id, { status: 'done', result: 'shipped', agent: 'backend' });
    expect(done).toMatchObject({ status: 'done', progress: 100, result: 'shipped' });
    const inbox = await owner.client.wait({ meshwork: 'p', agent: 'backend', timeoutSeconds: 0 });
    expect(inbox.messages[0]).toMatchObject({ kind: 'system', from: 'commander' });
    expect(inbox.messages[0]?.data).toMatchObject({ task_id: t.id });
    const kinds = (await owner.client.activity('p')).filter((r) => r.kind === 'task').map((r) => r.summary);
    expect(kinds).toEqual(
      expect.arrayContaining(['task created: build api', 'task claimed: build api', 'task done: build api']),
    );
  });

  it('an expired lease makes a claimed task claimable again', async () => {
    const owner = await newMesh(hub.url, 'p', ['w1', 'w2']);
    const t = await owner.client.createTask('p', { title: 'job' });
    await owner.client.claimTask('p', { agent: 'w1', leaseSeconds: 5 });
    expect((await owner.client.claimTask('p', { agent: 'w2' })).task).toBeNull();
    await getDb().query("update mesh.tasks set lease_expires_at = now() - interval '1 second' where id = $1", [t.id]);
    const again = await owner.client.claimTask('p', { agent: 'w2' });
    expect(again.task).toMatchObject({ id: t.id, attempts: 2, assignee: 'w2' });
  });

  it('split-brain: a second live session is refused unless forced', async () => {
    const owner = await newMesh(hub.url, 'p', ['backend']);
    await owner.client.connect('p', 'backend', 'session-1', { host: 'laptop' });
    await expect(owner.client.connect('p', 'backend', 'session-2')).rejects.toMatchObject({
      status: 409,
      message: 'agent already running in another window',
    });
    const forced = await owner.client.connect('p', 'backend', 'session-2', { force: true });
    expect(forced.took_over).toBe(true);
    await expect(owner.client.heartbeat('p', 'backend', { session: 'session-1' })).rejects.toMatchObject({
      status: 409,
    });
    expect((await owner.client.status('p')).agents[0]?.status).toBe('online');
  });
});
