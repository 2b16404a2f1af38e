-- Dashboard login: one-time login links (from `meshcode dashboard`) and browser sessions (httpOnly cookie). The hub
-- stores only sha256 hashes of both tokens. A session acts with owner scope of its account and ends when it expires,
-- is logged out, or the owner key it came from is revoked. mesh.call_as is redefined here to accept a session hash.

create table mesh.sessions (
  id uuid primary key default gen_random_uuid(),
  token_hash text not null unique,
  account_id uuid not null references mesh.accounts (id) on delete cascade,
  key_id uuid not null references mesh.api_keys (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  last_used_at timestamptz
);
comment on table mesh.sessions is 'Dashboard browser sessions: sha256 of the cookie token only; owner scope of the account; dead once the originating key is revoked.';
comment on column mesh.sessions.key_id is 'The owner key that opened the session (directly or through a login link); revoking it ends the session.';
create index sessions_account_id_idx on mesh.sessions (account_id);
create index sessions_key_id_idx on mesh.sessions (key_id);
alter table mesh.sessions enable row level security;

create table mesh.login_links (
  id uuid primary key default gen_random_uuid(),
  token_hash text not null unique,
  account_id uuid not null references mesh.accounts (id) on delete cascade,
  key_id uuid not null references mesh.api_keys (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '10 minutes',
  used_at timestamptz
);
comment on table mesh.login_links is 'One-time dashboard login links: sha256 of the token only; valid 10 minutes; consumed by a POST, never a GET.';
create index login_links_account_id_idx on mesh.login_links (account_id);
create index login_links_key_id_idx on mesh.login_links (key_id);
alter table mesh.login_links enable row level security;

-- The owner key behind a login request. Scoped keys are refused: a session has owner scope, so minting one from an
-- agent or invite key would widen what that key can do.
create or replace function mesh.owner_key_for_login(p_key_hash text)
returns mesh.api_keys
language plpgsql volatile
set search_path = ''
as $$
declare
  k mesh.api_keys;
begin
  select * into k from mesh.api_keys ak where ak.key_hash = p_key_hash;
  if k.id is null or k.revoked_at is not null then
    perform mesh.fail(401, 'API key is invalid or has been revoked', 'log in again with a current key (meshcode login mc_...)');
  end if;
  if k.expires_at is not null and k.expires_at <= pg_catalog.now() then
    perform mesh.fail(401, 'API key has expired', 'log in with a current key (meshcode login mc_...)');
  end if;
  if k.kind <> 'owner' then
    perform mesh.fail(403, 'only an account key can open the dashboard, not a key scoped to one agent',
      'log in with your account key (the one meshcode signup gave you)');
  end if;
  return k;
end
$$;
comment on function mesh.owner_key_for_login(text) is 'The live owner key with this hash; 401 when invalid, revoked or expired, 403 when scoped to one agent.';

create or replace function mesh.new_session(k mesh.api_keys, p_session_hash text, p_ttl_seconds int)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_expires timestamptz := pg_catalog.now() + pg_catalog.make_interval(secs => p_ttl_seconds);
begin
  if p_session_hash !~ '^[0-9a-f]{64}$' or p_ttl_seconds is null or p_ttl_seconds < 60 then
    perform mesh.fail(400, 'session token hash must be sha256 hex and the lifetime at least a minute');
  end if;
  insert into mesh.sessions (token_hash, account_id, key_id, expires_at) values (p_session_hash, k.account_id, k.id, v_expires);
  -- Housekeeping on a path that is rare and cheap: drop sessions that ended more than a day ago.
  delete from mesh.sessions s
   where s.account_id = k.account_id and coalesce(s.revoked_at, s.expires_at) < pg_catalog.now() - interval '1 day';
  return (select pg_catalog.jsonb_build_object(
      'account', pg_catalog.jsonb_build_object('id', ac.id, 'email', ac.email, 'display_name', ac.display_name),
      'expires_at', v_expires)
    from mesh.accounts ac where ac.id = k.account_id);
end
$$;
comment on function mesh.new_session(mesh.api_keys, text, int) is 'Insert a session for an owner key; returns the account and expiry.';

-- Hub-only entry points (owner connection, like mesh.signup): no grants to API roles.
create or replace function mesh.create_login_link(p_key_hash text, p_link_hash text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  k mesh.api_keys := mesh.owner_key_for_login(p_key_hash);
  v_expires timestamptz;
begin
  if p_link_hash !~ '^[0-9a-f]{64}$' then
    perform mesh.fail(400, 'login link hash must be sha256 hex');
  end if;
  delete from mesh.login_links l where l.account_id = k.account_id and l.expires_at < pg_catalog.now() - interval '1 day';
  insert into mesh.login_links (token_hash, account_id, key_id) values (p_link_hash, k.account_id, k.id)
  returning expires_at into v_expires;
  return pg_catalog.jsonb_build_object('expires_at', v_expires);
end
$$;
comment on function mesh.create_login_link(text, text) is 'Hub: store a one-time login link (10 minutes) for the owner key with this hash.';

create or replace function mesh.consume_login_link(p_link_hash text, p_session_hash text, p_ttl_seconds int)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  l mesh.login_links;
  k mesh.api_keys;
begin
  -- One atomic update: two concurrent POSTs with the same link cannot both win.
  update mesh.login_links ll set used_at = pg_catalog.now()
   where ll.token_hash = p_link_hash and ll.used_at is null and ll.expires_at > pg_catalog.now()
  returning * into l;
  if l.id is null then
    select * into l from mesh.login_links ll where ll.token_hash = p_link_hash;
    if l.id is null then
      perform mesh.fail(401, 'this login link is not valid', 'run meshcode dashboard for a new link');
    elsif l.used_at is not null then
      perform mesh.fail(401, 'this login link was already used', 'run meshcode dashboard for a new link; each link logs in once');
    else
      perform mesh.fail(401, 'this login link has expired (links last 10 minutes)', 'run meshcode dashboard for a new link');
    end if;
  end if;
  select * into k from mesh.api_keys ak where ak.id = l.key_id;
  if k.revoked_at is not null or (k.expires_at is not null and k.expires_at <= pg_catalog.now()) then
    perform mesh.fail(401, 'the key that created this login link has been revoked or has expired',
      'log in with a current key (meshcode login mc_...) and run meshcode dashboard again');
  end if;
  return mesh.new_session(k, p_session_hash, p_ttl_seconds);
end
$$;
comment on function mesh.consume_login_link(text, text, int) is 'Hub: use a login link once and open a session with the given token hash.';

create or replace function mesh.create_session(p_key_hash text, p_session_hash text, p_ttl_seconds int)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
begin
  return mesh.new_session(mesh.owner_key_for_login(p_key_hash), p_session_hash, p_ttl_seconds);
end
$$;
comment on function mesh.create_session(text, text, int) is 'Hub: open a session from an owner API key (the dashboard''s "log in with a key" form).';

create or replace function mesh.end_session(p_session_hash text)
returns boolean
language sql volatile
set search_path = ''
as $$
  with ended as (
    update mesh.sessions s set revoked_at = pg_catalog.now() where s.token_hash = p_session_hash and s.revoked_at is null returning 1
  )
  select exists (select 1 from ended)
$$;
comment on function mesh.end_session(text) is 'Hub: log a session out (effective on its next request).';

-- Same as 20261122000100's version, plus: a hash not found among API keys is looked up among dashboard sessions.
create or replace function mesh.call_as(p_key_hash text, p_fn text, p_args jsonb, p_get boolean default false)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  k record;
  s record;
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
    select ak.id, ak.account_id, ak.kind, ak.meshwork_id, ak.agent_id, ak.expires_at, ak.revoked_at, ak.last_used_at
      into k from mesh.api_keys ak where ak.key_hash = p_key_hash;
    if found then
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
      v_role := 'authenticated';
      v_claims := pg_catalog.jsonb_build_object('sub', k.account_id, 'role', 'authenticated', 'key_id', k.id,
        'scope', k.kind, 'meshwork_id', k.meshwork_id, 'agent_id', k.agent_id);
    else
      select se.id, se.account_id, se.key_id, se.expires_at, se.revoked_at, se.last_used_at,
             ak.revoked_at as key_revoked_at, ak.expires_at as key_expires_at
        into s from mesh.sessions se join mesh.api_keys ak on ak.id = se.key_id where se.token_hash = p_key_hash;
      if not found then
        perform mesh.fail(401, 'API key is invalid or has been revoked', 'log in again with a current key (meshcode login mc_...)');
      end if;
      if s.revoked_at is not null or s.key_revoked_at is not null then
        perform mesh.fail(401, 'your dashboard session has ended (logged out, or its key was revoked)',
          'log in again: run meshcode dashboard for a one-time link');
      end if;
      if s.expires_at <= pg_catalog.now() or (s.key_expires_at is not null and s.key_expires_at <= pg_catalog.now()) then
        perform mesh.fail(401, 'your dashboard session has expired', 'log in again: run meshcode dashboard for a one-time link');
      end if;
      if s.last_used_at is null or s.last_used_at < pg_catalog.now() - interval '1 minute' then
        update mesh.sessions set last_used_at = pg_catalog.now() where id = s.id;
      end if;
      v_role := 'authenticated';
      v_claims := pg_catalog.jsonb_build_object('sub', s.account_id, 'role', 'authenticated', 'key_id', s.key_id,
        'scope', 'owner', 'meshwork_id', null, 'agent_id', null, 'session_id', s.id);
    end if;
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
comment on function mesh.call_as(text, text, jsonb, boolean) is 'Hub entry: authenticate an API key hash or a dashboard session hash, switch to the caller''s role and claims, call public.<fn> with named args.';

revoke all on function mesh.call_as(text, text, jsonb, boolean) from public;
revoke all on function mesh.owner_key_for_login(text) from public;
revoke all on function mesh.new_session(mesh.api_keys, text, int) from public;
revoke all on function mesh.create_login_link(text, text) from public;
revoke all on function mesh.consume_login_link(text, text, int) from public;
revoke all on function mesh.create_session(text, text, int) from public;
revoke all on function mesh.end_session(text) from public;
