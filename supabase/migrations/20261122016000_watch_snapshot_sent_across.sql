-- The spectator snapshot's chat holds the messages the project's agents sent to linked projects, as its activity rows
-- and mc_history already do. It held only messages stored in the project, so a spectator saw the replies a linked
-- project sent in but not what the watched project's agents sent out, until the live stream brought new ones.

create or replace function public.mc_watch_snapshot(p_token text)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.watch_meshwork(mesh.watch_hash(p_token));
  v_latest bigint;
begin
  select coalesce(pg_catalog.max(ac.id), 0) into v_latest from mesh.activity ac where ac.meshwork_id = v_mw;
  return mesh.watch_board(v_mw) || pg_catalog.jsonb_build_object(
    'activity', mesh.watch_rows(v_mw, 0, 100, v_latest + 1),
    'messages', coalesce((select pg_catalog.jsonb_agg(mesh.watch_message(x, v_mw) order by x.created_at, x.id)
      from ((select m.* from mesh.messages m where m.meshwork_id = v_mw order by m.created_at desc, m.id desc limit 50)
            union all
            (select m.* from mesh.sent_across s join mesh.messages m on m.id = s.message_id
              where s.meshwork_id = v_mw order by s.created_at desc, s.message_id desc limit 50)
            order by created_at desc, id desc limit 50) x), '[]'::jsonb),
    'tasks', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('title', mesh.redact(t.title), 'status', t.status,
        'priority', t.priority, 'assignee', (select a.name from mesh.agents a where a.id = t.assignee_id), 'progress', t.progress,
        'updated_at', t.updated_at) order by t.updated_at desc)
      from (select * from mesh.tasks t where t.meshwork_id = v_mw and t.status not in ('done', 'cancelled', 'dead', 'failed')
             order by t.updated_at desc limit 100) t), '[]'::jsonb),
    'latest_activity_id', v_latest);
end
$$;
comment on function public.mc_watch_snapshot(text) is 'Anyone holding a spectator token: the board, recent activity, chat (with what its agents sent to linked projects) and open tasks, read-only and redacted.';
