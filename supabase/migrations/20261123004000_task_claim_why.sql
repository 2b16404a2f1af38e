-- mc_task_claim of a given task that cannot be claimed says why. A task of another project, or none, is a 404 (it was
-- a 409 "not claimable"); a task that exists says which it is: finished or blocked, claimed by an agent until its
-- lease ends, assigned to another agent, waiting to be retried, or being claimed at this moment. mc_task_claim is the definition of
-- 20261122000400_tasks.sql with the refusal made by mesh.fail_unclaimable.

create or replace function mesh.fail_unclaimable(p_meshwork uuid, p_agent uuid, p_task_id uuid)
returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_task mesh.tasks;
  v_hint constant text := 'list open tasks with mc_task_list(p_status => ''open'')';
  v_holder text;
  v_assignee text;
begin
  select * into v_task from mesh.tasks t where t.id = p_task_id and t.meshwork_id = p_meshwork;
  if v_task.id is null then
    perform mesh.fail(404, pg_catalog.format('no task %s in this project', p_task_id), v_hint);
  end if;
  select a.name into v_holder from mesh.agents a where a.id = v_task.lease_owner;
  select a.name into v_assignee from mesh.agents a where a.id = v_task.assignee_id;
  if v_task.status not in ('open', 'claimed', 'in_progress') then
    perform mesh.fail(409, pg_catalog.format('that task is %s', v_task.status), v_hint);
  elsif v_task.status <> 'open' and v_task.lease_expires_at >= pg_catalog.now() then
    perform mesh.fail(409, pg_catalog.format('that task is claimed by %s until %s', coalesce(v_holder, 'another agent'),
      pg_catalog.to_char(v_task.lease_expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), v_hint);
  elsif v_task.assignee_id is not null and v_task.assignee_id <> p_agent
        and not (v_task.assigned_by_claim and v_task.lease_expires_at < pg_catalog.now()) then
    perform mesh.fail(409, pg_catalog.format('that task is assigned to %s', coalesce(v_assignee, 'another agent')), v_hint);
  elsif v_task.next_retry_at > pg_catalog.now() then
    perform mesh.fail(409, pg_catalog.format('that task waits to be retried at %s',
      pg_catalog.to_char(v_task.next_retry_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
      'claim it then, or another task now');
  end if;
  perform mesh.fail(409, 'that task is being claimed by another agent at this moment', v_hint);
end
$$;
comment on function mesh.fail_unclaimable(uuid, uuid, uuid) is 'The error of mc_task_claim for a given task it could not claim: 404 when there is none, else why not.';
revoke all on function mesh.fail_unclaimable(uuid, uuid, uuid) from public;

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
      perform mesh.fail_unclaimable(v_mw, v_id, p_task_id);
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
