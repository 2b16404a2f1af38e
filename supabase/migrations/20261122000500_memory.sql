-- Per-agent memory (100 keys, 10 KB per value) and the meshwork's shared scratchpad, limits enforced in SQL.

create table mesh.agent_memory (
  agent_id uuid not null references mesh.agents (id) on delete cascade,
  key text not null,
  value text not null,
  updated_at timestamptz not null default now(),
  primary key (agent_id, key),
  constraint agent_memory_key_format check (octet_length(key) between 1 and 200),
  constraint agent_memory_value_size check (octet_length(value) <= 10240)
);
comment on table mesh.agent_memory is 'Per-agent persistent key/value. Limits: 100 keys per agent, 10 KB (10240 bytes) per value.';
alter table mesh.agent_memory enable row level security;

create table mesh.scratchpad (
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  key text not null,
  value text not null,
  updated_by text not null default '',
  updated_at timestamptz not null default now(),
  primary key (meshwork_id, key),
  constraint scratchpad_key_format check (octet_length(key) between 1 and 200),
  constraint scratchpad_value_size check (octet_length(value) <= 10240)
);
comment on table mesh.scratchpad is 'Shared key/value per meshwork. Limits: 500 keys per meshwork, 10 KB per value.';
alter table mesh.scratchpad enable row level security;

-- The key-count limits hold under concurrency: the owning row is locked before counting.
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
    perform mesh.fail(400, 'memory is full: an agent keeps at most 100 keys', 'forget a key you no longer need (meshcode_forget) before adding another');
  end if;
  return new;
end
$$;
comment on function mesh.enforce_memory_limit() is 'At most 100 memory keys per agent.';
create trigger agent_memory_limit before insert on mesh.agent_memory for each row execute function mesh.enforce_memory_limit();

create or replace function mesh.enforce_scratchpad_limit()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform 1 from mesh.meshworks m where m.id = new.meshwork_id for no key update;
  if exists (select 1 from mesh.scratchpad s where s.meshwork_id = new.meshwork_id and s.key = new.key) then
    return new;
  end if;
  if (select pg_catalog.count(*) from mesh.scratchpad s where s.meshwork_id = new.meshwork_id) >= 500 then
    perform mesh.fail(400, 'scratchpad is full: a project keeps at most 500 keys', 'delete a key you no longer need first');
  end if;
  return new;
end
$$;
comment on function mesh.enforce_scratchpad_limit() is 'At most 500 scratchpad keys per meshwork.';
create trigger scratchpad_limit before insert on mesh.scratchpad for each row execute function mesh.enforce_scratchpad_limit();

create or replace function mesh.check_kv(p_key text, p_value text, p_what text)
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  perform mesh.check_text('key', p_key, 200);
  if p_value is null then
    perform mesh.fail(400, 'value is required', 'pass p_value (use the forget/delete call to remove a key)');
  end if;
  if pg_catalog.octet_length(p_value) > 10240 then
    perform mesh.fail(400, pg_catalog.format('%s value is %s bytes; the limit is 10 KB (10240 bytes) per value', p_what, pg_catalog.octet_length(p_value)),
      'store a shorter summary, or split it across keys');
  end if;
end
$$;
comment on function mesh.check_kv(text, text, text) is 'Clear 400s for key/value limits before the constraints would fire.';

-- Memory target: a bound key reaches only its own agent; owners and members may edit any agent's memory.
create or replace function mesh.memory_agent(p_meshwork uuid, p_agent text)
returns uuid
language plpgsql stable
set search_path = ''
as $$
begin
  if mesh.caller_scope() <> 'owner' then
    return mesh.resolve_agent(p_meshwork, p_agent);
  end if;
  perform mesh.require_role(p_meshwork, 'member');
  return mesh.find_agent(p_meshwork, p_agent);
end
$$;
comment on function mesh.memory_agent(uuid, text) is 'Whose memory the caller may touch.';

create or replace function public.mc_memory_set(p_meshwork text, p_agent text, p_key text, p_value text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.memory_agent(v_mw, p_agent);
begin
  perform mesh.check_kv(p_key, p_value, 'memory');
  insert into mesh.agent_memory as m (agent_id, key, value) values (v_id, p_key, p_value)
  on conflict (agent_id, key) do update set value = excluded.value, updated_at = pg_catalog.now();
  perform mesh.log(v_mw, v_id, 'memory', pg_catalog.format('remembered %s', pg_catalog.left(p_key, 100)),
    pg_catalog.jsonb_build_object('key', p_key, 'bytes', pg_catalog.octet_length(p_value)));
  return pg_catalog.jsonb_build_object('ok', true, 'key', p_key,
    'keys', (select pg_catalog.count(*) from mesh.agent_memory m where m.agent_id = v_id), 'limit_keys', 100, 'limit_value_bytes', 10240);
end
$$;
comment on function public.mc_memory_set(text, text, text, text) is 'Remember a key for an agent (100 keys, 10 KB per value).';

create or replace function public.mc_memory_get(p_meshwork text, p_agent text default null, p_key text default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.memory_agent(v_mw, p_agent);
  v_value text;
begin
  if p_key is not null then
    select m.value into v_value from mesh.agent_memory m where m.agent_id = v_id and m.key = p_key;
    return pg_catalog.jsonb_build_object('ok', true, 'found', v_value is not null, 'key', p_key, 'value', v_value);
  end if;
  return pg_catalog.jsonb_build_object('ok', true, 'memories', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
    'key', m.key, 'value', m.value, 'updated_at', m.updated_at) order by m.key) from mesh.agent_memory m where m.agent_id = v_id), '[]'::jsonb));
