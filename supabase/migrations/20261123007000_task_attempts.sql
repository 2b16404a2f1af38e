-- mc_task_claim ignored a task's max_attempts: a task whose leases kept running out was claimed again and again
-- (attempts 3 of 2) and never ended. Workers' tasks were already dead-lettered by the pipeline when their last
-- attempt's lease ran out; a task held by an agent that is not a worker now ends the same way: it is marked dead
-- (logged) by the hub's pipeline loop within a second of its last attempt's lease running out, or by a claim in its
-- project that comes first, and an expired lease is claimable again only while attempts remain. A task reopened by
-- hand (mc_task_update p_status 'open') is claimable as before.
--
-- mesh.pipeline_expired took the oldest expired leases of any task and only then kept the workers': twenty tasks an
-- editor's agent abandoned with attempts left (claimable again, so never moved) hid every worker's expired lease from
-- the pipeline for good. It now looks at workers' leases only.
--
-- mc_task_claim is the definition of 20261123004000_task_claim_why.sql with the first statement and the attempts
-- condition added.

-- Mark dead the tasks of agents that are not workers (of one project, or of all when p_meshwork is null) whose last
-- attempt's lease ran out; at most p_limit of them. Returns how many.
create or replace function mesh.board_dead_letter(p_meshwork uuid, p_limit int)
returns int
language plpgsql volatile
set search_path = ''
as $$
declare
  v_dead record;
  v_n int := 0;
begin
  for v_dead in
    update mesh.tasks t set status = 'dead', lease_owner = null, lease_expires_at = null, updated_at = pg_catalog.now()
     where t.id in (
       select x.id from mesh.tasks x
        where x.status in ('claimed', 'in_progress') and x.lease_expires_at < pg_catalog.now()
          and x.attempts >= x.max_attempts
          and (p_meshwork is null or x.meshwork_id = p_meshwork)
          and not exists (select 1 from mesh.agents a where a.id = x.lease_owner and a.kind = 'worker')
        order by x.lease_expires_at
        limit p_limit
          for no key update skip locked)
    returning t.id, t.meshwork_id, t.title, t.attempts
  loop
    perform mesh.log(v_dead.meshwork_id, null, 'task',
      pg_catalog.format('task dead after %s %s: %s', v_dead.attempts,
        case when v_dead.attempts = 1 then 'attempt' else 'attempts' end, pg_catalog.left(v_dead.title, 200)),
      pg_catalog.jsonb_build_object('task_id', v_dead.id, 'status', 'dead', 'attempts', v_dead.attempts));
    v_n := v_n + 1;
  end loop;
  return v_n;
end
$$;
comment on function mesh.board_dead_letter(uuid, int) is 'Mark dead the tasks of non-worker agents whose last attempt''s lease ran out (one project, or all).';
revoke all on function mesh.board_dead_letter(uuid, int) from public;

-- Hub: the pipeline loop's sweep over every project.
create or replace function mesh.pipeline_board_dead(p_limit int)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
begin
  return mesh.hub_result(pg_catalog.jsonb_build_object('dead', mesh.board_dead_letter(null, p_limit)));
end
$$;
comment on function mesh.pipeline_board_dead(int) is 'Hub: mark dead the board tasks whose last attempt''s lease ran out.';
revoke all on function mesh.pipeline_board_dead(int) from public;

create or replace function mesh.pipeline_expired(p_limit int)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return (
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('task_id', t.id, 'meshwork_id', t.meshwork_id, 'attempts', t.attempts,
          'max_attempts', t.max_attempts, 'worker', t.worker, 'lease_expires_at', t.lease_expires_at)), '[]'::jsonb)
      from (select t.*, a.name as worker from mesh.tasks t
              join mesh.agents a on a.id = t.lease_owner and a.kind = 'worker'
             where t.status in ('claimed', 'in_progress') and t.lease_expires_at < pg_catalog.now()
             order by t.lease_expires_at limit p_limit) t
  );
end
$$;

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
  perform mesh.board_dead_letter(v_mw, 100);
  select * into v_task from mesh.tasks t
   where t.meshwork_id = v_mw
     and (p_task_id is null or t.id = p_task_id)
     and (t.assignee_id is null or t.assignee_id = v_id or (t.assigned_by_claim and t.lease_expires_at < pg_catalog.now()))
     and (t.status = 'open'
          or (t.status in ('claimed', 'in_progress') and t.lease_expires_at < pg_catalog.now() and t.attempts < t.max_attempts))
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
