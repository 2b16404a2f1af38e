-- Meshworks (projects), their members, their agents with presence, and the append-only activity log.

create table mesh.meshworks (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references mesh.accounts (id) on delete cascade,
  name text not null,
  spectator_token_hash text unique,
  settings jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint meshworks_owner_name_key unique (owner_id, name),
  constraint meshworks_name_format check (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$')
);
comment on table mesh.meshworks is 'A project: a team of agents. Name unique per owner.';
create index meshworks_name_idx on mesh.meshworks (name);
alter table mesh.meshworks enable row level security;

create table mesh.members (
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  account_id uuid not null references mesh.accounts (id) on delete cascade,
  role text not null check (role in ('owner', 'member', 'guest')),
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  primary key (meshwork_id, account_id)
);
comment on table mesh.members is 'Who belongs to a meshwork, with role owner / member / guest; revoked_at ends membership.';
create index members_account_id_idx on mesh.members (account_id);
alter table mesh.members enable row level security;

create policy "meshworks are visible to their members" on mesh.meshworks for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));
create policy "members see their own memberships" on mesh.members for select to authenticated
  using (account_id = (select auth.uid()));

create table mesh.agents (
  id uuid primary key default gen_random_uuid(),
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  name text not null,
  role text not null default '',
  launch_prompt text not null default '',
  kind text not null default 'editor' check (kind in ('editor', 'worker', 'daemon')),
  editor text,
  status text not null default 'offline' check (status in ('online', 'waiting', 'working', 'idle', 'offline')),
  status_detail text not null default '',
  last_seen_at timestamptz,
  session_id text,
  session_host text,
  session_at timestamptz,
  inbox_seq bigint not null default 0,
  acked_seq bigint not null default 0,
  created_at timestamptz not null default now(),
  constraint agents_meshwork_name_key unique (meshwork_id, name),
  constraint agents_name_format check (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  constraint agents_role_size check (octet_length(role) <= 2000),
  constraint agents_launch_prompt_size check (octet_length(launch_prompt) <= 20000),
  constraint agents_acked_not_ahead check (acked_seq <= inbox_seq)
);
comment on table mesh.agents is 'An agent slot: editor window, worker or daemon. inbox_seq is the per-recipient gapless counter; acked_seq the stored cursor; session_* the split-brain lock.';
alter table mesh.agents enable row level security;
create policy "agents are visible to members of their meshwork" on mesh.agents for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.agents.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

create table mesh.activity (
  id bigint generated always as identity primary key,
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  agent_id uuid references mesh.agents (id) on delete set null,
  account_id uuid,
  kind text not null,
  summary text not null default '',
  data jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
comment on table mesh.activity is 'Append-only log of everything that happens in a meshwork: replay, audit and the live feeds.';
create index activity_meshwork_id_idx on mesh.activity (meshwork_id, id);
create index activity_agent_id_idx on mesh.activity (agent_id, id);
alter table mesh.activity enable row level security;
create policy "activity is visible to members of its meshwork" on mesh.activity for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.activity.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

create or replace function mesh.log(p_meshwork uuid, p_agent uuid, p_kind text, p_summary text, p_data jsonb default '{}'::jsonb)
returns void
language plpgsql volatile
set search_path = ''
as $$
begin
  insert into mesh.activity (meshwork_id, agent_id, account_id, kind, summary, data)
  values (p_meshwork, p_agent, auth.uid(), p_kind, pg_catalog.left(coalesce(p_summary, ''), 500), coalesce(p_data, '{}'::jsonb));
  if position(p_meshwork::text in coalesce(pg_catalog.current_setting('mesh.changed', true), '')) = 0 then
    perform pg_catalog.set_config('mesh.changed',
      coalesce(nullif(pg_catalog.current_setting('mesh.changed', true), '') || ',', '') || p_meshwork::text, true);
  end if;
end
$$;
comment on function mesh.log(uuid, uuid, text, text, jsonb) is 'Append to activity and mark the meshwork''s live feeds dirty.';

-- Presence: a row's status holds while the agent was seen in the last 90 s; the hub refreshes agents it holds waits for.
create or replace function mesh.presence(p_status text, p_last_seen timestamptz)
returns text
language sql stable
set search_path = ''
as $$
  select case when p_last_seen is null or p_last_seen < pg_catalog.now() - interval '90 seconds' then 'offline' else p_status end
$$;
comment on function mesh.presence(text, timestamptz) is 'Effective presence: the stored status, or offline when not seen for 90 s.';

create or replace function mesh.member_role(p_meshwork uuid, p_account uuid)
returns text
language sql stable
set search_path = ''
as $$
  select mb.role from mesh.members mb where mb.meshwork_id = p_meshwork and mb.account_id = p_account and mb.revoked_at is null
$$;
comment on function mesh.member_role(uuid, uuid) is 'The account''s live role in the meshwork, or null.';

-- A readable list of names for a hint: the first 20, then how many more.
create or replace function mesh.name_list(p_names text[])
returns text
language sql immutable
set search_path = ''
as $$
  select case when pg_catalog.cardinality(p_names) = 0 or p_names is null then null
              when pg_catalog.cardinality(p_names) <= 20 then pg_catalog.array_to_string(p_names, ', ')
              else pg_catalog.array_to_string(p_names[1:20], ', ') || pg_catalog.format(' and %s more', pg_catalog.cardinality(p_names) - 20)
         end
$$;
comment on function mesh.name_list(text[]) is 'First 20 names joined, then "and N more": hints stay short.';

-- Resolve a project reference (name or id) the caller may use. Scoped keys reach only their own meshwork.
create or replace function mesh.resolve_meshwork(p_ref text)
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  v_uid uuid := mesh.caller_account();
  v_scope_mw uuid := nullif(auth.jwt() ->> 'meshwork_id', '')::uuid;
  v_ref text := pg_catalog.btrim(coalesce(p_ref, ''));
  v_id uuid;
  v_names text;
begin
  if v_ref = '' then
    perform mesh.fail(400, 'project is required', 'pass p_meshwork: a project name or id');
  end if;
  if pg_catalog.octet_length(v_ref) > 200 then
    perform mesh.fail(400, 'project reference is longer than 200 bytes', 'pass a project name or id');
  end if;
  if v_ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select m.id into v_id from mesh.meshworks m
      join mesh.members mb on mb.meshwork_id = m.id and mb.account_id = v_uid and mb.revoked_at is null
     where m.id = v_ref::uuid;
  else
    select m.id into v_id from mesh.meshworks m
      join mesh.members mb on mb.meshwork_id = m.id and mb.account_id = v_uid and mb.revoked_at is null
     where m.name = pg_catalog.lower(v_ref)
     order by (m.owner_id = v_uid) desc, m.created_at
     limit 1;
  end if;
  if v_scope_mw is not null and (v_id is null or v_id <> v_scope_mw) then
    perform mesh.fail(403, 'scoped api key cannot access this project',
      'this key was minted for one agent slot in one project; run meshcode members <project> to see which');
  end if;
  if v_id is null then
    select pg_catalog.string_agg(m.name, ', ' order by m.name) into v_names
      from mesh.meshworks m join mesh.members mb on mb.meshwork_id = m.id and mb.account_id = v_uid and mb.revoked_at is null;
    perform mesh.fail(404, pg_catalog.format('could not resolve project ''%s'': project not found', pg_catalog.left(v_ref, 80)),
      case when v_names is null then 'you have no projects yet; create one with meshcode setup <project> <agent>'
           else 'run meshcode projects to list yours' end,
      coalesce(v_names, ''));
  end if;
  return v_id;
end
$$;
comment on function mesh.resolve_meshwork(text) is 'Project name or id -> meshwork id the caller belongs to; 403 for another project under a scoped key; 404 with the caller''s project names.';

create or replace function mesh.require_role(p_meshwork uuid, p_min text)
returns text
language plpgsql stable
set search_path = ''
as $$
declare
  v_role text := mesh.member_role(p_meshwork, mesh.caller_account());
  v_rank int := case v_role when 'owner' then 3 when 'member' then 2 when 'guest' then 1 else 0 end;
  v_need int := case p_min when 'owner' then 3 when 'member' then 2 else 1 end;
begin
  if v_rank < v_need or (p_min <> 'guest' and mesh.caller_scope() <> 'owner') then
    perform mesh.fail(403, pg_catalog.format('this needs the %s role in the project', p_min),
      'ask the project owner, or use the owner''s account key');
  end if;
  return v_role;
end
$$;
comment on function mesh.require_role(uuid, text) is 'Require at least owner / member / guest in the meshwork; scoped keys only pass the guest level.';

-- Resolve the agent the caller acts as. A key bound to an agent can only ever be that agent.
create or replace function mesh.resolve_agent(p_meshwork uuid, p_name text)
returns uuid
language plpgsql stable
set search_path = ''
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
        pg_catalog.format('run meshcode run %s', v_bound_name));
    end if;
    return v_bound;
  end if;
  if p_name is null or pg_catalog.btrim(p_name) = '' then
    perform mesh.fail(400, 'agent is required', 'pass p_agent: the agent name');
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
comment on function mesh.resolve_agent(uuid, text) is 'Agent name -> id in the meshwork; a bound key is forced to its own agent (no impersonation).';

-- Look up any agent in the meshwork by name (as a target, not as the actor).
create or replace function mesh.find_agent(p_meshwork uuid, p_name text)
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  v_id uuid;
  v_names text;
begin
  select a.id into v_id from mesh.agents a where a.meshwork_id = p_meshwork and a.name = pg_catalog.lower(pg_catalog.btrim(coalesce(p_name, '')));
  if v_id is null then
    select pg_catalog.string_agg(a.name, ', ' order by a.name) into v_names from mesh.agents a where a.meshwork_id = p_meshwork;
    perform mesh.fail(404, pg_catalog.format('no agent ''%s'' in this project', pg_catalog.left(coalesce(p_name, ''), 80)),
      case when v_names is null then 'the project has no agents yet'
           else 'agents here: ' || mesh.name_list(pg_catalog.string_to_array(v_names, ', ')) end, coalesce(v_names, ''));
  end if;
  return v_id;
end
$$;
comment on function mesh.find_agent(uuid, text) is 'Target agent name -> id in the meshwork, 404 listing the names otherwise.';

create or replace function mesh.agent_json(a mesh.agents)
returns jsonb
language sql stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('id', a.id, 'name', a.name, 'role', a.role, 'kind', a.kind, 'editor', a.editor,
    'status', mesh.presence(a.status, a.last_seen_at), 'status_detail', a.status_detail, 'last_seen_at', a.last_seen_at,
    'session_host', a.session_host, 'created_at', a.created_at)
$$;
comment on function mesh.agent_json(mesh.agents) is 'Public shape of an agent (no session id, no counters).';

-- ---------------------------------------------------------------------------------------------- RPCs

create or replace function public.mc_whoami()
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.caller_account();
  v jsonb;
begin
  select pg_catalog.jsonb_build_object('account', pg_catalog.jsonb_build_object('id', ac.id, 'email', ac.email, 'display_name', ac.display_name),
      'key', pg_catalog.jsonb_build_object('id', auth.jwt() ->> 'key_id', 'scope', mesh.caller_scope(),
        'meshwork', (select m.name from mesh.meshworks m where m.id = nullif(auth.jwt() ->> 'meshwork_id', '')::uuid),
        'meshwork_id', nullif(auth.jwt() ->> 'meshwork_id', ''),
        'agent', (select a.name from mesh.agents a where a.id = nullif(auth.jwt() ->> 'agent_id', '')::uuid)))
    into v from mesh.accounts ac where ac.id = v_uid;
  return v;
end
$$;
comment on function public.mc_whoami() is 'The calling account and the scope of the key used.';

create or replace function public.mc_create_meshwork(p_name text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_name text := mesh.check_name('project name', p_name);
  v_id uuid;
begin
  insert into mesh.meshworks (owner_id, name) values (v_uid, v_name)
  on conflict (owner_id, name) do nothing returning id into v_id;
  if v_id is null then
    perform mesh.fail(409, pg_catalog.format('you already have a project named ''%s''', v_name), 'pick another name or use the existing project');
  end if;
  insert into mesh.members (meshwork_id, account_id, role) values (v_id, v_uid, 'owner');
  perform mesh.log(v_id, null, 'meshwork', pg_catalog.format('project %s created', v_name));
  return pg_catalog.jsonb_build_object('id', v_id, 'name', v_name, 'role', 'owner');
end
$$;
comment on function public.mc_create_meshwork(text) is 'Create a project owned by the caller.';

create or replace function public.mc_list_meshworks()
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.caller_account();
  v_scope_mw uuid := nullif(auth.jwt() ->> 'meshwork_id', '')::uuid;
begin
  return coalesce((
    select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', m.id, 'name', m.name, 'role', mb.role,
      'owner', (select ac.display_name from mesh.accounts ac where ac.id = m.owner_id),
      'created_at', m.created_at,
      'agents', coalesce((select pg_catalog.jsonb_agg(mesh.agent_json(a) order by a.name) from mesh.agents a where a.meshwork_id = m.id), '[]'::jsonb))
      order by m.name)
    from mesh.meshworks m
    join mesh.members mb on mb.meshwork_id = m.id and mb.account_id = v_uid and mb.revoked_at is null
    where v_scope_mw is null or m.id = v_scope_mw), '[]'::jsonb);
