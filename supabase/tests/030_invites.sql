-- Invites and members: private tables behind owner-only policies, hashed tokens, atomic redemption with clear
-- errors, a guest key for one slot only, and removal that ends every key of the member.
begin;
select plan(29);

-- Tables: RLS on, no privileges for the API roles, one select policy each.
select ok((select relrowsecurity from pg_class where oid = 'mesh.invites'::regclass), 'mesh.invites has RLS enabled');
select ok((select relrowsecurity from pg_class where oid = 'mesh.invite_redemptions'::regclass), 'mesh.invite_redemptions has RLS enabled');
select policies_are('mesh', 'invites', array['invites are visible to owners of their meshwork'], 'invites have one policy');
select policies_are('mesh', 'invite_redemptions', array['redemptions are visible to owners of the invite''s meshwork'],
  'redemptions have one policy');
select ok(has_function_privilege('anon', 'public.mc_redeem_invite(text, text)', 'execute'), 'anon may redeem an invite');
select ok(has_function_privilege('anon', 'public.mc_invite_info(text)', 'execute'), 'anon may read an invite it holds');
select ok(not has_function_privilege('anon', 'public.mc_create_invite(text, text, text, int, int)', 'execute'), 'anon may not create invites');
select ok(not has_function_privilege('anon', 'public.mc_members(text)', 'execute'), 'anon may not list members');

create temporary table t_keys as
select (mesh.signup('ada@example.test', 'Ada') ->> 'key') as ada, (mesh.signup('bob@example.test', 'Bob') ->> 'key') as bob;
create function pg_temp.as_key(p_key text, p_fn text, p_args jsonb) returns jsonb language sql as $$
  select mesh.call_as(case when p_key is null then null else mesh.sha256_hex(p_key) end, p_fn, p_args) -> 'result'
$$;
select pg_temp.as_key((select ada from t_keys), 'mc_create_meshwork', '{"p_name":"alpha"}');
reset role;
select pg_temp.as_key((select ada from t_keys), 'mc_add_agent', '{"p_meshwork":"alpha","p_name":"lead"}');
reset role;
create temporary table t_inv as
select pg_temp.as_key((select ada from t_keys), 'mc_create_invite', '{"p_meshwork":"alpha","p_agent":"designer","p_role":"UI designer"}') as r;
reset role;

select matches((select r ->> 'token' from t_inv), '^mc_inv_[0-9A-Za-z]{32}[0-9a-f]{6}$', 'an invite token is mc_inv_ + 32 base62 + checksum');
select is((select token_hash from mesh.invites), mesh.sha256_hex((select r ->> 'token' from t_inv)), 'only the sha256 of the token is stored');
select is((select count(*)::int from mesh.agents where name = 'designer'), 1, 'the invite created the missing agent slot');
select throws_ok($$select pg_temp.as_key((select bob from t_keys), 'mc_create_invite', '{"p_meshwork":"alpha","p_agent":"x"}')$$,
  'PT404', 'could not resolve project ''alpha'': project not found', 'another account cannot invite into the project');
reset role;

-- Policies, checked for real: grant table access inside this rolled-back transaction and look as each caller.
create temporary table t_ids as
select (select id from mesh.accounts where email = 'ada@example.test') as ada, (select id from mesh.accounts where email = 'bob@example.test') as bob;
grant select on t_ids to authenticated;
grant usage on schema mesh to authenticated;
grant select on mesh.invites, mesh.invite_redemptions, mesh.members to authenticated;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', (select ada from t_ids), 'role', 'authenticated')::text, true);
select is((select count(*)::int from mesh.invites), 1, 'the owner''s policy shows its project''s invite');
select set_config('request.jwt.claims', json_build_object('sub', (select bob from t_ids), 'role', 'authenticated')::text, true);
select is((select count(*)::int from mesh.invites), 0, 'another account sees no invite (USING filter)');
reset role;
revoke select on mesh.invites, mesh.invite_redemptions, mesh.members from authenticated;
revoke usage on schema mesh from authenticated;
set local role authenticated;
select throws_ok('select * from mesh.invites', '42501', null, 'without the test grant, authenticated cannot read invites at all');
reset role;

