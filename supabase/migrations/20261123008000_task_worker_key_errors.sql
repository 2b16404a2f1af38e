-- Four answers that said the wrong thing, or nothing useful:
--   1. A blank task title. mc_task_update took p_title "" to the table's constraint (a 400 that could only say "a
--      value is outside what is allowed") and stored "   "; mc_task_create refused "   " as "title is required" but
--      stored a title of tabs or newlines (mesh.check_text trims spaces only). Both now refuse a title that is empty
--      or only whitespace with 400 "title cannot be blank" (mesh.check_title); a null p_title is still "title is
--      required" for mc_task_create, and "keep the title" for mc_task_update.
--   2. mc_worker_claim of a given task (p_task_id) the worker cannot claim answered {task: null, reason: "empty"}, as
--      if its queue were empty. It now says why, as mc_task_claim does (mesh.fail_unclaimable): 404 when the project
--      has no such task, else 409 naming the reason (finished or blocked, not assigned to the worker or assigned to
--      another agent, claimed by an agent until its lease ends, all attempts used, waiting to be retried). The rails
--      answer first as before (stopped, cost_cap, busy, rate_limited), and without p_task_id every answer is
--      unchanged: the hub's held claim and the worker runtime read those reasons. A waiting claim of a given task is
--      refused at once too, as an error ends a held call.
--   3. mc_worker_report from an agent that never held the task answered 409 "this task's lease was lost", which tells
--      a worker whose lease ran out to drop its late result. An agent that is not the task's lease owner and never
--      held an attempt of it (the task was never claimed, or the agent is neither its assignee nor its run's worker)
--      is now told 403 "this task is not held by <agent>"; a worker that held an earlier attempt still gets the 409.
--   4. mc_list_keys showed meshwork and agent null for a key whose project was deleted or whose agent was removed.
--      Such keys are revoked, not deleted (mesh.key_claims names why they stopped), and the list shows revoked keys
--      with their revocation time, so they stay listed, under the names of the project and agent they were for:
--      mesh.api_keys keeps those names (meshwork_name, agent_name) when the project or the agent goes. Keys of agents
--      removed before this migration take the name mesh.removed_agents kept; the names of projects deleted before it
--      were not kept anywhere (but for agents that had sent across a link), so those keys still show null.
--
-- Restated in full, each from its latest definition with only the changes above:
--   mc_task_create, mc_task_update       from 20261122000400_tasks.sql (the title check);
--   mc_worker_claim                      from 20261122005000_worker_claim_wait.sql (the refusal after an "empty");
--   mc_worker_report                     from 20261122003000_pipeline.sql (the 403 before the 409);
--   mc_list_keys                         from 20261122000200_meshworks_agents.sql (the kept names);
--   mesh.on_agent_removed                from 20261122011000_removed_agents.sql (keeps the agent's name on its keys);
--   mc_delete_meshwork                   from 20261122017000_delete_meshwork.sql (keeps the project's name on its keys).

-- 1. Blank titles.

create or replace function mesh.check_title(p_title text, p_required boolean)
returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_title is not null and p_title !~ '[^[:space:]]' then
    perform mesh.fail(400, 'title cannot be blank',
      case when p_required then 'pass p_title: what the task is, in a few words (such as "fix the login test")'
           else 'a task always has a title: leave p_title out to keep it, or pass a new one in a few words' end);
  end if;
  return mesh.check_text('title', p_title, 500, p_required);
end
$$;
comment on function mesh.check_title(text, boolean) is 'Validate a task title: not empty or only whitespace, at most 500 bytes; null is refused only when p_required.';
revoke all on function mesh.check_title(text, boolean) from public;

create or replace function public.mc_task_create(p_meshwork text, p_title text, p_body text default '', p_priority text default 'normal',
  p_assignee text default null, p_dedup_key text default null, p_max_attempts int default 3, p_agent text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_actor uuid;
  v_assignee uuid;
  v_task mesh.tasks;
begin
  perform mesh.require_role(v_mw, 'guest');
  v_actor := mesh.task_actor(v_mw, p_agent);
  perform mesh.check_title(p_title, true);
  perform mesh.check_text('body', p_body, 65536, false);
  perform mesh.check_text('dedup key', p_dedup_key, 200, false);
  perform mesh.check_priority(coalesce(p_priority, 'normal'));
  if p_max_attempts is not null and (p_max_attempts < 1 or p_max_attempts > 100) then
    perform mesh.fail(400, 'max attempts must be between 1 and 100', 'pass p_max_attempts: 3');
  end if;
  if p_assignee is not null then
    v_assignee := mesh.find_agent(v_mw, p_assignee);
  end if;
  insert into mesh.tasks (meshwork_id, title, body, priority, assignee_id, created_by_agent_id, created_by_account_id, dedup_key, max_attempts)
  values (v_mw, p_title, coalesce(p_body, ''), coalesce(p_priority, 'normal'), v_assignee, v_actor, auth.uid(), nullif(p_dedup_key, ''),
    coalesce(p_max_attempts, 3))
  on conflict (meshwork_id, dedup_key) do nothing
  returning * into v_task;
  if v_task.id is null then
    select * into v_task from mesh.tasks t where t.meshwork_id = v_mw and t.dedup_key = p_dedup_key;
    return mesh.task_json(v_task) || '{"duplicate": true}'::jsonb;
  end if;
  perform mesh.log(v_mw, v_actor, 'task', pg_catalog.format('task created: %s', pg_catalog.left(p_title, 200)),
    pg_catalog.jsonb_build_object('task_id', v_task.id, 'status', 'open', 'assignee', p_assignee));
  perform mesh.notify_assignee(v_task, v_actor, 'assigned');
  return mesh.task_json(v_task) || '{"duplicate": false}'::jsonb;
end
$$;

create or replace function public.mc_task_update(p_meshwork text, p_task_id uuid, p_status text default null, p_progress int default null,
  p_result text default null, p_title text default null, p_body text default null, p_priority text default null,
  p_assignee text default null, p_agent text default null, p_lease_seconds int default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_actor uuid;
  v_task mesh.tasks;
  v_before mesh.tasks;
  v_assignee uuid;
begin
  perform mesh.require_role(v_mw, 'guest');
  v_actor := mesh.task_actor(v_mw, p_agent);
  if p_status is not null and p_status not in ('open', 'claimed', 'in_progress', 'blocked', 'done', 'failed', 'cancelled') then
    perform mesh.fail(400, 'status must be open, claimed, in_progress, blocked, done, failed or cancelled', 'pass p_status: done');
  end if;
  if p_progress is not null and (p_progress < 0 or p_progress > 100) then
    perform mesh.fail(400, 'progress must be between 0 and 100', 'pass p_progress: 50');
  end if;
  if p_lease_seconds is not null and (p_lease_seconds < 5 or p_lease_seconds > 86400) then
    perform mesh.fail(400, 'lease must be between 5 and 86400 seconds', 'pass p_lease_seconds: 300');
  end if;
  perform mesh.check_text('result', p_result, 65536, false);
  perform mesh.check_title(p_title, false);
  perform mesh.check_text('body', p_body, 65536, false);
  perform mesh.check_priority(p_priority);
  select * into v_before from mesh.tasks t where t.id = p_task_id and t.meshwork_id = v_mw for no key update;
  if v_before.id is null then
    perform mesh.fail(404, 'no task with that id in this project', 'list tasks with mc_task_list');
  end if;
  -- A bound agent may only change tasks that are unassigned or its own.
  if nullif(auth.jwt() ->> 'agent_id', '') is not null and v_before.assignee_id is not null and v_before.assignee_id <> v_actor then
    perform mesh.fail(403, 'this task is assigned to another agent', 'ask its assignee or the project owner to change it');
  end if;
  if p_assignee is not null then
    v_assignee := case when p_assignee = '' then null else mesh.find_agent(v_mw, p_assignee) end;
  else
    v_assignee := v_before.assignee_id;
  end if;
  update mesh.tasks t set
    status = coalesce(p_status, case when p_progress is not null and t.status in ('open', 'claimed') then 'in_progress' else t.status end),
    progress = coalesce(p_progress, case when p_status = 'done' then 100 else t.progress end),
    result = coalesce(p_result, t.result), title = coalesce(p_title, t.title), body = coalesce(p_body, t.body),
    priority = coalesce(p_priority, t.priority), assignee_id = v_assignee,
    assigned_by_claim = case when p_assignee is not null then false else t.assigned_by_claim end,
    lease_expires_at = case when coalesce(p_status, '') in ('done', 'failed', 'cancelled', 'open') then null
                            when p_lease_seconds is not null then pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds)
                            else t.lease_expires_at end,
    lease_owner = case when coalesce(p_status, '') in ('done', 'failed', 'cancelled', 'open') then null else t.lease_owner end,
    updated_at = pg_catalog.now()
   where t.id = p_task_id returning * into v_task;
  perform mesh.log(v_mw, v_actor, 'task', pg_catalog.format('task %s: %s', v_task.status, pg_catalog.left(v_task.title, 200)),
    pg_catalog.jsonb_build_object('task_id', v_task.id, 'status', v_task.status, 'progress', v_task.progress,
      'from_status', v_before.status, 'assignee', (select a.name from mesh.agents a where a.id = v_task.assignee_id)));
  if v_task.assignee_id is distinct from v_before.assignee_id then
    perform mesh.notify_assignee(v_task, v_actor, 'assigned');
  end if;
  return mesh.task_json(v_task);
end
$$;

-- 2. A worker's claim of a given task.

-- The error of mc_worker_claim for a given task it could not claim, in the order of the claim's own conditions
-- (mesh.worker_claim): the task must be in the project, open, assigned to the worker, with an attempt left and no
-- retry pending. Always raises.
create or replace function mesh.fail_worker_unclaimable(p_meshwork uuid, p_worker uuid, p_task_id uuid)
returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_task mesh.tasks;
  v_worker text;
  v_holder text;
  v_assignee text;
  v_hint text;
begin
  select a.name into v_worker from mesh.agents a where a.id = p_worker;
  v_hint := pg_catalog.format('leave out p_task_id to claim %1$s''s next task, or list its open tasks with '
    'mc_task_list(p_assignee => ''%1$s'', p_status => ''open'')', v_worker);
  select * into v_task from mesh.tasks t where t.id = p_task_id and t.meshwork_id = p_meshwork;
  if v_task.id is null then
    perform mesh.fail(404, pg_catalog.format('no task %s in this project', p_task_id), v_hint);
  end if;
  select a.name into v_holder from mesh.agents a where a.id = v_task.lease_owner;
  select a.name into v_assignee from mesh.agents a where a.id = v_task.assignee_id;
  if v_task.status not in ('open', 'claimed', 'in_progress') then
    perform mesh.fail(409, pg_catalog.format('that task is %s', v_task.status), v_hint);
  elsif v_task.assignee_id is distinct from p_worker then
    perform mesh.fail(409,
      case when v_task.assignee_id is null then pg_catalog.format('that task is not assigned to %s', v_worker)
           else pg_catalog.format('that task is assigned to %s', coalesce(v_assignee, 'another agent')) end,
      pg_catalog.format('a worker claims only the tasks assigned to it: hand it over with '
        'mc_task_update(p_task_id, p_assignee => ''%s'')', v_worker));
  elsif v_task.status <> 'open' then
    perform mesh.fail(409, pg_catalog.format('that task is claimed by %s %s %s', coalesce(v_holder, 'another agent'),
      case when v_task.lease_expires_at >= pg_catalog.now() then 'until' else 'with a lease that ran out at' end,
      pg_catalog.to_char(v_task.lease_expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), v_hint);
  elsif v_task.attempts >= v_task.max_attempts then
    perform mesh.fail(409, pg_catalog.format('that task has used all of its %s attempts', v_task.max_attempts),
      'reopening it does not give it more: create it again with mc_task_create');
  elsif v_task.next_retry_at > pg_catalog.now() then
    perform mesh.fail(409, pg_catalog.format('that task waits to be retried at %s',
      pg_catalog.to_char(v_task.next_retry_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
      'claim it then, or leave out p_task_id to claim the next task now');
  end if;
  perform mesh.fail(409, 'that task is being claimed or changed by another call at this moment', v_hint);
end
$$;
comment on function mesh.fail_worker_unclaimable(uuid, uuid, uuid) is 'The error of mc_worker_claim for a given task it could not claim: 404 when there is none, else why not.';
revoke all on function mesh.fail_worker_unclaimable(uuid, uuid, uuid) from public;

-- mesh.worker_claim itself is unchanged: a delivery's transaction (mesh.hook_ingest_claim) claims the tasks it has just
-- made through it, and gets an answer rather than an error when a rail stops the claim.
create or replace function public.mc_worker_claim(p_meshwork text, p_agent text default null, p_task_id uuid default null,
  p_wait_seconds int default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  v_out jsonb;
begin
  if p_wait_seconds is not null and (p_wait_seconds < 0 or p_wait_seconds > 300) then
    perform mesh.fail(400, 'wait seconds must be between 0 and 300', 'pass p_wait_seconds: 30, or leave it out to answer at once');
  end if;
  v_out := mesh.worker_claim(v_mw, v_id, p_task_id, p_wait_seconds is not null);
  -- Past the rails, "empty" for a given task means that task could not be claimed: say why.
  if p_task_id is not null and v_out ->> 'reason' = 'empty' then
    perform mesh.fail_worker_unclaimable(v_mw, v_id, p_task_id);
  end if;
  return v_out;
end
$$;

-- 3. A report from an agent that never held the task.

create or replace function public.mc_worker_report(p_meshwork text, p_task_id uuid, p_attempt int, p_ok boolean,
  p_output text default null, p_result jsonb default null, p_usage jsonb default null, p_error text default null,
  p_transient boolean default false, p_retry_in_ms bigint default null, p_agent text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  t mesh.tasks;
  r mesh.runs;
  v_cost numeric := 0;
  v_in bigint := 0;
  v_out bigint := 0;
  v_retry_at timestamptz;
  v_dead boolean;
  v_error text := mesh.clip_bytes(coalesce(nullif(p_error, ''), 'the worker reported a failure without a message'), 4000);
begin
  if pg_catalog.jsonb_typeof(p_result) = 'null' then
    p_result := null;
  end if;
  if pg_catalog.jsonb_typeof(p_usage) = 'null' then
    p_usage := null;
  end if;
  if p_result is not null and (pg_catalog.jsonb_typeof(p_result) <> 'object' or pg_catalog.octet_length(p_result::text) > 262144) then
    perform mesh.fail(400, 'result must be a JSON object of at most 256 KB', 'send the parsed worker result');
  end if;
  if p_usage is not null and pg_catalog.jsonb_typeof(p_usage) <> 'object' then
    perform mesh.fail(400, 'usage must be a JSON object', 'send {"input_tokens": 1, "output_tokens": 2, "cost_usd": 0.01}');
  end if;
  select * into t from mesh.tasks tt where tt.id = p_task_id and tt.meshwork_id = v_mw for no key update;
  if t.id is null then
    perform mesh.fail(404, 'no task with that id in this project', 'report the task id mc_worker_claim returned');
  end if;
  if t.lease_owner is distinct from v_id or t.status not in ('claimed', 'in_progress') or t.attempts <> p_attempt then
    -- Only an agent that held an attempt of the task can have lost its lease: a worker claims only the tasks assigned
    -- to it, and the run keeps the worker it was made for.
    if t.lease_owner is distinct from v_id
       and not (t.attempts > 0
                and (t.assignee_id = v_id or exists (select 1 from mesh.runs rr where rr.task_id = t.id and rr.worker_id = v_id))) then
      perform mesh.fail(403, pg_catalog.format('this task is not held by %s', (select a.name from mesh.agents a where a.id = v_id)),
        'report as the worker that claimed it (p_agent), with the p_task_id and run.attempt its mc_worker_claim returned');
    end if;
    perform mesh.fail(409, 'this task''s lease was lost: it was re-dispatched or finished elsewhere',
      'drop this result; the task runs again (or already ran) under a newer lease');
  end if;
  select * into r from mesh.runs rr where rr.task_id = t.id for update;
  if p_usage is not null then
    v_cost := greatest(coalesce((p_usage ->> 'cost_usd')::numeric, 0), 0);
    v_in := greatest(coalesce((p_usage ->> 'input_tokens')::bigint, 0), 0);
    v_out := greatest(coalesce((p_usage ->> 'output_tokens')::bigint, 0), 0);
    if v_cost > 0 or v_in > 0 or v_out > 0 then
      insert into mesh.cost_ledger (meshwork_id, worker_id, task_id, cost_usd, input_tokens, output_tokens)
      values (v_mw, v_id, t.id, v_cost, v_in, v_out);
    end if;
  end if;
  if p_ok then
    update mesh.tasks tt set status = 'done', progress = 100, result = mesh.clip_bytes(coalesce(p_output, ''), 65536),
      lease_owner = null, lease_expires_at = null, updated_at = pg_catalog.now()
     where tt.id = t.id returning * into t;
    update mesh.runs rr set stage = 'result', result = p_result, usage = p_usage, cost_usd = rr.cost_usd + v_cost, error = null,
      updated_at = pg_catalog.now()
     where rr.task_id = t.id;
    perform mesh.trace(v_mw, v_id, 'task.result', 'ok',
      pg_catalog.format('result for task (attempt %s): %s', t.attempts, pg_catalog.left(coalesce(p_output, ''), 200)),
      pg_catalog.jsonb_build_object('event_id', t.source_event_id, 'task_id', t.id, 'attempt', t.attempts, 'cost_usd', v_cost,
        'input_tokens', v_in, 'output_tokens', v_out, 'bytes', pg_catalog.octet_length(coalesce(p_output, ''))));
    perform mesh.schedule_outcome(r.schedule_id, true, null);
    if r.task_id is not null then
      perform mesh.event_settle(r.event_id);
    end if;
    return pg_catalog.jsonb_build_object('status', 'done', 'task_id', t.id);
  end if;
  v_dead := not coalesce(p_transient, false) or t.attempts >= t.max_attempts;
  v_retry_at := case when v_dead then null
                     else pg_catalog.now() + pg_catalog.make_interval(secs => (least(greatest(coalesce(p_retry_in_ms, 30000), 0), 3600000) / 1000.0)::float8) end;
  update mesh.tasks tt set status = case when v_dead then 'dead' else 'open' end, lease_owner = null, lease_expires_at = null,
    next_retry_at = v_retry_at, result = case when v_dead then v_error else tt.result end, updated_at = pg_catalog.now()
   where tt.id = t.id returning * into t;
  update mesh.runs rr set stage = case when v_dead then 'dead' else 'retry' end, error = v_error, usage = coalesce(p_usage, rr.usage),
    cost_usd = rr.cost_usd + v_cost, updated_at = pg_catalog.now()
   where rr.task_id = t.id;
  perform mesh.trace(v_mw, v_id, case when v_dead then 'task.dead_letter' else 'task.retry' end, case when v_dead then 'fail' else 'retry' end,
    case when v_dead then pg_catalog.format('task dead after attempt %s%s: %s', t.attempts,
                            case when coalesce(p_transient, false) then '' else ' (permanent failure)' end, pg_catalog.left(v_error, 200))
         else pg_catalog.format('attempt %s failed, retry at %s: %s', t.attempts,
                pg_catalog.to_char(v_retry_at at time zone 'utc', 'HH24:MI:SS'), pg_catalog.left(v_error, 200)) end,
    pg_catalog.jsonb_build_object('event_id', t.source_event_id, 'task_id', t.id, 'attempt', t.attempts, 'transient', coalesce(p_transient, false),
      'retry_at', v_retry_at, 'error', pg_catalog.left(v_error, 500)));
  if v_dead then
    perform mesh.schedule_outcome(r.schedule_id, false, v_error);
    perform mesh.event_settle(r.event_id);
  end if;
  return pg_catalog.jsonb_build_object('status', t.status, 'task_id', t.id, 'next_retry_at', v_retry_at);
end
$$;
comment on function public.mc_worker_report(text, uuid, int, boolean, text, jsonb, jsonb, text, boolean, bigint, text) is 'Report a claimed task''s outcome (lease owner and attempt only; 403 for an agent that never held it, 409 for a lost lease): result for the policy, retry with backoff, or dead letter.';

-- 4. Keys whose project or agent is gone.

alter table mesh.api_keys add column meshwork_name text, add column agent_name text;
comment on column mesh.api_keys.meshwork_name is 'The name of the key''s project, kept when the project is deleted (mc_list_keys shows it then).';
comment on column mesh.api_keys.agent_name is 'The name of the key''s agent, kept when the agent is removed (mc_list_keys shows it then).';

update mesh.api_keys k set agent_name = r.name, meshwork_name = case when r.meshwork_id is null then r.project end
  from mesh.removed_agents r
 where r.id = k.agent_id;

create or replace function mesh.on_agent_removed()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- Keys revoked earlier keep their revocation time; all of them keep the agent's name.
  update mesh.api_keys k set revoked_at = coalesce(k.revoked_at, pg_catalog.now()), agent_name = old.name
   where k.meshwork_id = old.meshwork_id and k.agent_id = old.id;
  -- Not when the agent goes with its project: the project's own rows go with it too.
  if exists (select 1 from mesh.meshworks w where w.id = old.meshwork_id) then
    insert into mesh.removed_agents (id, meshwork_id, name) values (old.id, old.meshwork_id, old.name);
  end if;
  return old;
end
$$;
comment on function mesh.on_agent_removed() is 'Revoke the keys bound to a removed agent (they keep its name), and keep its name for the messages and tasks that name it.';

create or replace function public.mc_delete_meshwork(p_meshwork text, p_confirm text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_name text;
  v_agents int;
  v_keys int;
begin
  perform mesh.require_role(v_mw, 'owner');
  select m.name into v_name from mesh.meshworks m where m.id = v_mw for update;
  if p_confirm is null or pg_catalog.lower(pg_catalog.btrim(p_confirm)) <> v_name then
    perform mesh.fail(400, pg_catalog.format('to delete project ''%s'', confirm with its name', v_name),
      pg_catalog.format('pass p_confirm: ''%s''; deleting a project cannot be undone', v_name));
  end if;
  -- The senders of messages that live on in linked projects keep their names there: a current agent gets a row, and
  -- one removed before (its row would go with the project) is moved out of it.
  insert into mesh.removed_agents (id, meshwork_id, name, project)
  select distinct on (m.from_agent_id) m.from_agent_id, null, coalesce(a.name, r.name), v_name
    from mesh.sent_across s join mesh.messages m on m.id = s.message_id
    left join mesh.agents a on a.id = m.from_agent_id
    left join mesh.removed_agents r on r.id = m.from_agent_id
   where s.meshwork_id = v_mw and coalesce(a.name, r.name) is not null
  on conflict (id) do update set meshwork_id = null, project = excluded.project;
  select pg_catalog.count(*)::int into v_agents from mesh.agents a where a.meshwork_id = v_mw;
  -- Keys scoped to the project (agents', guests') end now: their held waits are re-checked and refused. Each keeps the
  -- project's name, for mc_list_keys (and its agent's, as the agent goes with the project: mesh.on_agent_removed).
  -- Those revoked before keep their time; now() is this transaction's start, which none of those can have.
  with revoked as (
    update mesh.api_keys k set meshwork_name = v_name, revoked_at = coalesce(k.revoked_at, pg_catalog.now())
     where k.meshwork_id = v_mw returning k.revoked_at
  )
  select pg_catalog.count(*) filter (where r.revoked_at = pg_catalog.now())::int into v_keys from revoked r;
  -- Its live feeds re-read, and end with the project's 404.
  perform mesh.note_changed(v_mw);
  delete from mesh.meshworks m where m.id = v_mw;
  return pg_catalog.jsonb_build_object('deleted', true, 'meshwork', v_name, 'agents', v_agents, 'keys_revoked', v_keys);
end
$$;

create or replace function public.mc_list_keys()
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
begin
  return coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', k.id, 'prefix', k.prefix, 'kind', k.kind, 'label', k.label,
      'meshwork', coalesce((select m.name from mesh.meshworks m where m.id = k.meshwork_id), k.meshwork_name),
      'agent', coalesce((select a.name from mesh.agents a where a.id = k.agent_id), k.agent_name),
      'created_at', k.created_at, 'expires_at', k.expires_at, 'revoked_at', k.revoked_at, 'last_used_at', k.last_used_at) order by k.created_at)
    from mesh.api_keys k where k.account_id = v_uid), '[]'::jsonb);
end
$$;
comment on function public.mc_list_keys() is 'The caller''s keys (prefix only, never the secret); a key whose project or agent is gone is listed, revoked, under the names they had.';
