-- Errors that named the wrong thing, found by a client written from the README alone:
-- 1. mc_get_agent and mc_worker_get without p_name answered "agent is required" with the hint "pass p_agent"; they take
--    p_name. mesh.resolve_agent now takes the name of the argument the agent came from (p_agent unless said), and a
--    bound key naming another agent is told to leave that argument out (it said "run meshcode run <agent>", a command
--    of the CLI, to a caller of the RPC).
-- 2. mc_memory_get, mc_memory_set and mc_memory_delete with an owner's key and no p_agent answered 404 "no agent ''"
--    (the agent was looked up by an empty name); now 400 "agent is required", naming p_agent.
-- 3. mc_link by the name of the project it is called for answered 404 "could not find project"; now 400 "a project
--    cannot be linked with itself", as linking by its id already did.
-- The helpers keep no SET clause of their own (see 20261122004000_bus_fast_path.sql): they only run inside entry points
-- that fix search_path.

drop function mesh.resolve_agent(uuid, text);

-- Resolve the agent the caller acts as. A key bound to an agent can only ever be that agent.
create function mesh.resolve_agent(p_meshwork uuid, p_name text, p_arg text default 'p_agent')
returns uuid
language plpgsql stable
as $$
declare
  v_bound uuid := nullif(auth.jwt() ->> 'agent_id', '')::uuid;
  v_id uuid;
  v_bound_name text;
  v_names text;
begin
  if v_bound is not null then
    select a.name into v_bound_name from mesh.agents a where a.id = v_bound;
    if p_name is not null and pg_catalog.lower(pg_catalog.btrim(p_name)) <> coalesce(v_bound_name, '') then
      perform mesh.fail(403, pg_catalog.format('this key is bound to agent ''%s'' and cannot act as ''%s''', v_bound_name, pg_catalog.left(p_name, 80)),
        pg_catalog.format('leave %s out (this key acts as %s), or use a key of %s''s', p_arg, v_bound_name, pg_catalog.left(p_name, 80)));
    end if;
    return v_bound;
  end if;
  if p_name is null or pg_catalog.btrim(p_name) = '' then
    perform mesh.fail(400, 'agent is required', pg_catalog.format('pass %s: the agent name', p_arg));
  end if;
  select a.id into v_id from mesh.agents a where a.meshwork_id = p_meshwork and a.name = pg_catalog.lower(pg_catalog.btrim(p_name));
  if v_id is null then
    select pg_catalog.string_agg(a.name, ', ' order by a.name) into v_names from mesh.agents a where a.meshwork_id = p_meshwork;
    perform mesh.fail(404, pg_catalog.format('no agent ''%s'' in this project', pg_catalog.left(p_name, 80)),
      case when v_names is null then 'add one with meshcode setup <project> <agent>'
           else 'agents here: ' || mesh.name_list(pg_catalog.string_to_array(v_names, ', ')) end,
      coalesce(v_names, ''));
  end if;
  return v_id;
end
$$;
comment on function mesh.resolve_agent(uuid, text, text) is 'Agent name -> id in the meshwork; a bound key is forced to its own agent (no impersonation). p_arg names the argument in the error when none is given.';

