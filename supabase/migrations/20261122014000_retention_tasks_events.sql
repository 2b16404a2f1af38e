-- Retention covers the rest of a project's history: finished tasks and pipeline events. They grew without bound
-- (a webhook event keeps its payload), whatever the project's retention said.
-- A finished task (done, failed, cancelled, dead) whose last change is older than the cut-off goes with its run and
-- write-backs, but never while a write-back of it is still pending or running; its cost stays in the ledger (the
-- ledger's task goes null), so budgets and totals do not change. A received event goes once it is settled (completed,
-- failed or skipped), older than the cut-off, and no task of it is left. Open tasks, and events still in flight, stay.

create or replace function public.mc_retention(p_meshwork text, p_days int default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
begin
  if p_days is null then
    perform mesh.require_role(v_mw, 'guest');
  else
    perform mesh.require_role(v_mw, 'owner');
    if p_days < 0 or p_days > 3650 then
      perform mesh.fail(400, 'retention must be between 1 and 3650 days, or 0 to keep everything',
        'pass p_days: 90, or 0 to keep everything');
    end if;
    update mesh.meshworks m
       set settings = case when p_days = 0 then m.settings - 'retention_days'
                           else m.settings || pg_catalog.jsonb_build_object('retention_days', p_days) end
     where m.id = v_mw;
    perform mesh.log(v_mw, null, 'settings',
      case when p_days = 0 then 'history is kept forever'
           else pg_catalog.format('history is kept for %s days', p_days) end,
      pg_catalog.jsonb_build_object('retention_days', nullif(p_days, 0)));
  end if;
  return (select pg_catalog.jsonb_build_object('meshwork', m.name, 'retention_days', (m.settings ->> 'retention_days')::int)
            from mesh.meshworks m where m.id = v_mw);
end
$$;
comment on function public.mc_retention(text, int) is 'Read (any member, agent or guest key) or set (owner: p_days 1-3650, or 0 to keep everything) how long the project''s history (chat, activity, finished tasks, pipeline events) is kept.';

-- One batch: at most p_limit rows of each kind, oldest first, across the projects with a retention.
-- One hub at a time prunes (the others find the lock taken and skip the turn).
create or replace function mesh.prune(p_limit int)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  w record;
  v_cut timestamptz;
  v_activity int := 0;
  v_messages int := 0;
  v_tasks int := 0;
  v_events int := 0;
  n int;
begin
  if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('mesh.prune')) then
    return pg_catalog.jsonb_build_object('activity', 0, 'messages', 0, 'tasks', 0, 'events', 0, 'skipped', true);
  end if;
  for w in select m.id, (m.settings ->> 'retention_days')::int as days from mesh.meshworks m
            where pg_catalog.jsonb_typeof(m.settings -> 'retention_days') = 'number' order by m.id loop
    v_cut := pg_catalog.now() - pg_catalog.make_interval(days => w.days);
    -- The oldest rows by id (the index order); ids follow time closely, so those past the cut-off are among them.
    -- When even the oldest is not old enough, that one row is all a pass reads.
    if v_activity < p_limit
       and (select a.created_at from mesh.activity a where a.meshwork_id = w.id order by a.id limit 1) < v_cut then
      with oldest as (
        select a.id, a.created_at from mesh.activity a where a.meshwork_id = w.id order by a.id limit p_limit - v_activity
      ), gone as (
        delete from mesh.activity a using oldest o where a.id = o.id and o.created_at < v_cut returning 1
      )
      select pg_catalog.count(*) into n from gone;
      v_activity := v_activity + n;
    end if;
    if v_messages < p_limit then
      with old as (
        select m.id from mesh.messages m
         where m.meshwork_id = w.id and m.created_at < v_cut
           and not exists (select 1 from mesh.inbox i join mesh.agents ag on ag.id = i.agent_id
                            where i.message_id = m.id and i.seq > ag.acked_seq)
         order by m.created_at, m.id limit p_limit - v_messages
      ), gone as (
        delete from mesh.messages m using old o where m.id = o.id returning 1
      )
      select pg_catalog.count(*) into n from gone;
      v_messages := v_messages + n;
    end if;
    -- Finished tasks, with their runs and write-backs (cascade), unless a write-back is still to be made.
    if v_tasks < p_limit then
      with old as (
        select t.id from mesh.tasks t
         where t.meshwork_id = w.id and t.status in ('done', 'failed', 'cancelled', 'dead') and t.updated_at < v_cut
           and not exists (select 1 from mesh.effects e where e.task_id = t.id and e.state in ('pending', 'running'))
           and not exists (select 1 from mesh.runs r where r.task_id = t.id
                            and r.stage in ('hydrating', 'ready', 'running', 'retry', 'result', 'decided'))
         order by t.updated_at, t.id limit p_limit - v_tasks
      ), gone as (
        delete from mesh.tasks t using old o where t.id = o.id returning 1
      )
      select pg_catalog.count(*) into n from gone;
      v_tasks := v_tasks + n;
    end if;
    -- Settled events none of whose tasks is left (the ones just pruned took their runs with them).
    if v_events < p_limit then
      with old as (
        select e.id from mesh.events e
         where e.meshwork_id = w.id and e.received_at < v_cut and e.updated_at < v_cut
           and e.state in ('completed', 'failed', 'skipped')
           and not exists (select 1 from mesh.runs r where r.event_id = e.id)
           and not exists (select 1 from mesh.effects x where x.event_id = e.id)
         order by e.received_at, e.id limit p_limit - v_events
      ), gone as (
        delete from mesh.events e using old o where e.id = o.id returning 1
      )
      select pg_catalog.count(*) into n from gone;
      v_events := v_events + n;
    end if;
    exit when v_activity >= p_limit and v_messages >= p_limit and v_tasks >= p_limit and v_events >= p_limit;
  end loop;
  return pg_catalog.jsonb_build_object('activity', v_activity, 'messages', v_messages, 'tasks', v_tasks, 'events', v_events);
end
$$;
comment on function mesh.prune(int) is 'Hub-only: delete up to p_limit rows of each kind past their project''s retention: activity, messages every recipient acknowledged, finished tasks with nothing left to write back, settled events with no task left.';
revoke all on function mesh.prune(int) from public;