-- Redemption: anonymous, atomic, one use.
create temporary table t_guest as
select pg_temp.as_key(null, 'mc_redeem_invite', jsonb_build_object('p_token', (select r ->> 'token' from t_inv), 'p_display_name', 'Alice')) as r;
reset role;
select is((select r ->> 'agent' from t_guest), 'designer', 'redeeming returns the agent slot');
select is((select (kind, meshwork_id is not null, agent_id is not null)::text from mesh.api_keys where key_hash = mesh.sha256_hex((select r ->> 'key' from t_guest))),
  '(invite,t,t)', 'the minted key is an invite key bound to one meshwork and one agent');
select is((select guest from mesh.accounts where id = (select (r -> 'account' ->> 'id')::uuid from t_guest)), true, 'the redeemer gets a guest account');
select is((select role from mesh.members where account_id = (select (r -> 'account' ->> 'id')::uuid from t_guest)), 'guest', 'with the guest role');
select is((select uses from mesh.invites), 1, 'the use is counted');
select throws_ok(format($$select pg_temp.as_key(null, 'mc_redeem_invite', '{"p_token":"%s"}')$$, (select r ->> 'token' from t_inv)),
  'PT409', 'this invite has already been used', 'a second redemption is refused');
reset role;
select throws_ok($$select pg_temp.as_key(null, 'mc_redeem_invite', '{"p_token":"mc_inv_nope"}')$$,
  'PT404', 'this invite is not valid', 'an unknown token is refused');
reset role;
create temporary table t_more (expired jsonb, revoked jsonb);
insert into t_more (expired) select pg_temp.as_key((select ada from t_keys), 'mc_create_invite', '{"p_meshwork":"alpha","p_agent":"designer"}');
reset role;
update t_more set revoked = pg_temp.as_key((select ada from t_keys), 'mc_create_invite', '{"p_meshwork":"alpha","p_agent":"designer"}');
reset role;
update mesh.invites set expires_at = now() - interval '1 second' where id = (select (expired ->> 'id')::uuid from t_more);
select throws_ok(format($$select pg_temp.as_key(null, 'mc_redeem_invite', '{"p_token":"%s"}')$$, (select expired ->> 'token' from t_more)),
  'PT410', 'this invite has expired', 'an expired invite is refused');
reset role;
select pg_temp.as_key((select ada from t_keys), 'mc_revoke_invite', jsonb_build_object('p_invite_id', (select revoked ->> 'id' from t_more)));
reset role;
select throws_ok(format($$select pg_temp.as_key(null, 'mc_redeem_invite', '{"p_token":"%s"}')$$, (select revoked ->> 'token' from t_more)),
  'PT410', 'this invite was revoked by the project owner', 'a revoked invite is refused');
reset role;

-- The guest key: its slot only.
select lives_ok(format($$select pg_temp.as_key('%s', 'mc_status', '{"p_meshwork":"alpha"}')$$, (select r ->> 'key' from t_guest)),
  'the guest key reads its project''s board');
reset role;
select throws_ok(format($$select pg_temp.as_key('%s', 'mc_send', '{"p_meshwork":"alpha","p_from":"lead","p_to":"designer","p_body":"x"}')$$, (select r ->> 'key' from t_guest)),
  'PT403', null, 'the guest key cannot act as another agent');
reset role;
select throws_ok(format($$select pg_temp.as_key('%s', 'mc_members', '{"p_meshwork":"elsewhere"}')$$, (select r ->> 'key' from t_guest)),
  'PT403', 'scoped api key cannot access this project', 'the guest key cannot name another project');
reset role;

-- Removal: the guest's keys fail on the next request.
select is(pg_temp.as_key((select ada from t_keys), 'mc_revoke_member', '{"p_meshwork":"alpha","p_user":"Alice"}') ->> 'keys_revoked', '1',
  'removing the guest revokes its key');
reset role;
select throws_ok(format($$select pg_temp.as_key('%s', 'mc_whoami', '{}')$$, (select r ->> 'key' from t_guest)),
  'PT401', null, 'the removed guest''s key fails on its next request');
reset role;

select * from finish();
rollback;
