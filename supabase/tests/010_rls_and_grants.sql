-- Every table is private: RLS on, no table privileges for the API roles; the API is granted functions only.
begin;
select plan(14);

select is(
  (select count(*)::int from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'mesh' and c.relkind = 'r' and not c.relrowsecurity),
  0, 'every table in mesh has row-level security enabled');

select is(
  (select count(*)::int from information_schema.role_table_grants
    where table_schema = 'mesh' and grantee in ('anon', 'authenticated', 'PUBLIC')),
  0, 'no API role has a table privilege in mesh');

select ok(not has_schema_privilege('authenticated', 'mesh', 'usage'), 'authenticated has no usage on schema mesh');
select ok(not has_schema_privilege('anon', 'mesh', 'usage'), 'anon has no usage on schema mesh');

select is(
  (select count(*)::int from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.proname like 'mc\_%' and not p.prosecdef),
  0, 'every public mc_* function is SECURITY DEFINER');

select is(
  (select count(*)::int from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.proname like 'mc\_%'
      and not coalesce(p.proconfig @> array['search_path=""'], false)),
  0, 'every public mc_* function pins search_path to empty');

select is(
  (select count(*)::int from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.proname like 'mc\_%' and has_function_privilege('anon', p.oid, 'execute')
      -- supabase/anon-allowlist.json: invite redemption and the spectator page work without an account.
      and p.proname not in ('mc_redeem_invite', 'mc_invite_info', 'mc_watch_snapshot')),
  0, 'anon can execute no mc_* function outside the anon allowlist');

select is(
  (select count(*)::int from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.proname like 'mc\_%' and not has_function_privilege('authenticated', p.oid, 'execute')),
  0, 'authenticated can execute every mc_* function');

select ok(not has_function_privilege('authenticated', 'mesh.call_as(text, text, jsonb, boolean)', 'execute'),
  'the hub entry mesh.call_as is not callable by API roles');

-- Direct table access as an API role is refused with the real denial (42501), whatever the claims.
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"9b2f4c1e-8a57-4f0e-a1d2-3c4b5d6e7f80","role":"authenticated"}', true);
select throws_ok('select * from mesh.messages', '42501', null, 'authenticated cannot select messages directly');
select throws_ok('select * from mesh.api_keys', '42501', null, 'authenticated cannot select api keys directly');
select throws_ok($$insert into mesh.accounts (email) values ('x@y.z')$$, '42501', null, 'authenticated cannot insert accounts directly');
reset role;
set local role anon;
select throws_ok('select * from mesh.agent_memory', '42501', null, 'anon cannot select memory directly');
select throws_ok($$select public.mc_whoami()$$, '42501', null, 'anon cannot call mc_whoami');
reset role;

select * from finish();
rollback;
