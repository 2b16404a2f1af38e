-- The task board: status, priority, assignee, progress, result; claims carry a lease so a crashed claimer's
-- task becomes claimable again; assigning a task wakes the assignee through its inbox.

create table mesh.tasks (
  id uuid primary key default gen_random_uuid(),
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  title text not null,
  body text not null default '',
  status text not null default 'open' check (status in ('open', 'claimed', 'in_progress', 'blocked', 'done', 'failed', 'cancelled', 'dead')),
  priority text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
  assignee_id uuid references mesh.agents (id) on delete set null,
  assigned_by_claim boolean not null default false,
  created_by_agent_id uuid references mesh.agents (id) on delete set null,
  created_by_account_id uuid,
  progress int not null default 0 check (progress between 0 and 100),
  result text,
  attempts int not null default 0,
  max_attempts int not null default 3 check (max_attempts between 1 and 100),
  next_retry_at timestamptz,
  lease_owner uuid references mesh.agents (id) on delete set null,
  lease_expires_at timestamptz,
  source_event_id uuid,
  dedup_key text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tasks_title_size check (octet_length(title) between 1 and 500),
  constraint tasks_body_size check (octet_length(body) <= 65536),
  constraint tasks_result_size check (octet_length(result) <= 65536),
  constraint tasks_dedup_key unique (meshwork_id, dedup_key)
);
comment on table mesh.tasks is 'Task board rows. A claim takes a lease; an expired lease makes the task claimable again.';
create index tasks_meshwork_status_idx on mesh.tasks (meshwork_id, status, updated_at desc);
create index tasks_assignee_id_idx on mesh.tasks (assignee_id, status);
alter table mesh.tasks enable row level security;
create policy "tasks are visible to members of their meshwork" on mesh.tasks for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.tasks.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

create or replace function mesh.task_json(t mesh.tasks)
returns jsonb
language sql stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('id', t.id, 'title', t.title, 'body', t.body, 'status', t.status, 'priority', t.priority,
    'assignee', (select a.name from mesh.agents a where a.id = t.assignee_id),
    'created_by', coalesce((select a.name from mesh.agents a where a.id = t.created_by_agent_id), 'overseer'),
    'progress', t.progress, 'result', t.result, 'attempts', t.attempts, 'max_attempts', t.max_attempts,
    'lease_expires_at', t.lease_expires_at, 'dedup_key', t.dedup_key, 'created_at', t.created_at, 'updated_at', t.updated_at)
$$;
comment on function mesh.task_json(mesh.tasks) is 'Wire shape of a task.';

create or replace function mesh.check_priority(p text)
returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  if p is not null and p not in ('low', 'normal', 'high', 'urgent') then
    perform mesh.fail(400, 'priority must be low, normal, high or urgent', 'pass p_priority: normal');
  end if;
  return p;
end
$$;
comment on function mesh.check_priority(text) is 'Validate a task priority.';

-- The actor for a task change: the bound agent, the named agent, or the overseer (null).
create or replace function mesh.task_actor(p_meshwork uuid, p_agent text)
returns uuid
language plpgsql stable
set search_path = ''
as $$
begin
  if p_agent is not null or nullif(auth.jwt() ->> 'agent_id', '') is not null then
    return mesh.resolve_agent(p_meshwork, p_agent);
  end if;
  return null;
end
$$;
comment on function mesh.task_actor(uuid, text) is 'Agent acting on the board (null = a person in the dashboard or CLI).';

create or replace function mesh.notify_assignee(t mesh.tasks, p_actor uuid, p_verb text)
returns void
language plpgsql volatile
set search_path = ''
as $$
begin
  if t.assignee_id is not null and t.assignee_id is distinct from p_actor then
    perform mesh.post_message(t.meshwork_id, p_actor, array[t.assignee_id], false, 'system',
      pg_catalog.format('task %s: %s', p_verb, t.title),
      pg_catalog.jsonb_build_object('task_id', t.id, 'task', mesh.task_json(t)), null, null, null, null);
  end if;
end
$$;
comment on function mesh.notify_assignee(mesh.tasks, uuid, text) is 'Deliver a system message to a task''s assignee (wakes its meshcode_wait).';

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
  perform mesh.check_text('title', p_title, 500);
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
comment on function public.mc_task_create(text, text, text, text, text, text, int, text) is 'Add a task to the board (p_dedup_key makes it idempotent); the assignee is woken.';

