-- What Supabase provides and a plain PostgreSQL / PGlite lacks: the API roles, the auth schema with
-- uid()/jwt()/role() reading PostgREST's request.jwt.claims, and the extensions schema.
-- Idempotent; applied before the migrations on every start. Never applied on Supabase.

do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;

create schema if not exists auth;
create schema if not exists extensions;
comment on schema auth is 'Supabase-compatible auth helpers (shim): claims come from request.jwt.claims.';

-- Like Supabase's own, these set no search_path (every name is qualified): a SET clause would stop them being
-- inlined and cost a configuration save/restore on each of the many calls per request.
create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;
comment on function auth.jwt() is 'The caller''s claims, as PostgREST sets them per request.';

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select nullif(
    coalesce(
      nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
      (coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'sub')
    ),
    ''
  )::uuid
$$;
comment on function auth.uid() is 'The caller''s account id (claims.sub), or null for anon.';

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
    (coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'role')
  )
$$;
comment on function auth.role() is 'The caller''s role claim.';

grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
grant execute on function auth.jwt(), auth.uid(), auth.role() to anon, authenticated, service_role;
