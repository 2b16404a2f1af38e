-- Core: the private schema, typed failures, accounts, API keys and the hub's one-statement "call as caller" entry.

create schema if not exists mesh;
comment on schema mesh is 'MeshCode private schema: never exposed; clients reach it only through public.mc_* RPCs.';
revoke all on schema mesh from public;

-- Failures the caller can fix carry SQLSTATE PTxyz (PostgREST maps it to HTTP xyz) and a hint saying how.
create or replace function mesh.fail(p_status int, p_message text, p_hint text default null, p_detail text default null)
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  raise exception using errcode = 'PT' || p_status::text, message = p_message, hint = coalesce(p_hint, ''), detail = coalesce(p_detail, '');
end
$$;
comment on function mesh.fail(int, text, text, text) is 'Raise a caller-fixable error: SQLSTATE PT<status>, one sentence, a hint.';

-- Input checks shared by every RPC.
create or replace function mesh.check_text(p_field text, p_value text, p_max int, p_required boolean default true)
returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_value is null or pg_catalog.length(pg_catalog.btrim(p_value)) = 0 then
    if p_required then
      perform mesh.fail(400, pg_catalog.format('%s is required', p_field), pg_catalog.format('pass a non-empty %s', p_field));
    end if;
    return null;
  end if;
  if pg_catalog.octet_length(p_value) > p_max then
    perform mesh.fail(400, pg_catalog.format('%s is %s bytes; the limit is %s', p_field, pg_catalog.octet_length(p_value), p_max),
      pg_catalog.format('shorten %s', p_field));
  end if;
  return p_value;
end
$$;
comment on function mesh.check_text(text, text, int, boolean) is 'Validate a text argument: required and size-capped, with a clear 400.';

create or replace function mesh.check_name(p_field text, p_value text)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v text := pg_catalog.lower(pg_catalog.btrim(coalesce(p_value, '')));
begin
  if v = '' then
    perform mesh.fail(400, pg_catalog.format('%s is required', p_field), pg_catalog.format('pass a %s such as "backend"', p_field));
  end if;
  if v !~ '^[a-z0-9][a-z0-9._-]{0,62}$' then
    perform mesh.fail(400, pg_catalog.format('%s %s is not a valid name', p_field, pg_catalog.quote_literal(pg_catalog.left(p_value, 80))),
      'use 1-63 characters: letters, digits, ".", "_" or "-", starting with a letter or digit');
  end if;
  return v;
end
$$;
comment on function mesh.check_name(text, text) is 'Normalise and validate a project or agent name (lowercase slug).';

create table mesh.accounts (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  display_name text not null default '',
  created_at timestamptz not null default now(),
  constraint accounts_email_size check (octet_length(email) <= 320),
  constraint accounts_display_name_size check (octet_length(display_name) <= 200)
);
comment on table mesh.accounts is 'A person (id = auth.uid()). Guests minted from invites have an account without email login.';
create unique index accounts_email_key on mesh.accounts (lower(email));
alter table mesh.accounts enable row level security;
create policy "accounts are visible to their owner" on mesh.accounts for select to authenticated
  using (id = (select auth.uid()));

create table mesh.api_keys (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references mesh.accounts (id) on delete cascade,
  key_hash text not null unique,
  prefix text not null,
  kind text not null check (kind in ('owner', 'agent', 'invite')),
  meshwork_id uuid,
  agent_id uuid,
  label text not null default '',
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  constraint api_keys_scoped_have_meshwork check (kind = 'owner' or meshwork_id is not null)
);
comment on table mesh.api_keys is 'API keys: sha256 of the secret only. kind owner = whole account; agent/invite = one agent slot in one meshwork.';
create index api_keys_account_id_idx on mesh.api_keys (account_id);
create index api_keys_meshwork_id_idx on mesh.api_keys (meshwork_id);
alter table mesh.api_keys enable row level security;
create policy "api keys are visible to their account" on mesh.api_keys for select to authenticated
  using (account_id = (select auth.uid()));

