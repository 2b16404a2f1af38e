-- Linked meshworks: a link is active only when both owners agreed; only then may agents message across.
begin;
select plan(14);

select ok((select relrowsecurity from pg_class where oid = 'mesh.links'::regclass), 'mesh.links has RLS enabled');
select policies_are('mesh', 'links', array['links are visible to members of either meshwork'], 'links have one policy');
select ok(not has_function_privilege('anon', 'public.mc_link(text, text)', 'execute'), 'anon may not link projects');

create temporary table t_keys as
select (mesh.signup('ada@example.test', 'Ada') ->> 'key') as ada, (mesh.signup('bob@example.test', 'Bob') ->> 'key') as bob,
       (mesh.signup('eve@example.test', 'Eve') ->> 'key') as eve;
create function pg_temp.as_key(p_key text, p_fn text, p_args jsonb) returns jsonb language sql as $$
  select mesh.call_as(mesh.sha256_hex(p_key), p_fn, p_args) -> 'result'
$$;
select pg_temp.as_key((select ada from t_keys), 'mc_create_meshwork', '{"p_name":"alpha"}');
reset role;
select pg_temp.as_key((select ada from t_keys), 'mc_add_agent', '{"p_meshwork":"alpha","p_name":"front"}');
reset role;
select pg_temp.as_key((select bob from t_keys), 'mc_create_meshwork', '{"p_name":"beta"}');
reset role;
select pg_temp.as_key((select bob from t_keys), 'mc_add_agent', '{"p_meshwork":"beta","p_name":"back"}');
reset role;
select pg_temp.as_key((select eve from t_keys), 'mc_create_meshwork', '{"p_name":"evil"}');
reset role;
select pg_temp.as_key((select eve from t_keys), 'mc_add_agent', '{"p_meshwork":"evil","p_name":"x"}');
reset role;
create temporary table t_ids as select (select id from mesh.meshworks where name = 'alpha') as alpha, (select id from mesh.meshworks where name = 'beta') as beta;
grant select on t_ids to authenticated;

select throws_ok($$select pg_temp.as_key((select ada from t_keys), 'mc_send', '{"p_meshwork":"alpha","p_from":"front","p_to":"beta/back","p_body":"x"}')$$,
  'PT403', 'project ''beta'' is not linked with this project', 'unlinked projects cannot message');
reset role;
select is(pg_temp.as_key((select ada from t_keys), 'mc_link', jsonb_build_object('p_meshwork', 'alpha', 'p_target', (select beta from t_ids))) ->> 'active',
  'false', 'one owner''s consent is only a request');
reset role;
select throws_ok(format($$select pg_temp.as_key((select ada from t_keys), 'mc_send', '{"p_meshwork":"alpha","p_from":"front","p_to":"%s/back","p_body":"x"}')$$, (select beta from t_ids)),
  'PT403', null, 'a one-sided link does not allow messages');
reset role;
select throws_ok($$select pg_temp.as_key((select eve from t_keys), 'mc_link', '{"p_meshwork":"evil","p_target":"alpha"}')$$,
  'PT404', null, 'a stranger cannot link by name with a project that did not ask');
reset role;
select is(pg_temp.as_key((select bob from t_keys), 'mc_link', '{"p_meshwork":"beta","p_target":"alpha"}') ->> 'active',
  'true', 'the second owner accepts by name and the link is active');
reset role;
select is((select count(*)::int from mesh.links), 2, 'an active link is one consent row per side');

select is(pg_temp.as_key((select ada from t_keys), 'mc_send', '{"p_meshwork":"alpha","p_from":"front","p_to":"beta/back","p_body":"hello"}') ->> 'recipients',
  '1', 'linked projects can message');
reset role;
select is((select meshwork_id from mesh.messages where body = 'hello'), (select beta from t_ids), 'the message is stored in the recipient''s project');
select is((select seq from mesh.inbox i join mesh.agents a on a.id = i.agent_id where a.name = 'back'), 1::bigint,
  'it takes the recipient''s next gapless seq');
select throws_ok($$select pg_temp.as_key((select eve from t_keys), 'mc_send', '{"p_meshwork":"evil","p_from":"x","p_to":"beta/back","p_body":"x"}')$$,
  'PT403', null, 'a third project still cannot message');
reset role;

select pg_temp.as_key((select bob from t_keys), 'mc_unlink', '{"p_meshwork":"beta","p_target":"alpha"}');
reset role;
select throws_ok($$select pg_temp.as_key((select ada from t_keys), 'mc_send', '{"p_meshwork":"alpha","p_from":"front","p_to":"beta/back","p_body":"x"}')$$,
  'PT403', null, 'after either owner unlinks, messages are refused');
reset role;

select * from finish();
rollback;