end
$$;
comment on function public.mc_list_meshworks() is 'Projects the caller belongs to (a scoped key sees only its own), with their agents.';

create or replace function public.mc_add_agent(p_meshwork text, p_name text, p_role text default '', p_kind text default 'editor',
  p_editor text default null, p_launch_prompt text default null, p_exist_ok boolean default false)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_name text := mesh.check_name('agent name', p_name);
  v_agent mesh.agents;
begin
  perform mesh.require_role(v_mw, 'member');
  perform mesh.check_text('role', p_role, 2000, false);
  perform mesh.check_text('launch prompt', p_launch_prompt, 20000, false);
  perform mesh.check_text('editor', p_editor, 40, false);
  if coalesce(p_kind, 'editor') not in ('editor', 'worker', 'daemon') then
    perform mesh.fail(400, 'kind must be editor, worker or daemon', 'pass p_kind: editor');
  end if;
  insert into mesh.agents (meshwork_id, name, role, kind, editor, launch_prompt)
  values (v_mw, v_name, coalesce(p_role, ''), coalesce(p_kind, 'editor'), p_editor, coalesce(p_launch_prompt, ''))
  on conflict (meshwork_id, name) do nothing
  returning * into v_agent;
  if v_agent.id is null then
    if not coalesce(p_exist_ok, false) then
      perform mesh.fail(409, pg_catalog.format('agent ''%s'' already exists in this project', v_name), 'pick another name, or pass p_exist_ok: true');
    end if;
    select * into v_agent from mesh.agents a where a.meshwork_id = v_mw and a.name = v_name;
    return mesh.agent_json(v_agent) || '{"created": false}'::jsonb;
  end if;
  perform mesh.log(v_mw, v_agent.id, 'agent', pg_catalog.format('agent %s added', v_name), pg_catalog.jsonb_build_object('role', v_agent.role));
  return mesh.agent_json(v_agent) || '{"created": true}'::jsonb;
