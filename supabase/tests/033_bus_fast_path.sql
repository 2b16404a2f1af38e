-- What a send hands the hub after commit (the delivery, the revocation flag, the key's expiry), the inbox cascades
-- kept by triggers, and presence after a delivery that never overwrites a newer ack.
begin;
select plan(12);

create temporary table t_keys as select (mesh.signup('cy@example.test', 'Cy') ->> 'key') as cy;
grant select on t_keys to authenticated;

create function pg_temp.call(p_fn text, p_args jsonb) returns jsonb language sql as $$
  select mesh.call_as(mesh.sha256_hex((select cy from t_keys)), p_fn, p_args)
$$;

select pg_temp.call('mc_create_meshwork', '{"p_name":"fast"}');
reset role;
select pg_temp.call('mc_add_agent', '{"p_meshwork":"fast","p_name":"a"}');
reset role;
select pg_temp.call('mc_add_agent', '{"p_meshwork":"fast","p_name":"b"}');
reset role;

create temporary table t_sent as select pg_temp.call('mc_send', '{"p_meshwork":"fast","p_from":"a","p_to":"b","p_body":"hello"}') as r;
reset role;
select is((select (r ->> 'deliver')::jsonb -> 'to' -> 0 ->> 1 from t_sent), '1',
  'the delivery names the recipient''s seq');
select is((select (r ->> 'deliver')::jsonb -> 'to' -> 0 ->> 0 from t_sent), (select id::text from mesh.agents where name = 'b'),
  'the delivery names the recipient');
select is((select ((r ->> 'deliver')::jsonb -> 'm') || jsonb_build_object('seq', 1) from t_sent),
  (select mesh.message_json(m, 1) from mesh.messages m where m.body = 'hello'),
  'the delivered message is the wire shape an inbox read returns');
select is((select (r ->> 'revoked')::boolean from t_sent), false, 'a send revokes nothing');
select is((select r -> 'exp' from t_sent), 'null'::jsonb, 'a key without expiry reports no exp');

-- Presence after a delivery: working, unless the agent already acknowledged past it.
select is(mesh.mark_delivered(jsonb_build_array(jsonb_build_object('agent_id', (select id from mesh.agents where name = 'b'), 'seq', 1))),
  (select meshwork_id::text from mesh.agents where name = 'b'), 'marking a delivery changes the project''s feed');
select is((select status from mesh.agents where name = 'b'), 'working', 'the recipient is working');
update mesh.agents set status = 'waiting', acked_seq = 1 where name = 'b';
select is(mesh.mark_delivered(jsonb_build_array(jsonb_build_object('agent_id', (select id from mesh.agents where name = 'b'), 'seq', 1))),
  null, 'a delivery already acknowledged changes nothing');
select is((select status from mesh.agents where name = 'b'), 'waiting', 'a newer wait is not overwritten');

-- Revoking, and an expiry, are reported with the call that caused them.
create temporary table t_key2 as select pg_temp.call('mc_create_key', '{"p_meshwork":"fast","p_agent":"b","p_days":2}') -> 'result' as k;
reset role;
select ok((select (mesh.call_as(mesh.sha256_hex(k ->> 'key'), 'mc_whoami', '{}') -> 'exp')::bigint > extract(epoch from now())::bigint + 86400 from t_key2),
  'a key that expires reports exp in its claims');
reset role;
select is((pg_temp.call('mc_revoke_key', jsonb_build_object('p_key_id', (select k ->> 'id' from t_key2))) ->> 'revoked')::boolean, true,
  'revoking a key is reported to the hub');
reset role;

-- Removing an agent removes its inbox rows (the cascade the inbox's foreign key used to give).
select pg_temp.call('mc_remove_agent', '{"p_meshwork":"fast","p_name":"b"}');
reset role;
select is((select count(*)::int from mesh.inbox i where not exists (select 1 from mesh.agents a where a.id = i.agent_id)), 0,
  'no inbox row outlives its agent');

select * from finish();
rollback;
