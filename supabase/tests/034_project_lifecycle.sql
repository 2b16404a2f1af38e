-- A project's end of life: deleting it (confirmed by name; everything goes; keys scoped to it say why they stopped;
-- what its agents sent to a linked project keeps their names) and retention of finished tasks and settled events.
begin;
select plan(14);

select ok(not has_function_privilege('anon', 'public.mc_delete_meshwork(text, text)', 'execute'), 'anon may not delete projects');
select ok(not has_function_privilege('authenticated', 'mesh.prune(integer)', 'execute'), 'pruning is the hub''s alone');

create temporary table t_keys as
select (mesh.signup('dee@example.test', 'Dee') ->> 'key') as dee, (mesh.signup('fay@example.test', 'Fay') ->> 'key') as fay;
create function pg_temp.as_key(p_key text, p_fn text, p_args jsonb) returns jsonb language sql as $$
  select mesh.call_as(mesh.sha256_hex(p_key), p_fn, p_args) -> 'result'
$$;
select pg_temp.as_key((select dee from t_keys), 'mc_create_meshwork', '{"p_name":"gone"}');
reset role;
select pg_temp.as_key((select dee from t_keys), 'mc_add_agent', '{"p_meshwork":"gone","p_name":"a"}');
reset role;
select pg_temp.as_key((select dee from t_keys), 'mc_add_agent', '{"p_meshwork":"gone","p_name":"b"}');
reset role;
select pg_temp.as_key((select fay from t_keys), 'mc_create_meshwork', '{"p_name":"stays"}');
reset role;
select pg_temp.as_key((select fay from t_keys), 'mc_add_agent', '{"p_meshwork":"stays","p_name":"x"}');
reset role;
create temporary table t_ids as
select (select id from mesh.meshworks where name = 'gone') as gone, (select id from mesh.meshworks where name = 'stays') as stays,
       (select id from mesh.agents where name = 'a') as a, (select id from mesh.agents where name = 'b') as b;
select pg_temp.as_key((select dee from t_keys), 'mc_link', jsonb_build_object('p_meshwork', 'gone', 'p_target', (select stays from t_ids)));
reset role;
select pg_temp.as_key((select fay from t_keys), 'mc_link', '{"p_meshwork":"stays","p_target":"gone"}');
reset role;
select pg_temp.as_key((select dee from t_keys), 'mc_send', '{"p_meshwork":"gone","p_from":"a","p_to":"stays/x","p_body":"across"}');
reset role;
-- b sends across too, and is removed before its project is deleted.
select pg_temp.as_key((select dee from t_keys), 'mc_send', '{"p_meshwork":"gone","p_from":"b","p_to":"stays/x","p_body":"from b"}');
reset role;
select pg_temp.as_key((select dee from t_keys), 'mc_remove_agent', '{"p_meshwork":"gone","p_name":"b"}');
reset role;
create temporary table t_agent_key as
select pg_temp.as_key((select dee from t_keys), 'mc_create_key', '{"p_meshwork":"gone","p_agent":"a"}') ->> 'key' as k;
reset role;

select throws_ok($$select pg_temp.as_key((select dee from t_keys), 'mc_delete_meshwork', '{"p_meshwork":"gone","p_confirm":"stays"}')$$,
  'PT400', 'to delete project ''gone'', confirm with its name', 'a wrong confirmation deletes nothing');
reset role;
select throws_ok($$select pg_temp.as_key((select k from t_agent_key), 'mc_delete_meshwork', '{"p_meshwork":"gone","p_confirm":"gone"}')$$,
  'PT403', null, 'an agent''s key cannot delete its project');
reset role;
select throws_ok($$select pg_temp.as_key((select fay from t_keys), 'mc_delete_meshwork', '{"p_meshwork":"gone","p_confirm":"gone"}')$$,
  'PT404', null, 'another account cannot even find it');
reset role;
select is(pg_temp.as_key((select dee from t_keys), 'mc_delete_meshwork', '{"p_meshwork":"gone","p_confirm":"gone"}'),
  '{"deleted": true, "meshwork": "gone", "agents": 1, "keys_revoked": 1}'::jsonb, 'the owner deletes it');
reset role;
select is((select count(*)::int from mesh.agents where meshwork_id = (select gone from t_ids)), 0, 'its agents went with it');
select is((select count(*)::int from mesh.links), 0, 'and both sides of its link');
select throws_ok($$select mesh.key_claims(mesh.sha256_hex((select k from t_agent_key)))$$,
  'PT401', 'the project this key was for was deleted', 'a key made for it says why it stopped');
select is((select array_agg(body order by body) from mesh.messages where meshwork_id = (select stays from t_ids)),
  array['across', 'from b'], 'what its agents sent to the linked project stays there');
select is(mesh.agent_label((select a from t_ids), (select stays from t_ids)), 'gone/a', 'under the name it was sent with');
select is(mesh.agent_label((select b from t_ids), (select stays from t_ids)), 'gone/b',
  'an agent removed before its project was deleted keeps its name too');

-- Retention: a finished task goes with its run; an open one, and a finished one whose write-back is pending, stay.
update mesh.meshworks set settings = settings || '{"retention_days": 1}' where id = (select stays from t_ids);
insert into mesh.tasks (meshwork_id, title, status, updated_at)
select (select stays from t_ids), t.title, t.status, now() - interval '2 days'
  from (values ('finished', 'done'), ('open', 'open'), ('pending write-back', 'done')) t(title, status);
insert into mesh.effects (meshwork_id, task_id, effect_key, provider, kind, target, payload)
select (select stays from t_ids), id, 'k1', 'github', 'comment', '{}', '{}' from mesh.tasks where title = 'pending write-back';
select is(mesh.prune(100) ->> 'tasks', '1', 'one batch prunes the one finished task with nothing left to write');
select is((select array_agg(title order by title) from mesh.tasks), array['open', 'pending write-back'], 'the others stay');

select * from finish();
rollback;
