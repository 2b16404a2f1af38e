-- Retention: a project's owner may keep its chat and activity for a number of days instead of forever. The hub prunes
-- in small batches in the background (mesh.prune). A message is pruned only once every recipient has acknowledged it,
-- so retention never loses a message an agent has not read; its inbox rows and its record of being sent across a
-- link go with it. Activity rows older than the cut-off go whatever they say. Pipeline events and tasks are kept.

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
      case when p_days = 0 then 'chat and activity are kept forever'
           else pg_catalog.format('chat and activity are kept for %s days', p_days) end,
      pg_catalog.jsonb_build_object('retention_days', nullif(p_days, 0)));
  end if;
  return (select pg_catalog.jsonb_build_object('meshwork', m.name, 'retention_days', (m.settings ->> 'retention_days')::int)
            from mesh.meshworks m where m.id = v_mw);
end
$$;
comment on function public.mc_retention(text, int) is 'Read (any member, agent or guest key) or set (owner: p_days 1-3650, or 0 to keep everything) how long the project''s chat and activity are kept.';
revoke all on function public.mc_retention(text, int) from public, anon;
grant execute on function public.mc_retention(text, int) to authenticated, service_role;

-- One batch: at most p_limit activity rows and p_limit messages, oldest first, across the projects with a retention.
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
  n int;
begin
  if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('mesh.prune')) then
    return pg_catalog.jsonb_build_object('activity', 0, 'messages', 0, 'skipped', true);
  end if;
  for w in select m.id, (m.settings ->> 'retention_days')::int as days from mesh.meshworks m
            where pg_catalog.jsonb_typeof(m.settings -> 'retention_days') = 'number' order by m.id loop
    v_cut := pg_catalog.now() - pg_catalog.make_interval(days => w.days);
    -- The oldest rows by id (the index order); ids follow time closely, so those past the cut-off are among them.
    -- When even the oldest is not old enough, that one row is all a pass reads.
    if (select a.created_at from mesh.activity a where a.meshwork_id = w.id order by a.id limit 1) < v_cut then
      with oldest as (
        select a.id, a.created_at from mesh.activity a where a.meshwork_id = w.id order by a.id limit p_limit - v_activity
      ), gone as (
        delete from mesh.activity a using oldest o where a.id = o.id and o.created_at < v_cut returning 1
      )
      select pg_catalog.count(*) into n from gone;
      v_activity := v_activity + n;
    end if;
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
    exit when v_activity >= p_limit or v_messages >= p_limit;
  end loop;
  return pg_catalog.jsonb_build_object('activity', v_activity, 'messages', v_messages);
end
$$;
comment on function mesh.prune(int) is 'Hub-only: delete up to p_limit activity rows and messages past their project''s retention (messages only once every recipient acknowledged them).';
revoke all on function mesh.prune(int) from public;
