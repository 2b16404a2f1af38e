-- The spectator link: owner-only, hashed, read-only for anyone holding it, redacted in SQL, dead once turned off.
begin;
select plan(16);

select ok(has_function_privilege('anon', 'public.mc_watch_snapshot(text)', 'execute'), 'anon may read a spectator snapshot');
select ok(not has_function_privilege('anon', 'public.mc_spectate(text, boolean)', 'execute'), 'anon may not create spectator links');
select ok(not has_function_privilege('authenticated', 'mesh.watch_activity(text, bigint, int)', 'execute'),
  'the hub-only stream reader is not callable by API roles');
select ok(not has_function_privilege('anon', 'mesh.watch_state(text)', 'execute'), 'nor by anon');

create temporary table t_keys as
select (mesh.signup('ada@example.test', 'Ada') ->> 'key') as ada, (mesh.signup('bob@example.test', 'Bob') ->> 'key') as bob;
create function pg_temp.as_key(p_key text, p_fn text, p_args jsonb) returns jsonb language sql as $$
  select mesh.call_as(case when p_key is null then null else mesh.sha256_hex(p_key) end, p_fn, p_args) -> 'result'
$$;
select pg_temp.as_key((select ada from t_keys), 'mc_create_meshwork', '{"p_name":"alpha"}');
reset role;
select pg_temp.as_key((select ada from t_keys), 'mc_add_agent', '{"p_meshwork":"alpha","p_name":"lead"}');
reset role;
select pg_temp.as_key((select ada from t_keys), 'mc_add_agent', '{"p_meshwork":"alpha","p_name":"dev"}');
reset role;
select pg_temp.as_key((select ada from t_keys), 'mc_memory_set', '{"p_meshwork":"alpha","p_agent":"dev","p_key":"k","p_value":"MEMORY-VALUE"}');
reset role;
select pg_temp.as_key((select ada from t_keys), 'mc_scratchpad_set', '{"p_meshwork":"alpha","p_key":"s","p_value":"SCRATCH-VALUE"}');
reset role;
select pg_temp.as_key((select ada from t_keys), 'mc_send',
  '{"p_meshwork":"alpha","p_from":"lead","p_to":"dev","p_body":"token ghp_16C7e42F292c6912E7710c838347Ae178B4a, password=hunter2"}');
reset role;

select throws_ok($$select pg_temp.as_key((select bob from t_keys), 'mc_spectate', '{"p_meshwork":"alpha"}')$$,
  'PT404', null, 'another account cannot create the project''s link');
reset role;
create temporary table t_link as select pg_temp.as_key((select ada from t_keys), 'mc_spectate', '{"p_meshwork":"alpha"}') as r;
reset role;
select matches((select r ->> 'path' from t_link), '^/watch/mc_watch_[0-9A-Za-z]{32}[0-9a-f]{6}$', 'the link path carries an mc_watch_ token');
select is((select spectator_token_hash from mesh.meshworks where name = 'alpha'), mesh.sha256_hex((select r ->> 'token' from t_link)),
  'only the sha256 of the token is stored');

create temporary table t_snap as
select pg_temp.as_key(null, 'mc_watch_snapshot', jsonb_build_object('p_token', (select r ->> 'token' from t_link))) as s;
reset role;
select is((select s ->> 'meshwork' from t_snap), 'alpha', 'anyone with the token reads the snapshot');
select is((select s -> 'messages' -> 0 ->> 'body' from t_snap), 'token [REDACTED:github-token], password=[REDACTED:secret]',
  'credential shapes in chat are redacted');
select ok((select position('MEMORY-VALUE' in s::text) = 0 and position('SCRATCH-VALUE' in s::text) = 0 from t_snap),
  'memory and scratchpad values are not in the snapshot');
select ok((select position((select id::text from mesh.meshworks where name = 'alpha') in s::text) = 0 from t_snap),
  'the snapshot carries no project id');
select is(mesh.redact_json('{"key":"k","value":"v","nested":[{"p_value":"x","note":"sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ"}]}'),
  '{"key":"k","value":"[REDACTED:value]","nested":[{"p_value":"[REDACTED:value]","note":"[REDACTED:api-key]"}]}'::jsonb,
  'JSON redaction masks value fields and credential shapes at any depth');
select throws_ok($$select pg_temp.as_key(null, 'mc_spectate', '{"p_meshwork":"alpha"}')$$, '42501', null,
  'anon cannot create a link (no grant)');
reset role;

-- Turning it off: the token opens nothing any more.
select pg_temp.as_key((select ada from t_keys), 'mc_spectate', '{"p_meshwork":"alpha","p_enable":false}');
reset role;
select is((select spectator_token_hash from mesh.meshworks where name = 'alpha'), null, 'turning the link off clears the hash');
select throws_ok(format($$select pg_temp.as_key(null, 'mc_watch_snapshot', '{"p_token":"%s"}')$$, (select r ->> 'token' from t_link)),
  'PT404', 'this spectator link is not valid or was turned off', 'the old token opens nothing');
reset role;
select is(mesh.watch_live(array[mesh.sha256_hex((select r ->> 'token' from t_link))]), '{}'::text[], 'the hub''s sweep sees the link is dead');

select * from finish();
rollback;
