// Every tool through a real MCP client (SDK in-memory transport) against a real hub on loopback.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMeshClient, MeshError } from '@meshcode/client';
import { describeBackends, resetState } from '@meshcode/db/testing';
import { newMesh, startTestHub, type HubFixture, type TestAccount } from '../../../apps/hub/src/testing/hub-fixture';
import { createServer } from './server';
import { connectAgent, firstJson, until, type Connected } from './testing/harness';
import { TOOL_NAMES } from './tools';

interface Shown {
  kind: string;
  id: string;
  from: string;
  thread_id: string;
  body: string;
  broadcast?: true;
  task?: { id: string; title: string };
  answer: string;
}

describeBackends('mcp server', (getDb) => {
  let hub: HubFixture;
  let owner: TestAccount;
  const open: Connected[] = [];

  beforeAll(async () => {
    hub = await startTestHub(getDb());
  });
  afterAll(async () => {
    await hub.close();
  });
  beforeEach(async () => {
    await resetState(getDb());
    owner = await newMesh(hub.url, 'team', ['a', 'b', 'c', 'd']);
  });
  afterEach(async () => {
    for (const c of open.splice(0).reverse()) await c.close();
  });

  /** An MCP server for one agent, using a key minted for that agent slot, as `meshcode join`/`setup` would. */
  async function agent(name: string, opts: { force?: boolean; heartbeatMs?: number; key?: string } = {}) {
    const key = opts.key ?? (await owner.client.createKey('team', name)).key;
    const c = await connectAgent(hub.url, key, 'team', name, opts);
    open.push(c);
    return c;
  }

  async function waitFor(c: Connected, timeout = 10) {
    const res = await c.call('meshcode_wait', { timeout_seconds: timeout });
    expect(res.isError, res.text).toBe(false);
    return res.text.startsWith('{') ? firstJson<{ messages: Shown[] }>(res.text).messages : [];
  }

  describe('tools/list', () => {
    it('offers every tool, each described and annotated, within the 12 KB budget', async () => {
      const a = await agent('a');
      const list = await a.client.listTools();
      expect(list.tools.map((t) => t.name)).toEqual(TOOL_NAMES);
      expect(new Set(TOOL_NAMES)).toEqual(
        new Set([
          'meshcode_wait',
          'meshcode_done',
          'meshcode_send',
          'meshcode_ask',
          'meshcode_broadcast',
          'meshcode_status',
          'meshcode_tasks',
          'meshcode_task_update',
          'meshcode_remember',
          'meshcode_recall',
          'meshcode_forget',
          'meshcode_scratchpad_set',
          'meshcode_scratchpad_get',
          'meshcode_create_meshwork',
          'meshcode_add_agent',
          'meshcode_edit_agent',
          'meshcode_edit_memory',
          'meshcode_link',
        ]),
      );
      for (const tool of list.tools) {
        expect(tool.description, tool.name).toMatch(/^[^\n]{10,120}$/);
        expect(typeof tool.annotations?.readOnlyHint, tool.name).toBe('boolean');
        expect(typeof tool.annotations?.destructiveHint, tool.name).toBe('boolean');
        expect(typeof tool.annotations?.idempotentHint, tool.name).toBe('boolean');
        expect(typeof tool.annotations?.openWorldHint, tool.name).toBe('boolean');
        for (const [prop, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
          expect((schema as { description?: string }).description, `${tool.name}.${prop}`).toBeTruthy();
        }
      }
      const size = JSON.stringify(list).length;
      console.log(`tools/list: ${size} bytes`);
      expect(size).toBeLessThanOrEqual(12_288);
    });

    it('gives the agent its role, launch prompt and the mesh loop as instructions', async () => {
      await owner.client.editAgent('team', 'a', { role: 'API designer', launchPrompt: 'Own the REST API.' });
      const a = await agent('a');
      const instructions = a.client.getInstructions() ?? '';
      expect(instructions).toContain('"a"');
      expect(instructions).toContain('API designer');
      expect(instructions).toContain('Own the REST API.');
      expect(instructions).toMatch(/meshcode_wait[\s\S]*meshcode_done[\s\S]*meshcode_wait/);
    });
  });

  it('send and wait between two agents: sender, thread and how to answer; the cursor stays on the hub', async () => {
    const a = await agent('a');
    const b = await agent('b');
    const sent = await a.call('meshcode_send', { to: 'b', body: 'the schema is in db/schema.sql' });
    expect(sent.isError, sent.text).toBe(false);
    const got = await waitFor(b);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: 'message', from: 'a', body: 'the schema is in db/schema.sql' });
    expect(got[0]!.thread_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(got[0]!.answer).toContain('meshcode_send(to="a"');

    // Answer in the same thread; the reply lands in a's wait.
    const back = await b.call('meshcode_send', { to: 'a', body: 'thanks', thread_id: got[0]!.thread_id });
    expect(back.isError, back.text).toBe(false);
    const atA = await waitFor(a);
    expect(atA[0]).toMatchObject({ from: 'b', body: 'thanks', thread_id: got[0]!.thread_id });

    // Nothing twice, and the hub's cursor acknowledges what was handed out once the next wait starts.
    expect(await waitFor(b, 1)).toEqual([]);
    const board = await owner.client.status('team');
    expect(board.agents.find((x) => x.name === 'b')?.unread).toBe(0);
  });

  it('a restarted server resumes from the cursor on the hub: unacknowledged messages come back, acked ones do not', async () => {
    const a = await agent('a');
    let b = await agent('b');
    await a.call('meshcode_send', { to: 'b', body: 'first' });
    expect((await waitFor(b)).map((m) => m.body)).toEqual(['first']);
    // The window dies before handling it (no meshcode_done, no next wait): it is delivered again.
    await b.close();
    b = await agent('b');
    expect((await waitFor(b)).map((m) => m.body)).toEqual(['first']);
    await b.call('meshcode_done', { result: 'read it' });
    await a.call('meshcode_send', { to: 'b', body: 'second' });
    await b.close();
    b = await agent('b');
    expect((await waitFor(b)).map((m) => m.body)).toEqual(['second']);
  });

  it("ask and reply: the replier's meshcode_done answers the asker, and the reply is not shown twice", async () => {
    const a = await agent('a');
    const b = await agent('b');
    const asking = a.call('meshcode_ask', { to: 'b', question: 'which port does the API use?', timeout_seconds: 60 });
    const got = await waitFor(b);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: 'ask', from: 'a', body: 'which port does the API use?' });
    expect(got[0]!.answer).toContain(`meshcode_done(reply_to="${got[0]!.id}"`);
    const done = await b.call('meshcode_done', { result: 'port 8080' });
    expect(done.isError, done.text).toBe(false);
    expect(done.text).toContain(`answered ${got[0]!.id}`);

    const answer = await asking;
    expect(answer.isError, answer.text).toBe(false);
    expect(firstJson(answer.text)).toMatchObject({ from: 'b', answer: 'port 8080' });
    expect(await waitFor(a, 1)).toEqual([]);
  });

  it('an unanswered ask times out with a clear error, and the late answer shows up in meshcode_wait', async () => {
    const a = await agent('a');
    const b = await agent('b');
    const res = await a.call('meshcode_ask', { to: 'b', question: 'still there?', timeout_seconds: 1 });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/^b did not answer within 1 s; .*meshcode_wait/);
    const [ask] = await waitFor(b);
    await b.call('meshcode_done', { result: 'yes, late', reply_to: ask!.id });
    const late = await waitFor(a);
    expect(late[0]).toMatchObject({ kind: 'reply', from: 'b', body: 'yes, late' });
  });

  it('broadcast reaches the three other agents', async () => {
    const [a, b, c, d] = [await agent('a'), await agent('b'), await agent('c'), await agent('d')];
    const res = await a.call('meshcode_broadcast', { body: 'standup in 5' });
    expect(res.text).toMatch(/^Broadcast to 3 agents/);
    for (const x of [b, c, d]) {
      const got = await waitFor(x);
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ from: 'a', body: 'standup in 5', broadcast: true });
    }
    expect(await waitFor(a, 0)).toEqual([]);
  });

  it("tasks: an assigned task appears in the assignee's wait and meshcode_done completes it", async () => {
    const a = await agent('a');
    const b = await agent('b');
    const created = await a.call('meshcode_tasks', {
      action: 'create',
      title: 'Fix login',
      body: 'The session cookie expires too early.',
      assignee: 'b',
      priority: 'high',
    });
    expect(created.isError, created.text).toBe(false);
    const { task } = firstJson<{ task: { id: string } }>(created.text);

    const got = await waitFor(b);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: 'task', task: { id: task.id, title: 'Fix login' } });
    expect(got[0]!.body).toContain('The session cookie expires too early.');
    expect(got[0]!.answer).toContain(`meshcode_done(task_id="${task.id}"`);

    const progress = await b.call('meshcode_task_update', { task_id: task.id, status: 'in_progress', progress: 40 });
    expect(firstJson(progress.text)).toMatchObject({ status: 'in_progress', progress: 40 });
    const board = await b.call('meshcode_status');
    expect(board.text).toMatch(/- b \(you\): .*task: Fix login \(40%\)/);

    const done = await b.call('meshcode_done', { result: 'cookie lifetime raised to 7 days' });
    expect(done.isError, done.text).toBe(false);
    const [after] = await owner.client.listTasks('team', { status: 'done' });
    expect(after).toMatchObject({
      id: task.id,
      status: 'done',
      result: 'cookie lifetime raised to 7 days',
      progress: 100,
    });
    const list = firstJson<{ tasks: unknown[] }>((await b.call('meshcode_tasks', {})).text);
    expect(list.tasks).toEqual([]);
  });

  it('tasks: claim the next open task', async () => {
    const b = await agent('b');
    await owner.client.createTask('team', { title: 'Write docs' });
    const claimed = await b.call('meshcode_tasks', { action: 'claim' });
    expect(firstJson(claimed.text)).toMatchObject({ task: { title: 'Write docs', assignee: 'b' } });
    expect(firstJson((await b.call('meshcode_tasks', { action: 'claim' })).text)).toEqual({ task: null });
    expect((await b.call('meshcode_tasks', { action: 'create' })).isError).toBe(true);
  });

  it('done with several open items asks which one; with none it just sets the status', async () => {
    const a = await agent('a');
    const b = await agent('b');
    const c = await agent('c');
    const asks = [
      a.call('meshcode_ask', { to: 'b', question: 'q1', timeout_seconds: 60 }),
      c.call('meshcode_ask', { to: 'b', question: 'q2', timeout_seconds: 60 }),
    ];
    const got: Shown[] = [];
    while (got.length < 2) got.push(...(await waitFor(b)));
    const ambiguous = await b.call('meshcode_done', { result: 'yes' });
    expect(ambiguous.isError).toBe(true);
    expect(ambiguous.text).toMatch(/several items are still open .*pass reply_to or task_id/);
    for (const m of got) {
      const r = await b.call('meshcode_done', { result: `answer to ${m.body}`, reply_to: m.id, status: 'working' });
      expect(r.isError, r.text).toBe(false);
    }
    const answers = await Promise.all(asks);
    expect(answers.map((x) => firstJson<{ answer: string }>(x.text).answer)).toEqual(['answer to q1', 'answer to q2']);
    const idle = await b.call('meshcode_done', { result: 'all answered' });
    expect(idle.text).toContain('you are idle');
    const board = await owner.client.status('team');
    expect(board.agents.find((x) => x.name === 'b')).toMatchObject({ status: 'idle', status_detail: 'all answered' });
  });

  it('memory: remember, recall, forget; limits come back as isError with the sentence', async () => {
    const a = await agent('a');
    expect((await a.call('meshcode_remember', { key: 'team_lead', value: 'a assigns tasks' })).text).toContain(
      'Remembered "team_lead" (1/100',
    );
    expect(firstJson((await a.call('meshcode_recall', { key: 'team_lead' })).text)).toEqual({
      key: 'team_lead',
      found: true,
      value: 'a assigns tasks',
    });
    expect(firstJson((await a.call('meshcode_recall', {})).text)).toEqual({
      memories: [{ key: 'team_lead', value: 'a assigns tasks' }],
    });

    const big = await a.call('meshcode_remember', { key: 'huge', value: 'x'.repeat(10_241) });
    expect(big.isError).toBe(true);
    expect(big.text).toMatch(/limit is 10 KB/);
    expect(big.text.split('\n')).toHaveLength(1);

    for (let i = 1; i < 100; i++) await owner.client.remember('team', 'a', `k${i}`, 'v');
    const full = await a.call('meshcode_remember', { key: 'one-too-many', value: 'v' });
    expect(full.isError).toBe(true);
    expect(full.text).toMatch(/memory is full: an agent keeps at most 100 keys.*meshcode_forget/);

    expect((await a.call('meshcode_forget', { key: 'team_lead' })).text).toBe('Forgot "team_lead".');
    expect(firstJson((await a.call('meshcode_recall', { key: 'team_lead' })).text)).toMatchObject({ found: false });
  });

  it("memory survives a restart of the MCP server; another agent's memory is not reachable with a bound key", async () => {
    let a = await agent('a');
    await a.call('meshcode_remember', { key: 'conventions', value: 'tabs, not spaces' });
    await a.close();
    a = await agent('a');
    expect(firstJson((await a.call('meshcode_recall', { key: 'conventions' })).text)).toMatchObject({
      value: 'tabs, not spaces',
    });
    const other = await a.call('meshcode_edit_memory', { agent: 'b', key: 'x', value: 'y' });
    expect(other.isError).toBe(true);
  });

  it("scratchpad is shared; the owner's agent edits another agent's memory", async () => {
    const a = await agent('a');
    const lead = await agent('c', { key: owner.key });
    const b = await agent('b');
    await a.call('meshcode_scratchpad_set', { key: 'api', value: 'http://localhost:8080' });
    expect(firstJson((await b.call('meshcode_scratchpad_get', { key: 'api' })).text)).toEqual({
      key: 'api',
      found: true,
      value: 'http://localhost:8080',
    });
    expect(firstJson((await b.call('meshcode_scratchpad_get', {})).text)).toEqual({
      entries: [{ key: 'api', value: 'http://localhost:8080', by: 'a' }],
    });
    const edited = await lead.call('meshcode_edit_memory', { agent: 'b', key: 'note', value: 'review PR 12' });
    expect(edited.isError, edited.text).toBe(false);
    expect(firstJson((await b.call('meshcode_recall', { key: 'note' })).text)).toMatchObject({ value: 'review PR 12' });
    expect((await lead.call('meshcode_edit_memory', { agent: 'b', key: 'note' })).text).toContain('Deleted "note"');
  });

  it('status says who is online and what they are doing', async () => {
    const a = await agent('a');
    await agent('b');
    const res = await a.call('meshcode_status');
    expect(res.isError, res.text).toBe(false);
    expect(res.text).toMatch(/^Team team: 2\/4 online/);
    expect(res.text).toMatch(/- a \(you\): online/);
    expect(res.text).toMatch(/- b: online/);
    expect(res.text).toMatch(/- c: offline/);
  });

  it('account tools: create a meshwork, add and edit agents, with the next CLI command', async () => {
    const lead = await agent('a', { key: owner.key });
    expect((await lead.call('meshcode_create_meshwork', { name: 'side-project' })).text).toContain(
      'Meshwork "side-project" created',
    );
    const added = await lead.call('meshcode_add_agent', { name: 'designer', role: 'UI designer' });
    expect(added.isError, added.text).toBe(false);
    expect(added.text).toContain('`meshcode run designer`');
    const elsewhere = await lead.call('meshcode_add_agent', { name: 'writer', meshwork: 'side-project' });
    expect(elsewhere.text).toContain('`meshcode setup side-project writer && meshcode run writer`');
    const edited = await lead.call('meshcode_edit_agent', {
      name: 'designer',
      role: 'UX lead',
      launch_prompt: 'Own UX.',
    });
    expect(edited.isError, edited.text).toBe(false);
    expect(await owner.client.getAgent('team', 'designer')).toMatchObject({
      role: 'UX lead',
      launch_prompt: 'Own UX.',
    });
    const dup = await lead.call('meshcode_add_agent', { name: 'designer' });
    expect(dup.isError).toBe(true);
    expect((await lead.call('meshcode_edit_agent', { name: 'designer' })).isError).toBe(true);
  });

  it('errors the model can fix are one sentence; an unknown recipient says so', async () => {
    const a = await agent('a');
    const res = await a.call('meshcode_send', { to: 'nobody', body: 'hi' });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/nobody|agent/);
    expect(res.text.split('\n')).toHaveLength(1);
  });

  it('meshcode_link links with another project of the owner, and says plainly when the target is unknown', async () => {
    const a = await agent('a', { key: owner.key });
    const res = await a.call('meshcode_link', { target: 'other' });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/^could not find project 'other' to link/);
    await owner.client.createMeshwork('other');
    const linked = await a.call('meshcode_link', { target: 'other' });
    expect(linked.isError).toBe(false);
    expect(linked.text).toContain('Linked with other: agents can now message each other');
  });

  it('split brain: a second window is refused until it passes --force, which takes over the first', async () => {
    const first = await agent('a', { heartbeatMs: 100 });
    expect((await first.call('meshcode_status')).isError).toBe(false);

    const second = await agent('a');
    const refused = await second.call('meshcode_status');
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/^agent already running in another window: .*close that window.*--force/);
    expect((await second.call('meshcode_remember', { key: 'k', value: 'v' })).isError).toBe(true);

    // The first window sits in meshcode_wait when it is taken over: its next heartbeat ends the wait.
    const waiting = first.call('meshcode_wait', { timeout_seconds: 120 });
    const forced = await agent('a', { force: true });
    expect((await forced.call('meshcode_status')).isError).toBe(false);
    const interrupted = await waiting;
    expect(interrupted.isError).toBe(true);
    expect(interrupted.text).toMatch(/^agent session was taken over by another window: .*--force/);
    expect((await first.call('meshcode_status')).text).toMatch(/^agent session was taken over/);
    expect((await forced.call('meshcode_wait', { timeout_seconds: 0 })).isError).toBe(false);
  });

  it('a refused window connects once the other window closes', async () => {
    const first = await agent('a');
    const second = await agent('a');
    expect((await second.call('meshcode_status')).isError).toBe(true);
    await first.close();
    expect((await second.call('meshcode_status')).isError).toBe(false);
  });

  it('cleanup releases the agent: it goes offline and a new window connects without --force', async () => {
    const a = await agent('a');
    await a.call('meshcode_status');
    await a.close();
    const board = await owner.client.status('team');
    expect(board.agents.find((x) => x.name === 'a')?.status).toBe('offline');
    const again = await agent('a');
    expect((await again.call('meshcode_status')).isError).toBe(false);
  });

  it('records each tool call in activity, with argument names but no memory or scratchpad values', async () => {
    const a = await agent('a');
    await a.call('meshcode_send', { to: 'b', body: 'hello b' });
    await a.call('meshcode_remember', { key: 'secret-plan', value: 'TOP-SECRET-VALUE' });
    await a.call('meshcode_scratchpad_set', { key: 'shared', value: 'SHARED-VALUE' });
    await a.call('meshcode_recall', { key: 'nope' });
    const rows = await until(async () => {
      const r = (await owner.client.activity('team', { agent: 'a' })).filter((x) => x.kind === 'tool_call');
      return r.length >= 4 ? r : undefined;
    }, 'four tool_call rows');
    expect(rows.map((r) => r.summary)).toEqual([
      'meshcode_send → b',
      'meshcode_remember → secret-plan',
      'meshcode_scratchpad_set → shared',
      'meshcode_recall → nope',
    ]);
    expect(rows[1]!.data).toEqual({ tool: 'meshcode_remember', args: ['key', 'value'] });
    const all = JSON.stringify(rows);
    expect(all).not.toContain('TOP-SECRET-VALUE');
    expect(all).not.toContain('SHARED-VALUE');
  });

  it('a wrong agent name stops the server at creation with one sentence', async () => {
    const mesh = createMeshClient({ hubUrl: hub.url, apiKey: owner.key });
    const err = await createServer({ client: mesh, meshwork: 'team', agent: 'ghost', log: () => {} }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MeshError);
    expect((err as MeshError).status).toBe(404);
  });
});
