// The RPC surface through @supabase/supabase-js exactly as a user would call it, on PGlite and PostgreSQL.
import { createSupabase } from '@meshcode/client';
import { expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { newAccount, newMesh, useTestHub } from '../testing/hub-fixture';
import { postFromThread } from '../testing/thread-client';

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

  it('signup says what is wrong with its body', async () => {
    const signup = async (body: unknown) => {
      const res = await fetch(`${hub.url}/auth/v1/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const refused = (message: string) => ({
      status: 400,
      body: expect.objectContaining({ code: 'validation_failed', message, hint: expect.stringContaining('"email"') }),
    });
    expect(await signup(['ada@example.com'])).toEqual(refused('body must be a JSON object'));
    expect(await signup({})).toEqual(refused('email is required'));
    expect(await signup({ email: 42 })).toEqual(refused('email must be a string (got a number)'));
    expect(await signup({ email: ['a@b.c'] })).toEqual(refused('email must be a string (got an array)'));
    expect(await signup({ email: 'a\u0000@example.com' })).toEqual(refused('email contains a NUL character (\\u0000)'));
    expect(await signup({ email: 'nul@example.com', display_name: 'A\u0000' })).toEqual(
      refused('display_name contains a NUL character (\\u0000)'),
    );
    expect(await signup({ email: 'ok@example.com', display_name: null })).toMatchObject({
      status: 201,
      body: { account: { email: 'ok@example.com', display_name: 'ok' } },
    });
  });

  it('answers with PostgREST envelopes and statuses', async () => {
    const a = await newAccount(hub.url);
    const sb = createSupabase(hub.url, a.key);
    const unknown = await sb.rpc('mc_does_not_exist', {});
    expect(unknown.status).toBe(404);
    expect(unknown.error).toMatchObject({
      code: 'PGRST202',
      hint: 'check the function name against the RPC reference',
    });
    // A name that cannot be a function's says what names look like.
    expect((await sb.rpc('MC_WHOAMI', {})).error).toMatchObject({
      code: 'PGRST202',
      hint: 'function names are lowercase letters, digits and "_", such as mc_whoami: check it against the RPC reference',
    });
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
      message: 'this request needs an API key',
      details: 'permission denied for function mc_status',
      hint: 'send the header "Authorization: Bearer mc_…" with your key; meshcode signup or POST /auth/v1/signup gives one',
    });
    // PostgreSQL's own refusal of a value names the argument that had it, and what it must look like.
    const badType = await sb.rpc('mc_wait_reply', { p_meshwork: 'x', p_message_id: 'abc' });
    expect(badType.status).toBe(400);
    expect(badType.error).toMatchObject({
      code: '22P02',
      message: 'p_message_id: invalid input syntax for type uuid: "abc"',
      hint: 'p_message_id must be a UUID such as "0b9d3a52-8f0e-4c7a-9d41-6e2f1c5a7b30": check it against the RPC reference',
    });
    const refused = async (args: Record<string, unknown>) => (await sb.rpc('mc_history', args)).error;
    expect(await refused({ p_meshwork: 'x', p_limit: 1.5 })).toMatchObject({
      code: '22P02',
      message: 'p_limit: invalid input syntax for type integer: "1.5"',
      hint: 'p_limit must be a whole number: check it against the RPC reference',
    });
    expect(await refused({ p_meshwork: 'x', p_limit: 99999999999 })).toMatchObject({
      code: '22003',
      message: 'p_limit: value "99999999999" is out of range for type integer',
      hint: 'p_limit must be a whole number within the range of integer: check it against the RPC reference',
    });
    expect(await refused({ p_meshwork: 'x', p_before: 'last tuesday' })).toMatchObject({
      message: 'p_before: invalid input syntax for type timestamp with time zone: "last tuesday"',
      hint: 'p_before must be an ISO 8601 time such as "2026-11-23T09:30:00Z": check it against the RPC reference',
    });
    // Two arguments with the refused value: which one cannot be told, and the hint stays general.
    expect(await refused({ p_meshwork: 'zz', p_thread_id: 'zz' })).toMatchObject({
      message: 'invalid input syntax for type uuid: "zz"',
      hint: 'an argument has the wrong type or form: check each against the RPC reference (ids are UUIDs, times ISO 8601)',
    });
    // supabase-js needs a key to make a client: "anon" stands for none, as Supabase's anon key does.
    const anonClient = createSupabase(hub.url, 'anon');
    const info = await anonClient.rpc('mc_invite_info', { p_token: 'mci_nosuchinvite' });
    expect(info.status).toBe(404);
    const whoami = await anonClient.rpc('mc_whoami');
    expect(whoami.status).toBe(401);
    expect(whoami.error).toMatchObject({
      message: 'this request needs an API key',
      details: 'permission denied for function mc_whoami',
    });
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
      hint: 'forget a key you no longer need first (mc_memory_delete; meshcode_forget from an editor)',
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

  it('a missing agent or worker definition is named by the argument the call takes', async () => {
    const owner = await newMesh(hub.url, 'p', ['backend']);
    const sb = createSupabase(hub.url, owner.key);
    const required = (argument: string) => ({
      status: 400,
      error: expect.objectContaining({ message: 'agent is required', hint: `pass ${argument}: the agent name` }),
    });
    expect(await sb.rpc('mc_get_agent', { p_meshwork: 'p' })).toMatchObject(required('p_name'));
    expect(await sb.rpc('mc_worker_get', { p_meshwork: 'p' })).toMatchObject(required('p_name'));
    expect(await sb.rpc('mc_wait', { p_meshwork: 'p', p_timeout_seconds: 0 })).toMatchObject(required('p_agent'));
    // An owner may read any agent's memory, so the agent is looked up rather than resolved; it is still required.
    for (const [fn, args] of [
      ['mc_memory_get', {}],
      ['mc_memory_set', { p_key: 'k', p_value: 'v' }],
      ['mc_memory_delete', { p_key: 'k' }],
    ] as const) {
      expect(await sb.rpc(fn, { p_meshwork: 'p', p_agent: ' ', ...args })).toMatchObject({
        status: 400,
        error: expect.objectContaining({
          message: 'agent is required',
          hint: 'pass p_agent: whose memory (the agent name)',
        }),
      });
    }
    for (const [definition, got] of [
      [undefined, 'nothing'],
      ['name: w', 'a string'],
      [[{ name: 'w' }], 'an array'],
    ] as const) {
      expect(await sb.rpc('mc_worker_upsert', { p_meshwork: 'p', p_definition: definition })).toMatchObject({
        status: 400,
        error: expect.objectContaining({
          message: `p_definition must be the worker file as a JSON object (got ${got})`,
          hint: expect.stringContaining('docs/workers.md'),
        }),
      });
    }
  });

  it('refuses an agent named "overseer" and a project named like an id', async () => {
    const owner = await newMesh(hub.url, 'p', ['backend']);
    const sb = createSupabase(hub.url, owner.key);
    expect(await sb.rpc('mc_add_agent', { p_meshwork: 'p', p_name: 'Overseer' })).toMatchObject({
      status: 400,
      error: expect.objectContaining({
        message: "agent name 'overseer' is reserved",
        hint: 'choose another name: "overseer" names the person overseeing the project in every message',
      }),
    });
    const id = (await owner.client.listMeshworks())[0]!.id;
    expect(await sb.rpc('mc_create_meshwork', { p_name: id.toUpperCase() })).toMatchObject({
      status: 400,
      error: expect.objectContaining({ message: `project name '${id}' has the form of a project id` }),
    });
    expect((await owner.client.listMeshworks()).map((m) => m.name)).toEqual(['p']);
  });

  it('mc_worker_upsert refuses before SQL what the parser refuses, names where a credential is, and stores the rest', async () => {
    const owner = await newMesh(hub.url, 'p', ['backend']);
    const sb = createSupabase(hub.url, owner.key);
    const worker = (extra: Record<string, unknown>) => ({
      name: 'w',
      driver: 'exec',
      exec: { command: ['cat'] },
      ...extra,
    });
    const upsert = (definition: Record<string, unknown>) =>
      sb.rpc('mc_worker_upsert', { p_meshwork: 'p', p_definition: definition });
    const refused = (message: string | RegExp) => ({
      status: 400,
      error: expect.objectContaining({
        message: typeof message === 'string' ? message : expect.stringMatching(message),
      }),
    });
    const rule = (prompt: string) => ({ source: 'github', on: 'push', prompt });
    expect(await upsert(worker({ events: [rule('ok'), rule('never print password: hunter22')] }))).toMatchObject(
      refused('the worker definition contains something that looks like a credential at events[1].prompt'),
    );
    const leaky = rule('Authorization: Bearer abcdefgh12345678');
    expect(
      await upsert(worker({ description: 'uses sk-abcdefghijklmnop1234', events: [leaky, leaky, leaky, leaky] })),
    ).toMatchObject(
      refused(
        'the worker definition contains something that looks like a credential at description, events[0].prompt, events[1].prompt and 2 more',
      ),
    );
    expect(await upsert(worker({ name: `w${'x'.repeat(63)}` }))).toMatchObject(
      refused(/^The worker definition is invalid: name must be 1-63 characters/),
    );
    expect(await upsert(worker({ limits: { task_timeout: '25d' } }))).toMatchObject(
      refused(/^The worker definition is invalid: limits\.task_timeout must be at most 24\.8 days \(2147483647 ms\)/),
    );
    expect(await upsert(worker({ schedule: { cron: '0 9 * * *', prompt: 'hi', timeout: '0s' } }))).toMatchObject(
      refused(/^The worker definition is invalid: schedule\.0\.timeout must be at least 1s/),
    );
    // The largest values the parser accepts fit the SQL columns.
    const max = 2_147_483_647;
    const stored = await upsert(
      worker({
        name: `w${'x'.repeat(62)}`,
        limits: { task_timeout: '24d', concurrency: max, rate_per_minute: max },
        schedule: {
          cron: '0 9 * * *',
          prompt: 'hi',
          timeout: 2_147_483.647,
          max_runs_per_day: max,
          pause_after_errors: max,
        },
      }),
    );
    expect(stored.error).toBeNull();
    expect(stored.data).toMatchObject({ name: `w${'x'.repeat(62)}`, created: true });
  });

  it('a task title that is empty or only whitespace is refused, when the task is created and when it is changed', async () => {
    const owner = await newMesh(hub.url, 'p', ['backend']);
    const task = await owner.client.createTask('p', { title: 'kept' });
    for (const title of ['', '   ', '\t\n ']) {
      await expect(owner.client.createTask('p', { title })).rejects.toMatchObject({
        status: 400,
        message: 'title cannot be blank',
        hint: 'pass p_title: what the task is, in a few words (such as "fix the login test")',
      });
      await expect(owner.client.updateTask('p', task.id, { title })).rejects.toMatchObject({
        status: 400,
        message: 'title cannot be blank',
        hint: 'a task always has a title: leave p_title out to keep it, or pass a new one in a few words',
      });
    }
    expect((await owner.client.listTasks('p')).map((t) => t.title)).toEqual(['kept']);
    expect(await owner.client.updateTask('p', task.id, { progress: 10 })).toMatchObject({ title: 'kept' });
    expect(await owner.client.updateTask('p', task.id, { title: 'renamed' })).toMatchObject({ title: 'renamed' });
  });

  it("a value the function's checks let through to a constraint is a 400 that shows no table, constraint or row", async () => {
    const owner = await newMesh(hub.url, 'p', ['backend']);
    const task = await owner.client.createTask('p', { title: 'kept', body: 'confidential body text' });
    // A blank title, the value this test used to send, is refused by mc_task_update's own check now: the test adds a
    // constraint that no check knows.
    await getDb().query(
      `alter table mesh.tasks add constraint tasks_title_probe check (title <> 'refused by a constraint') not valid`,
    );
    const update = () =>
      createSupabase(hub.url, owner.key).rpc('mc_task_update', {
        p_meshwork: 'p',
        p_task_id: task.id,
        p_title: 'refused by a constraint',
      });
    let res: Awaited<ReturnType<typeof update>>;
    try {
      res = await update();
    } finally {
      await getDb().query('alter table mesh.tasks drop constraint tasks_title_probe');
    }
    expect(res).toMatchObject({
      status: 400,
      error: {
        code: '23514',
        message: 'a value is outside what is allowed for it (empty, too long or out of range)',
        details: null,
        hint: 'check each argument against the RPC reference (lengths, ranges, required values)',
      },
    });
    expect(JSON.stringify(res.error)).not.toMatch(/confidential|tasks_title|relation|Failing row/);
  });

  it('answers an over-long URL and a body that is not JSON with the envelope too', async () => {
    const a = await newAccount(hub.url);
    const long = await fetch(`${hub.url}/rest/v1/rpc/mc_status?p_meshwork=${'x'.repeat(20_000)}`, {
      headers: { authorization: `Bearer ${a.key}` },
    });
    expect({ status: long.status, body: await long.json() }).toEqual({
      status: 431,
      body: {
        code: 'PGRST100',
        message: 'the request line and headers are larger than 16 KB',
        details: null,
        hint: 'send long arguments in a POST body instead of the URL',
      },
    });
    const form = await fetch(`${hub.url}/rest/v1/rpc/mc_status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.key}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'p_meshwork=x',
    });
    expect({ status: form.status, body: await form.json() }).toEqual({
      status: 415,
      body: {
        code: 'PGRST100',
        message: 'content type must be application/json',
        details: null,
        hint: 'send the arguments as a JSON object with the header "Content-Type: application/json"',
      },
    });
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

  it("a task whose last attempt's lease ran out is dead, not claimed once more", async () => {
    const owner = await newMesh(hub.url, 'p', ['w1', 'w2']);
    const t = await owner.client.createTask('p', { title: 'flaky', maxAttempts: 2 });
    const expire = () =>
      getDb().query("update mesh.tasks set lease_expires_at = now() - interval '1 second' where id = $1", [t.id]);
    await owner.client.claimTask('p', { agent: 'w1', leaseSeconds: 5 });
    await expire();
    expect((await owner.client.claimTask('p', { agent: 'w2' })).task).toMatchObject({ id: t.id, attempts: 2 });
    await expire();
    expect((await owner.client.claimTask('p', { agent: 'w1' })).task).toBeNull();
    const [task] = await owner.client.listTasks('p', { status: 'dead' });
    expect(task).toMatchObject({ id: t.id, status: 'dead', attempts: 2, max_attempts: 2 });
    expect((await owner.client.activity('p', { limit: 1000 })).map((r) => r.summary)).toContain(
      'task dead after 2 attempts: flaky',
    );
    await expect(owner.client.claimTask('p', { agent: 'w1', taskId: t.id })).rejects.toMatchObject({
      status: 409,
      message: 'that task is dead',
    });
    // Reopened by hand, it can be claimed again (by its assignee, the agent that claimed it last).
    await owner.client.updateTask('p', t.id, { status: 'open' });
    expect((await owner.client.claimTask('p', { agent: 'w2' })).task).toMatchObject({ id: t.id, attempts: 3 });
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

  it('refuses JSON nested deeper than 256 levels with a 400 naming the limit, and takes it up to the limit', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const post = async (fn: string, body: string, key: string | null = owner.key) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (key) headers.authorization = `Bearer ${key}`;
      const res = await fetch(`${hub.url}/rest/v1/rpc/${fn}`, { method: 'POST', headers, body });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const arrays = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
    const objects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    const tooDeep = {
      status: 400,
      body: {
        code: 'PGRST102',
        message: 'request body is nested too deeply: JSON objects and arrays may nest at most 256 levels',
        details: null,
        hint: "flatten the arguments: at most 256 levels of objects and arrays, the body's own object included",
      },
    };
    // Without a key, with one, and at depths JSON.stringify (and the old NUL and argument walks) overflowed on.
    expect(await post('mc_invite_info', `{"p_token":${arrays(5000)}}`, null)).toEqual(tooDeep);
    expect(await post('mc_whoami', `{"p_x":${arrays(5000)}}`)).toEqual(tooDeep);
    expect(await post('mc_whoami', arrays(100_000))).toEqual(tooDeep);
    const send = (data: string) =>
      post('mc_send', `{"p_meshwork":"p","p_from":"a","p_to":"b","p_body":"hi","p_data":${data}}`);
    expect(await send(objects(5000))).toEqual(tooDeep);
    expect(await send(objects(4000))).toEqual(tooDeep);
    // The body's object is level 1: p_data may nest 255 more, and comes back whole.
    expect(await send(objects(256))).toEqual(tooDeep);
    expect((await send(objects(255))).status).toBe(200);
    const inbox = await owner.client.wait({ meshwork: 'p', agent: 'b', timeoutSeconds: 0 });
    let data: unknown = inbox.messages[0]?.data;
    let levels = 0;
    for (; data !== null && typeof data === 'object'; levels++) data = (data as { a: unknown }).a;
    expect([levels, data]).toEqual([255, 1]);
    // A wide body is not deep: 100,000 siblings two levels down are fine.
    expect((await post('mc_whoami', `{"p_x":[${Array(100_000).fill('[1]').join(',')}]}`)).status).toBe(404);
  });

  it('answers every body over 2 MB with the 413 envelope, never a reset connection', async () => {
    const a = await newAccount(hub.url);
    const headers = { authorization: `Bearer ${a.key}`, 'content-type': 'application/json' };
    const tooLarge = {
      code: 'PGRST100',
      message: 'request body is larger than 2 MB',
      details: null,
      hint: 'send a smaller body',
    };
    // From a client on its own event loop: one sharing the hub's never sees the reset it would get while writing.
    for (const mb of [2.2, 8]) {
      const body = JSON.stringify({ p_x: 'x'.repeat(mb * 1024 * 1024) });
      const answers = await postFromThread(`${hub.url}/rest/v1/rpc/mc_whoami`, headers, body, 10);
      expect(answers).toEqual(Array(10).fill({ status: 413, text: JSON.stringify(tooLarge) }));
    }
    // Sent without a Content-Length (chunked), the body is refused only once 2 MB have arrived: the same answer.
    const chunk = new TextEncoder().encode('x'.repeat(256 * 1024));
    for (let i = 0; i < 3; i++) {
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 12) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const res = await fetch(`${hub.url}/rest/v1/rpc/mc_whoami`, {
        method: 'POST',
        headers,
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect([i, res.status, await res.json()]).toEqual([i, 413, tooLarge]);
    }
    const ok = await fetch(`${hub.url}/rest/v1/rpc/mc_whoami`, { method: 'POST', headers, body: '{}' });
    expect(ok.status).toBe(200);
  });
});