create or replace function public.mc_get_agent(p_meshwork text, p_name text default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_agent mesh.agents;
begin
  select * into v_agent from mesh.agents a where a.id = mesh.resolve_agent(v_mw, p_name, 'p_name');
  return mesh.agent_json(v_agent) || pg_catalog.jsonb_build_object('launch_prompt', v_agent.launch_prompt,
    'meshwork', (select m.name from mesh.meshworks m where m.id = v_mw), 'meshwork_id', v_mw,
    'inbox_seq', v_agent.inbox_seq, 'acked_seq', v_agent.acked_seq);
end
$$;

create or replace function public.mc_worker_get(p_meshwork text, p_name text default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_name, 'p_name');
  w mesh.workers;
  a mesh.agents;
begin
  select * into w from mesh.workers ww where ww.agent_id = v_id;
  select * into a from mesh.agents aa where aa.id = v_id;
  if w.agent_id is null then
    perform mesh.fail(404, pg_catalog.format('agent ''%s'' is not a worker', a.name), 'add it with meshcode worker add <file> --project <project>');
  end if;
  return mesh.worker_json(w, a) || pg_catalog.jsonb_build_object('definition', w.definition, 'spec', w.spec,
    'meshwork', (select m.name from mesh.meshworks m where m.id = v_mw), 'meshwork_id', v_mw);
end
$$;

create or replace function mesh.memory_agent(p_meshwork uuid, p_agent text)
returns uuid
language plpgsql stable
as $$
begin
  if mesh.caller_scope() <> 'owner' then
    return mesh.resolve_agent(p_meshwork, p_agent);
  end if;
  perform mesh.require_role(p_meshwork, 'member');
  if p_agent is null or pg_catalog.btrim(p_agent) = '' then
    perform mesh.fail(400, 'agent is required', 'pass p_agent: whose memory (the agent name)');
  end if;
  return mesh.find_agent(p_meshwork, p_agent);
end
$$;

create or replace function mesh.link_target(p_meshwork uuid, p_ref text, p_uid uuid)
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  v_ref text := pg_catalog.lower(pg_catalog.btrim(coalesce(p_ref, '')));
  v_ids uuid[];
begin
  if v_ref = '' then
    perform mesh.fail(400, 'target project is required', 'pass p_target: the other project''s id (or its name, when it asked you first)');
  end if;
  if pg_catalog.octet_length(v_ref) > 200 then
    perform mesh.fail(400, 'target project is longer than 200 bytes', 'pass the other project''s id');
  end if;
  if v_ref ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select pg_catalog.array_agg(m.id) into v_ids from mesh.meshworks m where m.id = v_ref::uuid;
  else
    select pg_catalog.array_agg(distinct m.id) into v_ids from mesh.meshworks m
     where m.name = v_ref and m.id <> p_meshwork
       and (exists (select 1 from mesh.members mb where mb.meshwork_id = m.id and mb.account_id = p_uid and mb.role = 'owner' and mb.revoked_at is null)
            or exists (select 1 from mesh.links l where l.meshwork_id = m.id and l.target_id = p_meshwork));
    -- Another project of that name (one that asked to link) is meant before this one.
    if v_ids is null and exists (select 1 from mesh.meshworks m where m.id = p_meshwork and m.name = v_ref) then
      v_ids := array[p_meshwork];
    end if;
  end if;
  if v_ids is null then
    perform mesh.fail(404, pg_catalog.format('could not find project ''%s'' to link', pg_catalog.left(p_ref, 80)),
      'pass the other project''s id (its owner sees it with meshcode projects --json), or its name once it asked to link');
  end if;
  if pg_catalog.cardinality(v_ids) > 1 then
    perform mesh.fail(409, pg_catalog.format('several projects named ''%s'' could be meant', pg_catalog.left(p_ref, 80)), 'pass the project id instead');
  end if;
  if v_ids[1] = p_meshwork then
    perform mesh.fail(400, 'a project cannot be linked with itself', 'pass another project');
  end if;
  return v_ids[1];
end
$$;

-- The full memory's hint named only the MCP tool (meshcode_forget); a caller of the RPC deletes with mc_memory_delete.
create or replace function mesh.enforce_memory_limit()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform 1 from mesh.agents a where a.id = new.agent_id for no key update;
  -- An upsert of an existing key fires this trigger too; it does not add a key.
  if exists (select 1 from mesh.agent_memory m where m.agent_id = new.agent_id and m.key = new.key) then
    return new;
  end if;
  if (select pg_catalog.count(*) from mesh.agent_memory m where m.agent_id = new.agent_id) >= 100 then
    perform mesh.fail(400, 'memory is full: an agent keeps at most 100 keys',
      'forget a key you no longer need first (mc_memory_delete; meshcode_forget from an editor)');
  end if;
  return new;
end
$$;
