-- RPC contracts as a caller: scoping, the cross-account boundary, gapless sequences, idempotency, memory limits.
begin;
select plan(16);

create temporary table t_keys as
select (mesh.signup('ada@example.test', 'Ada') ->> 'key') as ada, (mesh.signup('bob@example.test', 'Bob') ->> 'key') as bob;
grant select on t_keys to authenticated;

create function pg_temp.as_key(p_key text, p_fn text, p_args jsonb) returns jsonb language sql as $$
  select mesh.call_as(mesh.sha256_hex(p_key), p_fn, p_args) -> 'result'
$$;

select is(pg_temp.as_key((select ada from t_keys), 'mc_create_meshwork', '{"p_name":"Alpha"}') ->> 'name', 'alpha',
  'a project name is normalised to lowercase');
reset role;
select lives_ok($$select pg_temp.as_key((select ada from t_keys), 'mc_add_agent', '{"p_meshwork":"alpha","p_name":"lead"}')$$, 'owner adds an agent');
reset role;
select lives_ok($$select pg_temp.as_key((select ada from t_keys), 'mc_add_agent', '{"p_meshwork":"alpha","p_name":"dev"}')$$, 'owner adds a second agent');
reset role;

select throws_ok($$select pg_temp.as_key((select bob from t_keys), 'mc_status', '{"p_meshwork":"alpha"}')$$,
  'PT404', 'could not resolve project ''alpha'': project not found', 'another account cannot see the project by name');
reset role;
select throws_ok(format($$select pg_temp.as_key((select bob from t_keys), 'mc_status', '{"p_meshwork":"%s"}')$$,
  (select id from mesh.meshworks where name = 'alpha')),
  'PT404', null, 'another account cannot see the project by id');
reset role;
select throws_ok($$select pg_temp.as_key((select bob from t_keys), 'mc_send', '{"p_meshwork":"alpha","p_to":"dev","p_body":"x"}')$$,
  'PT404', null, 'another account cannot send into the project');
reset role;

-- Gapless sequence and idempotency.
select pg_temp.as_key((select ada from t_keys), 'mc_send', '{"p_meshwork":"alpha","p_from":"lead","p_to":"dev","p_body":"one","p_idempotency_key":"k"}');
reset role;
select is(pg_temp.as_key((select ada from t_keys), 'mc_send', '{"p_meshwork":"alpha","p_from":"lead","p_to":"dev","p_body":"one","p_idempotency_key":"k"}') ->> 'duplicate',
  'true', 'a resend with the same idempotency key is a duplicate');
reset role;
select pg_temp.as_key((select ada from t_keys), 'mc_send', '{"p_meshwork":"alpha","p_from":"lead","p_to":"*","p_body":"two"}');
reset role;
select results_eq($$select seq from mesh.inbox i join mesh.agents a on a.id = i.agent_id where a.name = 'dev' order by seq$$,
  array[1::bigint, 2::bigint], 'the recipient''s inbox is numbered 1, 2 without gaps');
select is((select inbox_seq from mesh.agents where name = 'dev'), 2::bigint, 'the counter matches the last seq');
select is((select count(*)::int from mesh.inbox i join mesh.agents a on a.id = i.agent_id where a.name = 'lead'), 0,
  'a broadcast does not reach its sender');

-- A key bound to one agent slot.
create temporary table t_scoped as
select pg_temp.as_key((select ada from t_keys), 'mc_create_key', '{"p_meshwork":"alpha","p_agent":"dev"}') ->> 'key' as k;
reset role;
grant select on t_scoped to authenticated;
select throws_ok($$select pg_temp.as_key((select k from t_scoped), 'mc_send', '{"p_meshwork":"alpha","p_from":"lead","p_to":"dev","p_body":"x"}')$$,
  'PT403', null, 'a bound key cannot act as another agent');
reset role;
select throws_ok($$select pg_temp.as_key((select k from t_scoped), 'mc_create_meshwork', '{"p_name":"mine"}')$$,
  'PT403', null, 'a bound key cannot create projects');
reset role;
select is(jsonb_array_length(pg_temp.as_key((select k from t_scoped), 'mc_wait', '{"p_meshwork":"alpha","p_timeout_seconds":0}') -> 'messages'),
  2, 'a bound key reads its own inbox without naming the agent');
reset role;

-- Memory limits live in SQL.
select throws_ok($$select pg_temp.as_key((select ada from t_keys), 'mc_memory_set', jsonb_build_object('p_meshwork','alpha','p_agent','dev','p_key','big','p_value', repeat('x', 10241)))$$,
  'PT400', 'memory value is 10241 bytes; the limit is 10 KB (10240 bytes) per value', 'a value over 10 KB is refused');
reset role;
select throws_ok($$insert into mesh.agent_memory (agent_id, key, value) select id, 'raw', repeat('x', 10241) from mesh.agents where name = 'dev'$$,
  '23514', null, 'the table itself refuses a value over 10 KB');
select throws_ok($$select mesh.call_as(mesh.sha256_hex('mc_' || repeat('A', 38)), 'mc_whoami', '{}')$$,
  'PT401', 'API key is invalid or has been revoked', 'an unknown key is refused');

select * from finish();
rollback;
