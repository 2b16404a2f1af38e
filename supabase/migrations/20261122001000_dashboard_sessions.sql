-- Dashboard login: one-time login links (from `meshcode dashboard`) and browser sessions (httpOnly cookie). The hub
-- stores only sha256 hashes of both tokens. A session acts with owner scope of its account and ends when it expires,
-- is logged out, or the owner key it came from is revoked. mesh.token_claims is extended here so mesh.call_as accepts a session hash.

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

-- Dashboard sessions: claims for a session cookie's hash (owner scope of its account), null if unknown; 401 once the
-- session ended, expired, or its originating key was revoked.
create or replace function mesh.session_claims(p_hash text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  s record;
begin
  select se.id, se.account_id, se.key_id, se.expires_at, se.revoked_at, se.last_used_at,
         ak.revoked_at as key_revoked_at, ak.expires_at as key_expires_at
    into s from mesh.sessions se join mesh.api_keys ak on ak.id = se.key_id where se.token_hash = p_hash;
  if not found then
    return null;
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
  return pg_catalog.jsonb_build_object('sub', s.account_id, 'role', 'authenticated', 'key_id', s.key_id,
    'scope', 'owner', 'meshwork_id', null, 'agent_id', null, 'session_id', s.id);
end
$$;
comment on function mesh.session_claims(text) is 'PostgREST-style claims for a dashboard session hash; null if unknown, 401 if ended or expired.';

-- mesh.call_as accepts a session cookie's hash wherever it accepts a key's.
create or replace function mesh.token_claims(p_token_hash text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v jsonb := coalesce(mesh.key_claims(p_token_hash), mesh.session_claims(p_token_hash));
begin
  if v is null then
    perform mesh.fail(401, 'API key is invalid or has been revoked', 'log in again with a current key (meshcode login mc_...)');
  end if;
  return v;
end
$$;
comment on function mesh.token_claims(text) is 'Claims for an API key or dashboard session hash, or 401.';

revoke all on function mesh.session_claims(text) from public;
revoke all on function mesh.token_claims(text) from public;
revoke all on function mesh.owner_key_for_login(text) from public;
revoke all on function mesh.new_session(mesh.api_keys, text, int) from public;
revoke all on function mesh.create_login_link(text, text) from public;
revoke all on function mesh.consume_login_link(text, text, int) from public;
revoke all on function mesh.create_session(text, text, int) from public;
revoke all on function mesh.end_session(text) from public;
