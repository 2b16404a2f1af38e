-- The harness itself: the private schema, the API roles and the auth helpers the shim (or Supabase) provides.
begin;
select plan(10);

select has_schema('mesh', 'the private schema mesh exists');
select has_schema('auth', 'the auth schema exists');
select has_role('anon', 'role anon exists');
select has_role('authenticated', 'role authenticated exists');
select has_role('service_role', 'role service_role exists');
select has_function('auth', 'uid', array[]::text[], 'auth.uid() exists');
select has_function('auth', 'jwt', array[]::text[], 'auth.jwt() exists');

select is(auth.uid(), null, 'auth.uid() is null without claims');
select set_config('request.jwt.claims', '{"sub":"9b2f4c1e-8a57-4f0e-a1d2-3c4b5d6e7f80","role":"authenticated"}', true);
select is(auth.uid(), '9b2f4c1e-8a57-4f0e-a1d2-3c4b5d6e7f80'::uuid, 'auth.uid() reads request.jwt.claims');

set local role anon;
select throws_ok('select * from mesh_migrations.ledger', '42501', null, 'anon cannot read the migration ledger');

select * from finish();
rollback;