-- Secrets: base62 from gen_random_uuid() bytes (no pgcrypto needed), 6 hex chars of checksum.
create or replace function mesh.random_base62(p_len int)
returns text
language sql volatile
set search_path = ''
as $$
  select pg_catalog.string_agg(
    pg_catalog.substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (pg_catalog.get_byte(s.b, i) % 62) + 1, 1),
    '' order by i)
  from (select pg_catalog.decode(pg_catalog.replace(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex') as b) s,
       pg_catalog.generate_series(0, least(p_len, 48) - 1) as i
$$;
comment on function mesh.random_base62(int) is 'Random base62 string (up to 48 chars) from gen_random_uuid() entropy.';

create or replace function mesh.sha256_hex(p_text text)
returns text
language sql immutable
set search_path = ''
as $$ select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(p_text, 'UTF8')), 'hex') $$;
comment on function mesh.sha256_hex(text) is 'Hex sha256 of a secret: the only form in which keys and tokens are stored.';

create or replace function mesh.new_secret(p_prefix text)
returns text
language plpgsql volatile
set search_path = ''
as $$
declare
  v_body text := mesh.random_base62(32);
begin
  return p_prefix || v_body || pg_catalog.left(mesh.sha256_hex(p_prefix || v_body), 6);
end
$$;
comment on function mesh.new_secret(text) is 'A new secret: prefix + 32 base62 chars + 6 hex checksum chars (lets clients catch typos offline).';

-- Mint a key row; returns the raw key (shown once) and its id.
create or replace function mesh.mint_key(p_account uuid, p_kind text, p_meshwork uuid, p_agent uuid, p_label text, p_expires timestamptz)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_key text := mesh.new_secret('mc_');
  v_id uuid;
begin
  insert into mesh.api_keys (account_id, key_hash, prefix, kind, meshwork_id, agent_id, label, expires_at)
  values (p_account, mesh.sha256_hex(v_key), pg_catalog.left(v_key, 8), p_kind, p_meshwork, p_agent, coalesce(p_label, ''), p_expires)
  returning id into v_id;
  return pg_catalog.jsonb_build_object('id', v_id, 'key', v_key, 'prefix', pg_catalog.left(v_key, 8), 'kind', p_kind, 'expires_at', p_expires);
end
$$;
comment on function mesh.mint_key(uuid, text, uuid, uuid, text, timestamptz) is 'Insert an API key (hash only) and return the raw key once.';

-- Signup is called by the hub's own connection (open on the embedded hub, configurable when hosted).
create or replace function mesh.signup(p_email text, p_display_name text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_email text := pg_catalog.lower(pg_catalog.btrim(coalesce(p_email, '')));
  v_name text := pg_catalog.btrim(coalesce(p_display_name, ''));
  v_account uuid;
  v_key jsonb;
begin
  if v_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or pg_catalog.octet_length(v_email) > 320 then
    perform mesh.fail(400, 'email is not a valid address', 'pass an address such as ada@example.com');
  end if;
  if pg_catalog.octet_length(v_name) > 200 then
    perform mesh.fail(400, 'display name is longer than 200 bytes', 'shorten the display name');
  end if;
  if v_name = '' then
    v_name := pg_catalog.split_part(v_email, '@', 1);
  end if;
  begin
    insert into mesh.accounts (email, display_name) values (v_email, v_name) returning id into v_account;
  exception when unique_violation then
    perform mesh.fail(409, pg_catalog.format('an account with email %s already exists', v_email),
      'log in with that account''s key (meshcode login mc_...)');
  end;
  v_key := mesh.mint_key(v_account, 'owner', null, null, 'signup', null);
  return pg_catalog.jsonb_build_object(
    'account', pg_catalog.jsonb_build_object('id', v_account, 'email', v_email, 'display_name', v_name),
    'key', v_key ->> 'key', 'key_id', v_key ->> 'id');
end
$$;
comment on function mesh.signup(text, text) is 'Create an account and its first owner key (returned once). Hub-only.';

-- The caller, from the claims the hub (or PostgREST) set for this transaction.
create or replace function mesh.caller_account()
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  v uuid := auth.uid();
begin
  if v is null then
    perform mesh.fail(401, 'this call needs an API key', 'send Authorization: Bearer mc_... (meshcode login stores one)');
  end if;
  return v;
end
$$;
comment on function mesh.caller_account() is 'The calling account id; 401 when the request is anonymous.';

create or replace function mesh.caller_scope()
returns text
language sql stable
set search_path = ''
as $$ select coalesce(nullif(auth.jwt() ->> 'scope', ''), 'owner') $$;
comment on function mesh.caller_scope() is 'owner (whole account) or agent/invite (one agent slot in one meshwork).';

create or replace function mesh.require_account_scope()
returns uuid
language plpgsql stable
set search_path = ''
as $$
begin
  if mesh.caller_scope() <> 'owner' then
    perform mesh.fail(403, 'this scoped API key is limited to one agent slot and cannot do that',
      'use the owner''s account key (meshcode login) for account-wide actions');
  end if;
  return mesh.caller_account();
end
$$;
comment on function mesh.require_account_scope() is 'Refuse agent-scoped and invite-minted keys for account-wide actions.';

-- Accumulate the agents to wake and the meshworks whose feeds changed, for the hub to act on after commit.
create or replace function mesh.note_wake(p_agents uuid[])
returns void
language sql volatile
set search_path = ''
as $$
  select pg_catalog.set_config('mesh.wake',
    coalesce(nullif(pg_catalog.current_setting('mesh.wake', true), '') || ',', '') || pg_catalog.array_to_string(p_agents, ','), true)
  where pg_catalog.cardinality(p_agents) > 0
$$;
comment on function mesh.note_wake(uuid[]) is 'Remember agents to wake after commit (read by mesh.call_as).';

-- Claims for an API key hash, checked on every call (no cache outlives a request): null when no such key; 401 when
-- it was revoked, has expired, or belongs to a member removed from its project.
create or replace function mesh.key_claims(p_key_hash text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  k record;
begin
  select ak.id, ak.account_id, ak.kind, ak.meshwork_id, ak.agent_id, ak.expires_at, ak.revoked_at, ak.last_used_at
    into k from mesh.api_keys ak where ak.key_hash = p_key_hash;
  if not found then
    return null;
  end if;
  if k.revoked_at is not null then
    perform mesh.fail(401, 'API key is invalid or has been revoked', 'log in again with a current key (meshcode login mc_...)');
  end if;
  if k.expires_at is not null and k.expires_at <= pg_catalog.now() then
    perform mesh.fail(401, 'API key has expired', 'ask the project owner for a new invite, or log in with a current key');
  end if;
  if k.kind <> 'owner' and not exists (
    select 1 from mesh.members mb where mb.meshwork_id = k.meshwork_id and mb.account_id = k.account_id and mb.revoked_at is null) then
    perform mesh.fail(401, 'API key belongs to a member who was removed from the project', 'ask the project owner to invite you again');
  end if;
  if k.last_used_at is null or k.last_used_at < pg_catalog.now() - interval '1 minute' then
    update mesh.api_keys set last_used_at = pg_catalog.now() where id = k.id;
  end if;
  return pg_catalog.jsonb_build_object('sub', k.account_id, 'role', 'authenticated', 'key_id', k.id,
    'scope', k.kind, 'meshwork_id', k.meshwork_id, 'agent_id', k.agent_id);
end
$$;
comment on function mesh.key_claims(text) is 'PostgREST-style claims for an API key hash; null if unknown, 401 if revoked, expired or its member was removed.';
revoke all on function mesh.key_claims(text) from public;

-- Every credential the hub accepts, hash -> claims. Later migrations extend it (dashboard sessions).
create or replace function mesh.token_claims(p_token_hash text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v jsonb := mesh.key_claims(p_token_hash);
begin
  if v is null then
    perform mesh.fail(401, 'API key is invalid or has been revoked', 'log in again with a current key (meshcode login mc_...)');
  end if;
  return v;
end
$$;
comment on function mesh.token_claims(text) is 'Claims for a credential hash, or 401. The extension point for other credential kinds.';
revoke all on function mesh.token_claims(text) from public;

-- The hub's entry point: ONE statement, so its implicit transaction scopes the role and claims exactly as
-- PostgREST's per-request transaction does. Checks the key on every call (no cache outlives a request).
create or replace function mesh.call_as(p_key_hash text, p_fn text, p_args jsonb, p_get boolean default false)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_claims jsonb;
  v_role text;
  v_proc record;
  v_parts text[] := '{}';
  v_name text;
  v_type text;
  v_expr text;
  v_required int;
  v_result jsonb;
  v_args jsonb := coalesce(p_args, '{}'::jsonb);
begin
  if pg_catalog.jsonb_typeof(v_args) <> 'object' then
    perform mesh.fail(400, 'RPC arguments must be a JSON object of named arguments', 'send a body such as {"p_meshwork": "demo"}');
  end if;
  if p_key_hash is null then
    v_role := 'anon';
    v_claims := '{"role":"anon"}'::jsonb;
  else
    v_claims := mesh.token_claims(p_key_hash);
    v_role := 'authenticated';
  end if;

  if p_fn is null or p_fn !~ '^[a-z_][a-z0-9_]{0,62}$' then
    perform mesh.fail(404, pg_catalog.format('Could not find the function public.%s in the schema cache', pg_catalog.left(coalesce(p_fn, ''), 64)), null, 'PGRST202');
  end if;
  select p.oid, p.proargnames, p.proargtypes::oid[] as types, p.pronargs, p.pronargdefaults, p.provolatile
    into v_proc
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'public' and p.proname = p_fn and p.prokind = 'f';
  if not found then
    perform mesh.fail(404, pg_catalog.format('Could not find the function public.%s in the schema cache', p_fn),
      'check the function name against the RPC reference', 'PGRST202');
  end if;
  if p_get and v_proc.provolatile = 'v' then
    perform mesh.fail(405, pg_catalog.format('public.%s changes data and cannot be called with GET', p_fn), 'call it with POST');
  end if;
  for v_name in select pg_catalog.jsonb_object_keys(v_args) loop
    if v_proc.proargnames is null or not (v_name = any (v_proc.proargnames[1:v_proc.pronargs])) then
      perform mesh.fail(404, pg_catalog.format('Could not find the function public.%s(%s) in the schema cache: it has no argument %s',
          p_fn, pg_catalog.left(v_name, 64), pg_catalog.quote_ident(pg_catalog.left(v_name, 64))),
        pg_catalog.format('arguments of %s: %s', p_fn, coalesce(pg_catalog.array_to_string(v_proc.proargnames[1:v_proc.pronargs], ', '), 'none')),
        'PGRST202');
    end if;
  end loop;
  v_required := v_proc.pronargs - v_proc.pronargdefaults;
  for i in 1..v_proc.pronargs loop
    v_name := v_proc.proargnames[i];
    if not (v_args ? v_name) then
      if i <= v_required then
        perform mesh.fail(404, pg_catalog.format('Could not find the function public.%s without argument %s in the schema cache', p_fn, v_name),
          pg_catalog.format('pass %s', v_name), 'PGRST202');
      end if;
      continue;
    end if;
    v_type := pg_catalog.format_type(v_proc.types[i - 1], null);
    v_expr := case
      when v_type = 'jsonb' then pg_catalog.format('($1 -> %L)', v_name)
      when v_type = 'json' then pg_catalog.format('($1 -> %L)::json', v_name)
      when v_type like '%[]' then pg_catalog.format('(case when pg_catalog.jsonb_typeof($1 -> %1$L) = ''array'' then array(select pg_catalog.jsonb_array_elements_text($1 -> %1$L)) end)::%2$s', v_name, v_type)
      else pg_catalog.format('($1 ->> %L)::%s', v_name, v_type)
    end;
    v_parts := v_parts || pg_catalog.format('%I => %s', v_name, v_expr);
  end loop;

  perform pg_catalog.set_config('request.jwt.claims', v_claims::text, true);
  perform pg_catalog.set_config('role', v_role, true);
  execute pg_catalog.format('select pg_catalog.to_jsonb(public.%I(%s))', p_fn, pg_catalog.array_to_string(v_parts, ', '))
    into v_result using v_args;
  return pg_catalog.jsonb_build_object('result', v_result,
    'wake', nullif(pg_catalog.current_setting('mesh.wake', true), ''),
    'changed', nullif(pg_catalog.current_setting('mesh.changed', true), ''));
end
$$;
comment on function mesh.call_as(text, text, jsonb, boolean) is 'Hub entry: authenticate a key hash, switch to the caller''s role and claims, call public.<fn> with named args.';
revoke all on function mesh.call_as(text, text, jsonb, boolean) from public;