end
$$;
comment on function public.mc_add_agent(text, text, text, text, text, text, boolean) is 'Add an agent slot to a project (p_exist_ok makes it idempotent).';

create or replace function public.mc_edit_agent(p_meshwork text, p_name text, p_role text default null, p_launch_prompt text default null,
  p_editor text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid;
  v_agent mesh.agents;
begin
  perform mesh.require_role(v_mw, 'member');
  v_id := mesh.find_agent(v_mw, p_name);
  perform mesh.check_text('role', p_role, 2000, false);
  perform mesh.check_text('launch prompt', p_launch_prompt, 20000, false);
  perform mesh.check_text('editor', p_editor, 40, false);
  update mesh.agents a set role = coalesce(p_role, a.role), launch_prompt = coalesce(p_launch_prompt, a.launch_prompt),
    editor = coalesce(p_editor, a.editor)
   where a.id = v_id returning * into v_agent;
  perform mesh.log(v_mw, v_id, 'agent', pg_catalog.format('agent %s edited', v_agent.name),
    pg_catalog.jsonb_build_object('role', p_role, 'launch_prompt', p_launch_prompt is not null, 'editor', p_editor));
  return mesh.agent_json(v_agent) || pg_catalog.jsonb_build_object('launch_prompt', v_agent.launch_prompt);
end
$$;
comment on function public.mc_edit_agent(text, text, text, text, text) is 'Change an agent''s role, launch prompt or editor.';

create or replace function public.mc_remove_agent(p_meshwork text, p_name text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid;
begin
  perform mesh.require_role(v_mw, 'member');
  v_id := mesh.find_agent(v_mw, p_name);
  perform mesh.log(v_mw, null, 'agent', pg_catalog.format('agent %s removed', pg_catalog.lower(p_name)));
  delete from mesh.agents a where a.id = v_id;
  return pg_catalog.jsonb_build_object('removed', true, 'name', pg_catalog.lower(p_name));
end
$$;
comment on function public.mc_remove_agent(text, text) is 'Delete an agent slot with its inbox and memory.';

create or replace function public.mc_get_agent(p_meshwork text, p_name text default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_agent mesh.agents;
begin
  select * into v_agent from mesh.agents a where a.id = mesh.resolve_agent(v_mw, p_name);
  return mesh.agent_json(v_agent) || pg_catalog.jsonb_build_object('launch_prompt', v_agent.launch_prompt,
    'meshwork', (select m.name from mesh.meshworks m where m.id = v_mw), 'meshwork_id', v_mw,
    'inbox_seq', v_agent.inbox_seq, 'acked_seq', v_agent.acked_seq);
end
$$;
comment on function public.mc_get_agent(text, text) is 'One agent the caller may act as, with its launch prompt and stored cursor (used to recreate a workspace).';

create or replace function public.mc_status(p_meshwork text)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
begin
  perform mesh.require_role(v_mw, 'guest');
  return pg_catalog.jsonb_build_object('meshwork', (select m.name from mesh.meshworks m where m.id = v_mw), 'meshwork_id', v_mw,
    'spectating', (select m.spectator_token_hash is not null from mesh.meshworks m where m.id = v_mw),
    'agents', coalesce((select pg_catalog.jsonb_agg(mesh.agent_json(a) || pg_catalog.jsonb_build_object(
        'current_task', (select pg_catalog.jsonb_build_object('id', t.id, 'title', t.title, 'progress', t.progress)
                           from mesh.tasks t where t.assignee_id = a.id and t.status in ('claimed', 'in_progress')
                           order by t.updated_at desc limit 1),
        'unread', a.inbox_seq - a.acked_seq) order by a.name)
      from mesh.agents a where a.meshwork_id = v_mw), '[]'::jsonb));
end
$$;
comment on function public.mc_status(text) is 'The status board: every agent with presence, detail, current task and unread count.';

-- Split-brain lock: one live session per agent. A session is live while seen in the last 90 s.
create or replace function public.mc_connect(p_meshwork text, p_agent text, p_session text, p_host text default null, p_force boolean default false)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  v_agent mesh.agents;
  v_took_over boolean := false;
begin
  perform mesh.check_text('session', p_session, 200);
  perform mesh.check_text('host', p_host, 200, false);
  select * into v_agent from mesh.agents a where a.id = v_id for no key update;
  if v_agent.session_id is not null and v_agent.session_id <> p_session
     and mesh.presence('online', v_agent.last_seen_at) <> 'offline' then
    if not coalesce(p_force, false) then
      perform mesh.fail(409, 'agent already running in another window',
        pg_catalog.format('close the other window (host %s), use another agent name, or pass --force to take over', coalesce(v_agent.session_host, 'unknown')));
    end if;
    v_took_over := true;
  end if;
  update mesh.agents a set session_id = p_session, session_host = p_host, session_at = pg_catalog.now(),
    last_seen_at = pg_catalog.now(), status = 'online', status_detail = ''
   where a.id = v_id returning * into v_agent;
  perform mesh.log(v_mw, v_id, 'status', pg_catalog.format('%s connected%s', v_agent.name, case when v_took_over then ' (took over)' else '' end),
    pg_catalog.jsonb_build_object('status', 'online', 'host', p_host, 'took_over', v_took_over));
  return mesh.agent_json(v_agent) || pg_catalog.jsonb_build_object('launch_prompt', v_agent.launch_prompt, 'cursor', v_agent.acked_seq,
    'took_over', v_took_over, 'meshwork', (select m.name from mesh.meshworks m where m.id = v_mw), 'meshwork_id', v_mw);
end
$$;
comment on function public.mc_connect(text, text, text, text, boolean) is 'Take the agent''s live-session lock (409 "agent already running in another window" unless p_force).';

create or replace function public.mc_heartbeat(p_meshwork text, p_agent text, p_session text default null, p_status text default null,
  p_detail text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  v_agent mesh.agents;
begin
  -- Acks and presence are not the message: a crash losing the last few ms of them only means redelivery.
  perform pg_catalog.set_config('synchronous_commit', 'off', true);
  if p_status is not null and p_status not in ('online', 'waiting', 'working', 'idle') then
    perform mesh.fail(400, 'status must be online, waiting, working or idle', 'pass p_status: working');
  end if;
  perform mesh.check_text('detail', p_detail, 500, false);
  select * into v_agent from mesh.agents a where a.id = v_id for no key update;
  if p_session is not null and v_agent.session_id is not null and v_agent.session_id <> p_session then
    perform mesh.fail(409, 'agent session was taken over by another window',
      pg_catalog.format('this window is no longer %s; close it or reconnect with --force', v_agent.name));
  end if;
  if p_status is not null and (p_status <> v_agent.status or coalesce(p_detail, v_agent.status_detail) <> v_agent.status_detail) then
    perform mesh.log(v_mw, v_id, 'status', pg_catalog.format('%s is %s', v_agent.name, p_status),
      pg_catalog.jsonb_build_object('status', p_status, 'detail', p_detail));
  end if;
  update mesh.agents a set last_seen_at = pg_catalog.now(), status = coalesce(p_status, a.status),
    status_detail = coalesce(p_detail, a.status_detail)
   where a.id = v_id returning * into v_agent;
  return mesh.agent_json(v_agent);
end
$$;
comment on function public.mc_heartbeat(text, text, text, text, text) is 'Refresh presence (and optionally status/detail); 409 when another window took the session.';

create or replace function public.mc_disconnect(p_meshwork text, p_agent text, p_session text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  v_name text;
begin
  update mesh.agents a set session_id = null, session_host = null, status = 'offline', status_detail = ''
   where a.id = v_id and (p_session is null or a.session_id is null or a.session_id = p_session)
  returning a.name into v_name;
  if v_name is not null then
    perform mesh.log(v_mw, v_id, 'status', pg_catalog.format('%s disconnected', v_name), '{"status": "offline"}'::jsonb);
  end if;
  return pg_catalog.jsonb_build_object('disconnected', v_name is not null);
end
$$;
comment on function public.mc_disconnect(text, text, text) is 'Release the live-session lock and go offline (no-op if another session holds it).';

create or replace function public.mc_activity(p_meshwork text, p_agent text default null, p_after_id bigint default 0,
  p_limit int default 200, p_before_id bigint default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_agent uuid;
  v_limit int := least(greatest(coalesce(p_limit, 200), 1), 1000);
begin
  perform mesh.require_role(v_mw, 'guest');
  if mesh.caller_scope() <> 'owner' then
    v_agent := mesh.resolve_agent(v_mw, p_agent);
  elsif p_agent is not null then
    v_agent := mesh.find_agent(v_mw, p_agent);
  end if;
  return coalesce((
    select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', x.id, 'agent', x.agent, 'kind', x.kind, 'summary', x.summary,
      'data', x.data, 'created_at', x.created_at) order by x.id)
    from (select ac.id, (select a.name from mesh.agents a where a.id = ac.agent_id) as agent, ac.kind, ac.summary, ac.data, ac.created_at
            from ( -- each branch walks the (meshwork_id, id) index in its own direction
              (select * from mesh.activity f
                where p_before_id is null and f.meshwork_id = v_mw and f.id > coalesce(p_after_id, 0)
                  and (v_agent is null or f.agent_id = v_agent)
                order by f.id asc limit v_limit)
              union all
              (select * from mesh.activity b
                where p_before_id is not null and b.meshwork_id = v_mw and b.id < p_before_id and b.id > coalesce(p_after_id, 0)
                  and (v_agent is null or b.agent_id = v_agent)
                order by b.id desc limit v_limit)
            ) ac) x), '[]'::jsonb);
end
$$;
comment on function public.mc_activity(text, text, bigint, int, bigint) is 'Activity rows after p_after_id (or the page before p_before_id), optionally for one agent: replay and live feeds.';

create or replace function public.mc_log_activity(p_meshwork text, p_agent text, p_kind text, p_summary text, p_data jsonb default '{}'::jsonb)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
begin
  -- Acks and presence are not the message: a crash losing the last few ms of them only means redelivery.
  perform pg_catalog.set_config('synchronous_commit', 'off', true);
  if p_kind is null or p_kind not in ('tool_call', 'note') then
    perform mesh.fail(400, 'kind must be tool_call or note', 'pass p_kind: tool_call');
  end if;
  perform mesh.check_text('summary', p_summary, 500);
  if p_data is not null and (pg_catalog.jsonb_typeof(p_data) <> 'object' or pg_catalog.octet_length(p_data::text) > 16384) then
    perform mesh.fail(400, 'data must be a JSON object of at most 16 KB', 'trim the data you log');
  end if;
  perform mesh.log(v_mw, v_id, p_kind, p_summary, coalesce(p_data, '{}'::jsonb));
  return '{"logged": true}'::jsonb;
end
$$;
comment on function public.mc_log_activity(text, text, text, text, jsonb) is 'Record a tool call or note by the calling agent (the replay source).';

-- Keys: an owner can mint an agent-scoped key for one agent slot, list and revoke its keys.
create or replace function public.mc_create_key(p_meshwork text, p_agent text, p_label text default '', p_days int default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_agent uuid;
begin
  perform mesh.require_role(v_mw, 'owner');
  v_agent := mesh.find_agent(v_mw, p_agent);
  perform mesh.check_text('label', p_label, 200, false);
  if p_days is not null and (p_days < 1 or p_days > 3650) then
    perform mesh.fail(400, 'days must be between 1 and 3650', 'pass p_days: 30, or omit it for a key without expiry');
  end if;
  perform mesh.log(v_mw, v_agent, 'key', 'agent key created');
  return mesh.mint_key(v_uid, 'agent', v_mw, v_agent, p_label,
    case when p_days is null then null else pg_catalog.now() + pg_catalog.make_interval(days => p_days) end);
end
$$;
comment on function public.mc_create_key(text, text, text, int) is 'Mint a key good for one agent slot in one project (shown once).';

create or replace function public.mc_list_keys()
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
begin
  return coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', k.id, 'prefix', k.prefix, 'kind', k.kind, 'label', k.label,
      'meshwork', (select m.name from mesh.meshworks m where m.id = k.meshwork_id),
      'agent', (select a.name from mesh.agents a where a.id = k.agent_id),
      'created_at', k.created_at, 'expires_at', k.expires_at, 'revoked_at', k.revoked_at, 'last_used_at', k.last_used_at) order by k.created_at)
    from mesh.api_keys k where k.account_id = v_uid), '[]'::jsonb);
end
$$;
comment on function public.mc_list_keys() is 'The caller''s keys (prefix only, never the secret).';

create or replace function public.mc_revoke_key(p_key_id uuid)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_id uuid;
begin
  update mesh.api_keys k set revoked_at = coalesce(k.revoked_at, pg_catalog.now())
   where k.id = p_key_id and k.account_id = v_uid returning k.id into v_id;
  if v_id is null then
    perform mesh.fail(404, 'no key with that id on your account', 'list your keys with mc_list_keys');
  end if;
  return pg_catalog.jsonb_build_object('revoked', true, 'id', v_id);
end
$$;
comment on function public.mc_revoke_key(uuid) is 'Revoke one of the caller''s keys; effective on the very next request.';

-- Hub upkeep: refresh presence of agents whose waits the hub is holding (owner connection only).
create or replace function mesh.touch_agents(p_ids uuid[])
returns void
language sql volatile
set search_path = ''
as $$
  select pg_catalog.set_config('synchronous_commit', 'off', true);
  -- Rows are locked in id order, like every other multi-agent writer, so this cannot deadlock with them.
  with locked as (select a.id from mesh.agents a where a.id = any (p_ids) order by a.id for no key update)
  update mesh.agents a set last_seen_at = pg_catalog.now() from locked where a.id = locked.id;
$$;
comment on function mesh.touch_agents(uuid[]) is 'Keep agents whose long-polls are held by a hub from aging to offline.';

do $$
declare
  f text;
begin
  foreach f in array array[
    'mc_whoami()', 'mc_create_meshwork(text)', 'mc_list_meshworks()',
    'mc_add_agent(text, text, text, text, text, text, boolean)', 'mc_edit_agent(text, text, text, text, text)',
    'mc_remove_agent(text, text)', 'mc_get_agent(text, text)', 'mc_status(text)',
    'mc_connect(text, text, text, text, boolean)', 'mc_heartbeat(text, text, text, text, text)', 'mc_disconnect(text, text, text)',
    'mc_activity(text, text, bigint, int, bigint)', 'mc_log_activity(text, text, text, text, jsonb)',
    'mc_create_key(text, text, text, int)', 'mc_list_keys()', 'mc_revoke_key(uuid)']
  loop
    execute format('revoke all on function public.%s from public, anon', f);
    execute format('grant execute on function public.%s to authenticated, service_role', f);
  end loop;
end
$$;
