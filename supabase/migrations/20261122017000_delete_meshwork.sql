-- An owner can delete a project. No RPC did, so a project made to try something stayed forever, with its agents,
-- keys, invites, webhooks and spectator link.
-- mc_delete_meshwork(p_meshwork, p_confirm) takes the project's name again as confirmation, and only the owner's own
-- account key (or dashboard session) may call it: not a member, an agent's key or a guest's. Everything of the project
-- goes with it (its rows cascade). The keys scoped to it are revoked, so their held waits and feeds end at once with
-- 401 saying why, and so does their next request.
-- Messages its agents sent across a link are stored in the other project and stay there. They keep their sender's
-- name: each such sender is recorded in mesh.removed_agents with its project's name (the row outlives the project),
-- so the other side still reads "<project>/<agent>", not "overseer".

alter table mesh.removed_agents alter column meshwork_id drop not null, add column project text;
comment on column mesh.removed_agents.meshwork_id is 'The agent''s project; null once that project was deleted (project then names it).';
comment on column mesh.removed_agents.project is 'The name of the agent''s deleted project, for messages it sent to linked projects.';

create or replace function mesh.agent_label(p_agent uuid, p_meshwork uuid)
returns text
language plpgsql stable
as $$
declare
  v_mw uuid;
  v_name text;
  v_project text;
begin
  select a.meshwork_id, a.name into v_mw, v_name from mesh.agents a where a.id = p_agent;
  if not found then
    select r.meshwork_id, r.name, r.project into v_mw, v_name, v_project from mesh.removed_agents r where r.id = p_agent;
  end if;
  if v_mw = p_meshwork then
    return v_name;
  end if;
  return coalesce((select w.name from mesh.meshworks w where w.id = v_mw), v_project) || '/' || v_name;
end
$$;
comment on function mesh.agent_label(uuid, uuid) is 'Agent name (a removed agent''s as it was), qualified with its project (a deleted one''s as it was) when it is not p_meshwork''s own.';

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
  -- Keys scoped to the project (agents', guests') end now: their held waits are re-checked and refused.
  with revoked as (
    update mesh.api_keys k set revoked_at = pg_catalog.now()
     where k.meshwork_id = v_mw and k.revoked_at is null returning 1
  )
  select pg_catalog.count(*)::int into v_keys from revoked;
  -- Its live feeds re-read, and end with the project's 404.
  perform mesh.note_changed(v_mw);
  delete from mesh.meshworks m where m.id = v_mw;
  return pg_catalog.jsonb_build_object('deleted', true, 'meshwork', v_name, 'agents', v_agents, 'keys_revoked', v_keys);
end
$$;
comment on function public.mc_delete_meshwork(text, text) is 'Owner''s account key only: delete a project and everything in it (p_confirm: its name); keys scoped to it are revoked.';
revoke all on function public.mc_delete_meshwork(text, text) from public, anon;
grant execute on function public.mc_delete_meshwork(text, text) to authenticated, service_role;
