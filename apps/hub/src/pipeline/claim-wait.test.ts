// A worker idling in a waiting claim (mc_worker_claim with p_wait_seconds), held by a real hub: answered with the task a
// signed delivery claimed for it in the delivery's own transaction, the claim handed back when the call could not take
// it, an empty answer when the time is up, and bad waits refused. A claim of one given task (p_task_id) it cannot take
// says why, waiting or not.
import examples from '@octokit/webhooks-examples';
import { beforeEach, expect, it, vi } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { eventTrace, githubDelivery, postHook, useHookProject, type Owner, type PipelineHub } from './testing/fixture';

const worker = {
  name: 'pusher',
  driver: 'exec',
  exec: { command: ['cat'] },
  events: [{ source: 'github', on: 'push', prompt: 'Look at {{ summary }}' }],
};

function push(): Record<string, unknown> {
  return structuredClone(examples.find((d) => d.name === 'push')!.examples[0]) as Record<string, unknown>;
}

interface Claim {
  task: { id: string; status: string } | null;
  run?: { attempt: number };
  reason?: string;
  agent_id: string;
}

describeBackends('waiting claims', (getDb) => {
  const project = useHookProject(getDb, 'claims', worker);
  let hub: PipelineHub;
  let owner: Owner;
  let secret: string;
  let hookUrl: string;
  beforeEach(() => ({ hub, owner, secret, hookUrl } = project));

  const waitingClaim = (seconds = 20) =>
    owner.client.rpc<Claim>('mc_worker_claim', { p_meshwork: 'claims', p_agent: 'pusher', p_wait_seconds: seconds });
  const asleep = () =>
    vi.waitFor(
      () => {
        if (hub.hub.waiters.asleep < 1) throw new Error('the claim is not held yet');
      },
      { timeout: 10_000, interval: 5 },
    );
  const deliver = async () => {
    const d = githubDelivery(push(), 'push', secret);
    const res = await postHook(hookUrl, d.headers, d.body);
    expect(res.status).toBe(202);
    return res.body['event_id'] as string;
  };

  it('answers the held call with the task the delivery claimed in its own transaction', async () => {
    const held = waitingClaim();
    await asleep();
    const eventId = await deliver();
    const claim = await held;
    const trace = await eventTrace(owner, eventId);
    expect(claim.task?.id).toBe(trace.tasks[0]!.id);
    expect(claim).toMatchObject({ task: { status: 'claimed' }, run: { attempt: 1 } });
    expect(trace.tasks[0]).toMatchObject({ status: 'claimed', attempts: 1 });
    // Claimed in the delivery's transaction: the claim's trace row has the event's transaction timestamp.
    const at = await getDb().query<{ step: string; created_at: string }>(
      `select data ->> 'step' as step, created_at from mesh.activity
        where data ->> 'event_id' = $1 and data ->> 'step' in ('event.received', 'task.claimed')`,
      [eventId],
    );
    expect(at.rows.map((r) => r.step).sort()).toEqual(['event.received', 'task.claimed']);
    expect(new Set(at.rows.map((r) => r.created_at)).size).toBe(1);
    // Handed the task itself, the worker got no assignment message, and it is working.
    const messages = await getDb().query<{ n: number }>(
      'select count(*)::int as n from mesh.messages where to_agent_id = $1',
      [claim.agent_id],
    );
    expect(messages.rows[0]!.n).toBe(0);
    const agent = await owner.client.rpc<{ status: string }>('mc_get_agent', {
      p_meshwork: 'claims',
      p_name: 'pusher',
    });
    expect(agent.status).toBe('working');
    const inbox = await owner.client.rpc<{ messages: unknown[] }>('mc_wait', {
      p_meshwork: 'claims',
      p_agent: 'pusher',
      p_timeout_seconds: 0,
    });
    expect(inbox.messages).toEqual([]);
  });

  it('hands the claim back when the held call cannot take it, and the worker claims it again as attempt 1', async () => {
    const held = waitingClaim();
    await asleep();
    // The call ends between the delivery's decision to claim for it and the answer (here: it refuses once).
    const hand = vi.spyOn(hub.hub.waiters, 'hand').mockReturnValueOnce(false);
    try {
      const eventId = await deliver();
      const claim = await held;
      expect(claim).toMatchObject({ task: { status: 'claimed' }, run: { attempt: 1 } });
      const trace = await eventTrace(owner, eventId);
      expect(trace.steps.map((s) => s.step).filter((s) => s.startsWith('task.'))).toEqual([
        'task.created',
        'task.claimed',
        'task.released',
        'task.claimed',
      ]);
      expect(trace.tasks[0]).toMatchObject({ id: claim.task!.id, status: 'claimed', attempts: 1 });
    } finally {
      hand.mockRestore();
    }
  });

  it('answers empty or stopped when the time is up, and refuses a wait out of range', async () => {
    const t0 = Date.now();
    const claim = await waitingClaim(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(claim).toMatchObject({ task: null, reason: 'empty' });
    expect(claim.agent_id).toMatch(/^[0-9a-f-]{36}$/);
    for (const bad of [-1, 301]) {
      await expect(waitingClaim(bad)).rejects.toMatchObject({
        status: 400,
        message: expect.stringMatching(/between 0 and 300/),
      });
    }
    // A stopped worker's waiting claim is held too (an idle runtime must not spin on it), and says why at the end.
    await owner.client.rpc('mc_worker_set', { p_meshwork: 'claims', p_name: 'pusher', p_enabled: false });
    const t1 = Date.now();
    expect(await waitingClaim(1)).toMatchObject({ task: null, reason: 'stopped' });
    expect(Date.now() - t1).toBeGreaterThanOrEqual(900);
    // Without p_wait_seconds the call answers at once, as before.
    await expect(
      owner.client.rpc('mc_worker_claim', { p_meshwork: 'claims', p_agent: 'pusher' }),
    ).resolves.toMatchObject({ task: null, reason: 'stopped' });
  });

  it('a claim of a given task the worker cannot take says why: 404 when it is not in the project, else 409', async () => {
    const claim = (taskId: string, wait?: number) =>
      owner.client.rpc<Claim>('mc_worker_claim', {
        p_meshwork: 'claims',
        p_agent: 'pusher',
        p_task_id: taskId,
        ...(wait === undefined ? {} : { p_wait_seconds: wait }),
      });
    const hint =
      "leave out p_task_id to claim pusher's next task, or list its open tasks with mc_task_list(p_assignee => 'pusher', p_status => 'open')";
    const handOver =
      "a worker claims only the tasks assigned to it: hand it over with mc_task_update(p_task_id, p_assignee => 'pusher')";
    const at = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.source;

    await owner.client.createMeshwork('elsewhere');
    const elsewhere = await owner.client.createTask('elsewhere', { title: 'not here' });
    for (const id of [elsewhere.id, '00000000-0000-4000-8000-000000000000']) {
      await expect(claim(id)).rejects.toMatchObject({ status: 404, message: `no task ${id} in this project`, hint });
    }
    await owner.client.addAgent('claims', 'alice');
    const anyone = await owner.client.createTask('claims', { title: 'anyone' });
    await expect(claim(anyone.id)).rejects.toMatchObject({
      status: 409,
      message: 'that task is not assigned to pusher',
      hint: handOver,
    });
    const alices = await owner.client.createTask('claims', { title: 'for alice', assignee: 'alice' });
    await expect(claim(alices.id)).rejects.toMatchObject({
      status: 409,
      message: 'that task is assigned to alice',
      hint: handOver,
    });
    // Handed to the worker while alice holds its lease.
    await owner.client.claimTask('claims', { agent: 'alice', taskId: alices.id });
    await owner.client.updateTask('claims', alices.id, { assignee: 'pusher' });
    await expect(claim(alices.id)).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(new RegExp(`^that task is claimed by alice until ${at}`)) as unknown,
      hint,
    });

    // The worker's own task: waiting for its retry (a waiting claim is refused at once too), dead, and reopened by
    // hand with no attempt left.
    const own = await owner.client.createTask('claims', { title: 'for pusher', assignee: 'pusher', maxAttempts: 2 });
    const report = (attempt: number, transient: boolean) =>
      owner.client.rpc('mc_worker_report', {
        p_meshwork: 'claims',
        p_agent: 'pusher',
        p_task_id: own.id,
        p_attempt: attempt,
        p_ok: false,
        p_error: 'it broke',
        p_transient: transient,
        p_retry_in_ms: 600_000,
      });
    expect(await claim(own.id)).toMatchObject({ task: { id: own.id, status: 'claimed' }, run: { attempt: 1 } });
    await report(1, true);
    const retrying = {
      status: 409,
      message: expect.stringMatching(new RegExp(`^that task waits to be retried at ${at}`)) as unknown,
      hint: 'claim it then, or leave out p_task_id to claim the next task now',
    };
    await expect(claim(own.id)).rejects.toMatchObject(retrying);
    await expect(claim(own.id, 1)).rejects.toMatchObject(retrying);
    await getDb().query('update mesh.tasks set next_retry_at = now() where id = $1', [own.id]);
    expect(await claim(own.id)).toMatchObject({ task: { id: own.id }, run: { attempt: 2 } });
    await report(2, false);
    await expect(claim(own.id)).rejects.toMatchObject({ status: 409, message: 'that task is dead', hint });
    await owner.client.updateTask('claims', own.id, { status: 'open' });
    await expect(claim(own.id)).rejects.toMatchObject({
      status: 409,
      message: 'that task has used all of its 2 attempts',
      hint: 'reopening it does not give it more: create it again with mc_task_create',
    });
    // Without p_task_id nothing changes: none of these is the worker's to claim, so the board is empty to it.
    await expect(
      owner.client.rpc('mc_worker_claim', { p_meshwork: 'claims', p_agent: 'pusher' }),
    ).resolves.toMatchObject({ task: null, reason: 'empty' });
  });
});