end
$$;
comment on function public.mc_memory_get(text, text, text) is 'Recall one key, or every memory of the agent.';

create or replace function public.mc_memory_delete(p_meshwork text, p_agent text, p_key text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.memory_agent(v_mw, p_agent);
  v_found boolean;
begin
  perform mesh.check_text('key', p_key, 200);
  delete from mesh.agent_memory m where m.agent_id = v_id and m.key = p_key;
  v_found := found;
  if v_found then
    perform mesh.log(v_mw, v_id, 'memory', pg_catalog.format('forgot %s', pg_catalog.left(p_key, 100)), pg_catalog.jsonb_build_object('key', p_key));
  end if;
  return pg_catalog.jsonb_build_object('ok', true, 'deleted', v_found);
end
$$;
comment on function public.mc_memory_delete(text, text, text) is 'Forget one key.';

create or replace function public.mc_scratchpad_set(p_meshwork text, p_key text, p_value text, p_agent text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_actor uuid;
  v_by text;
begin
  perform mesh.require_role(v_mw, 'guest');
  v_actor := mesh.task_actor(v_mw, p_agent);
  perform mesh.check_kv(p_key, p_value, 'scratchpad');
  v_by := coalesce((select a.name from mesh.agents a where a.id = v_actor), 'overseer');
  insert into mesh.scratchpad (meshwork_id, key, value, updated_by) values (v_mw, p_key, p_value, v_by)
  on conflict (meshwork_id, key) do update set value = excluded.value, updated_by = excluded.updated_by, updated_at = pg_catalog.now();
  perform mesh.log(v_mw, v_actor, 'scratchpad', pg_catalog.format('scratchpad %s set by %s', pg_catalog.left(p_key, 100), v_by),
    pg_catalog.jsonb_build_object('key', p_key, 'bytes', pg_catalog.octet_length(p_value)));
  return pg_catalog.jsonb_build_object('ok', true, 'key', p_key);
end
$$;
comment on function public.mc_scratchpad_set(text, text, text, text) is 'Write to the project''s shared scratchpad (500 keys, 10 KB per value).';

create or replace function public.mc_scratchpad_get(p_meshwork text, p_key text default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_row mesh.scratchpad;
begin
  perform mesh.require_role(v_mw, 'guest');
  if p_key is not null then
    select * into v_row from mesh.scratchpad s where s.meshwork_id = v_mw and s.key = p_key;
    return pg_catalog.jsonb_build_object('ok', true, 'found', v_row.key is not null, 'key', p_key, 'value', v_row.value,
      'updated_by', v_row.updated_by, 'updated_at', v_row.updated_at);
  end if;
  return pg_catalog.jsonb_build_object('ok', true, 'entries', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
    'key', s.key, 'value', s.value, 'updated_by', s.updated_by, 'updated_at', s.updated_at) order by s.key)
    from mesh.scratchpad s where s.meshwork_id = v_mw), '[]'::jsonb));
end
$$;
comment on function public.mc_scratchpad_get(text, text) is 'Read one scratchpad key, or all of them.';

create or replace function public.mc_scratchpad_delete(p_meshwork text, p_key text, p_agent text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_actor uuid;
  v_found boolean;
begin
  perform mesh.require_role(v_mw, 'guest');
  v_actor := mesh.task_actor(v_mw, p_agent);
  perform mesh.check_text('key', p_key, 200);
  delete from mesh.scratchpad s where s.meshwork_id = v_mw and s.key = p_key;
  v_found := found;
  if v_found then
    perform mesh.log(v_mw, v_actor, 'scratchpad', pg_catalog.format('scratchpad %s deleted', pg_catalog.left(p_key, 100)), pg_catalog.jsonb_build_object('key', p_key));
  end if;
  return pg_catalog.jsonb_build_object('ok', true, 'deleted', v_found);
end
$$;
comment on function public.mc_scratchpad_delete(text, text, text) is 'Delete one scratchpad key.';

do $$
declare
  f text;
begin
  foreach f in array array[
    'mc_memory_set(text, text, text, text)', 'mc_memory_get(text, text, text)', 'mc_memory_delete(text, text, text)',
    'mc_scratchpad_set(text, text, text, text)', 'mc_scratchpad_get(text, text)', 'mc_scratchpad_delete(text, text, text)']
  loop
    execute format('revoke all on function public.%s from public, anon', f);
    execute format('grant execute on function public.%s to authenticated, service_role', f);
  end loop;
end
$$;