create or replace function public.mc_task_list(p_meshwork text, p_status text default null, p_assignee text default null, p_limit int default 200)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_assignee uuid;
  v_limit int := least(greatest(coalesce(p_limit, 200), 1), 1000);
begin
  perform mesh.require_role(v_mw, 'guest');
  if p_assignee is not null then
    v_assignee := mesh.find_agent(v_mw, p_assignee);
  end if;
  if p_status is not null and p_status not in ('open', 'claimed', 'in_progress', 'blocked', 'done', 'failed', 'cancelled', 'dead', 'active') then
    perform mesh.fail(400, 'status must be open, claimed, in_progress, blocked, done, failed, cancelled, dead or active', 'pass p_status: open');
  end if;
  return coalesce((select pg_catalog.jsonb_agg(mesh.task_json(x) order by
      case x.priority when 'urgent' then 0 when 'high' then 1 when 'normal' then 2 else 3 end, x.created_at)
    from (select t.* from mesh.tasks t
           where t.meshwork_id = v_mw
             and (p_status is null or t.status = p_status
                  or (p_status = 'active' and t.status in ('open', 'claimed', 'in_progress', 'blocked')))
             and (v_assignee is null or t.assignee_id = v_assignee)
           order by t.updated_at desc limit v_limit) x), '[]'::jsonb);
end
$$;
comment on function public.mc_task_list(text, text, text, int) is 'The board, by priority then age; p_status "active" = not finished.';

create or replace function public.mc_task_claim(p_meshwork text, p_agent text default null, p_task_id uuid default null, p_lease_seconds int default 300)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  v_task mesh.tasks;
begin
  if p_lease_seconds is null or p_lease_seconds < 5 or p_lease_seconds > 86400 then
    perform mesh.fail(400, 'lease must be between 5 and 86400 seconds', 'pass p_lease_seconds: 300');
  end if;
  select * into v_task from mesh.tasks t
   where t.meshwork_id = v_mw
     and (p_task_id is null or t.id = p_task_id)
     and (t.assignee_id is null or t.assignee_id = v_id or (t.assigned_by_claim and t.lease_expires_at < pg_catalog.now()))
     and (t.status = 'open' or (t.status in ('claimed', 'in_progress') and t.lease_expires_at < pg_catalog.now()))
     and (t.next_retry_at is null or t.next_retry_at <= pg_catalog.now())
   order by case t.priority when 'urgent' then 0 when 'high' then 1 when 'normal' then 2 else 3 end, t.created_at
   limit 1
   for no key update skip locked;
  if v_task.id is null then
    if p_task_id is not null then
      perform mesh.fail(409, 'that task is not claimable: it is assigned to another agent, already claimed, or finished',
        'list open tasks with mc_task_list(p_status => ''open'')');
    end if;
    return pg_catalog.jsonb_build_object('task', null);
  end if;
  update mesh.tasks t set status = 'claimed', assignee_id = v_id, lease_owner = v_id, attempts = t.attempts + 1,
    assigned_by_claim = (t.assignee_id is null or t.assigned_by_claim),
    lease_expires_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds), updated_at = pg_catalog.now()
   where t.id = v_task.id returning * into v_task;
  perform mesh.log(v_mw, v_id, 'task', pg_catalog.format('task claimed: %s', pg_catalog.left(v_task.title, 200)),
    pg_catalog.jsonb_build_object('task_id', v_task.id, 'status', 'claimed', 'attempt', v_task.attempts));
  return pg_catalog.jsonb_build_object('task', mesh.task_json(v_task));
end
$$;
comment on function public.mc_task_claim(text, text, uuid, int) is 'Claim a specific task or the next claimable one (priority, then age) with a lease.';

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
  perform mesh.check_text('title', p_title, 500, false);
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
comment on function public.mc_task_update(text, uuid, text, int, text, text, text, text, text, text, int) is 'Change a task: status, progress, result, fields, assignee (the new assignee is woken); extends the lease when asked.';

do $$
declare
  f text;
begin
  foreach f in array array[
    'mc_task_create(text, text, text, text, text, text, int, text)', 'mc_task_list(text, text, text, int)',
    'mc_task_claim(text, text, uuid, int)', 'mc_task_update(text, uuid, text, int, text, text, text, text, text, text, int)']
  loop
    execute format('revoke all on function public.%s from public, anon', f);
    execute format('grant execute on function public.%s to authenticated, service_role', f);
  end loop;
end
$$;
