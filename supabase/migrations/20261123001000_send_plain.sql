-- A plain send resolved by one statement. Every send used to pass through about a dozen functions before its writes:
-- mesh.token_claims (mesh.key_claims, then the key's expiry read a second time), mesh.send_project
-- (mesh.resolve_meshwork, mesh.require_role, mesh.member_role, mesh.caller_account twice), mesh.send_resolve_in
-- (mesh.resolve_agent, mesh.find_agent, mesh.check_text twice): each a call, most a statement or two, all run cold when
-- an agent wakes a sleeping peer. Measured from a pg client after the 20 ms pause the benchmark makes (medians of 400,
-- alternating, three runs), a lone send took 1.93-2.07 ms with its commit, and 1.61-1.76 ms resolved by the statement
-- below in an entry of its own; called from mesh.send_many's loop, as below for every send, it costs 0.05-0.08 ms
-- more, and the benchmark's send -> wake p50 measured the same either way.
--
-- mesh.send_many now tries mesh.send_plain first for each send, alone or in a batch. mesh.send_plain restates, as one
-- statement, the conditions under which the full checks accept a plain send, and nothing looser; for anything else it
-- answers null, and the send goes through the full checks (mesh.token_claims, mesh.send_project,
-- mesh.send_resolve_in), which give it exactly its answer or error. The conditions:
--   the key: an API key (not a dashboard session) found by its hash, not revoked, not expired, used within the last
--     minute (otherwise the full path records its use); scoped to no project and of kind owner, or scoped to this one;
--   the project: by name (not an id), the caller's live membership (any role: owner, member, guest), the caller's own
--     project first, then the oldest, as mesh.resolve_meshwork orders them;
--   the sender: the agent the key is bound to (in this project; p_from, if given, must be its name), or the agent
--     p_from names in the project, or no one (the overseer) when neither is given;
--   the recipient: one agent of the project by name, not the sender; no broadcast, overseer, linked project, reply or
--     thread;
--   the message: a non-blank body within 256 KB, kind message, ask or event, a deadline of 1 to 86400 seconds, data an
--     object within 64 KB, an idempotency key within 200 bytes; no argument the full path would refuse.
-- The writes are mesh.post_messages', the same as every send's. apps/hub/src/bus/send-plain.test.ts sends each of a
-- list of cases (every rule above, each way it can fail) with and without mesh.send_plain and asserts the same answer
-- or error and the same rows written.
--
-- mesh.send_many below is the definition of 20261122007000_send_memo.sql with the mesh.send_plain step added.

create or replace function mesh.send_plain(p_key text, a jsonb, out o mesh.outgoing, out exp bigint)
language plpgsql volatile
as $$
declare
  v_ref text := pg_catalog.btrim(a ->> 'p_meshwork');
  v_to text := pg_catalog.btrim(a ->> 'p_to');
  v_from text := pg_catalog.lower(pg_catalog.btrim(a ->> 'p_from'));
  v_kind text := coalesce(a ->> 'p_kind', 'message');
  v_deadline text := a ->> 'p_deadline_seconds';
  v_data jsonb := a -> 'p_data';
begin
  if p_key is null or pg_catalog.jsonb_typeof(a) is distinct from 'object'
     or a - array['p_meshwork', 'p_to', 'p_body', 'p_from', 'p_kind', 'p_idempotency_key', 'p_deadline_seconds', 'p_data'] <> '{}'::jsonb
     or v_ref is null or v_ref = '' or pg_catalog.octet_length(v_ref) > 200
     or v_ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     or v_to is null or v_to = '' or v_to = '*' or pg_catalog.lower(v_to) = 'overseer' or pg_catalog.strpos(v_to, '/') > 0
     or pg_catalog.length(pg_catalog.btrim(coalesce(a ->> 'p_body', ''))) = 0 or pg_catalog.octet_length(a ->> 'p_body') > 262144
     or v_kind not in ('message', 'ask', 'event')
     or pg_catalog.octet_length(a ->> 'p_idempotency_key') > 200
     or (v_deadline is not null and case when v_deadline ~ '^[0-9]{1,5}$' then v_deadline::int not between 1 and 86400 else true end)
     or (v_data is not null and (pg_catalog.jsonb_typeof(v_data) <> 'object' or pg_catalog.octet_length(v_data::text) > 65536)) then
    return;
  end if;
  select pg_catalog.gen_random_uuid(), w.id, coalesce(ak.agent_id, fa.id), ak.account_id, array[ta.id], false, v_kind,
         a ->> 'p_body', v_data, null, null,
         case when v_deadline is not null then pg_catalog.now() + pg_catalog.make_interval(secs => v_deadline::int) end,
         nullif(a ->> 'p_idempotency_key', ''), null, null,
         pg_catalog.floor(pg_catalog.date_part('epoch', ak.expires_at))::bigint
    into o.id, o.meshwork_id, o.from_agent_id, o.from_account_id, o.recipients, o.broadcast, o.kind, o.body, o.data,
         o.thread_id, o.reply_to, o.deadline_at, o.idempotency_key, o.link_meshwork_id, o.link_to, exp
    from mesh.api_keys ak
    cross join lateral (
      select m.id from mesh.meshworks m
        join mesh.members mb on mb.meshwork_id = m.id and mb.account_id = ak.account_id and mb.revoked_at is null
       where m.name = pg_catalog.lower(v_ref)
       order by (m.owner_id = ak.account_id) desc, m.created_at
       limit 1) w
    left join mesh.agents ba on ba.id = ak.agent_id
    left join mesh.agents fa on fa.meshwork_id = w.id and fa.name = v_from and ak.agent_id is null
    join mesh.agents ta on ta.meshwork_id = w.id and ta.name = pg_catalog.lower(v_to)
   where ak.key_hash = p_key and ak.revoked_at is null
     and (ak.expires_at is null or ak.expires_at > pg_catalog.now())
     and ak.last_used_at >= pg_catalog.now() - interval '1 minute'
     and ((ak.meshwork_id is null and ak.kind = 'owner') or ak.meshwork_id = w.id)
     and case when ak.agent_id is not null then ba.meshwork_id = w.id and (v_from is null or v_from = ba.name)
              else v_from is null or fa.id is not null end
     and ta.id is distinct from coalesce(ak.agent_id, fa.id);
end
$$;
comment on function mesh.send_plain(text, jsonb) is 'An mc_send the full checks would accept, resolved in one statement (key, project, membership, sender, recipient), or null for the full path.';
revoke all on function mesh.send_plain(text, jsonb) from public;

create or replace function mesh.send_many(p_calls jsonb)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_call jsonb;
  v_args jsonb;
  v_key text;
  v_claims jsonb;
  v_known jsonb := '{}'::jsonb;
  v_mws jsonb := '{}'::jsonb;
  v_mw_key text;
  v_mw uuid;
  v_set_key text;
  v_o mesh.outgoing;
  v_local mesh.outgoing[] := '{}';
  v_slots int[] := '{}';
  v_results jsonb[] := '{}';
  v_exp jsonb[] := '{}';
  v_posted jsonb;
  v_plain record;
  i int := 0;
begin
  for v_call in select pg_catalog.jsonb_array_elements(p_calls) loop
    i := i + 1;
    v_key := v_call ->> 0;
    v_args := v_call -> 1;
    if v_key is null or pg_catalog.jsonb_typeof(v_args) is distinct from 'object'
       or not (v_args ?& array['p_meshwork', 'p_to', 'p_body'])
       or v_args - array['p_meshwork', 'p_to', 'p_body', 'p_from', 'p_kind', 'p_thread_id', 'p_reply_to', 'p_idempotency_key',
                         'p_deadline_seconds', 'p_data'] <> '{}'::jsonb then
      perform mesh.fail(400, 'a batched send must be an authenticated mc_send with its named arguments', 'call mc_send on its own',
        'not batchable');
    end if;
    -- A plain send is resolved in one statement (mesh.send_plain); anything else by the full checks below.
    v_plain := mesh.send_plain(v_key, v_args);
    if (v_plain.o).id is not null then
      v_results := v_results || null::jsonb;
      v_exp := v_exp || pg_catalog.to_jsonb(v_plain.exp);
      v_local := v_local || v_plain.o;
      v_slots := v_slots || i;
      continue;
    end if;
    v_claims := v_known -> v_key;
    if v_claims is null then
      v_claims := mesh.token_claims(v_key);
      v_known := v_known || pg_catalog.jsonb_build_object(v_key, v_claims);
    end if;
    if v_set_key is distinct from v_key then
      perform pg_catalog.set_config('request.jwt.claims', v_claims::text, true);
      v_set_key := v_key;
    end if;
    v_mw_key := v_key || pg_catalog.chr(10) || coalesce(v_args ->> 'p_meshwork', '');
    v_mw := (v_mws ->> v_mw_key)::uuid;
    if v_mw is null then
      v_mw := mesh.send_project(v_args ->> 'p_meshwork');
      v_mws := v_mws || pg_catalog.jsonb_build_object(v_mw_key, v_mw);
    end if;
    v_o := mesh.send_resolve_in(v_mw, v_args ->> 'p_to', v_args ->> 'p_body', v_args ->> 'p_from',
      v_args ->> 'p_kind', (v_args ->> 'p_thread_id')::uuid, (v_args ->> 'p_reply_to')::uuid, v_args ->> 'p_idempotency_key',
      (v_args ->> 'p_deadline_seconds')::int, v_args -> 'p_data');
    v_exp := v_exp || (v_claims -> 'exp');
    if v_o.link_to is not null then
      v_results := v_results || mesh.post_outgoing(v_o);
    else
      v_results := v_results || null::jsonb;
      v_local := v_local || v_o;
      v_slots := v_slots || i;
    end if;
  end loop;
  if pg_catalog.cardinality(v_local) > 0 then
    v_posted := mesh.post_messages(v_local);
    for j in 1..pg_catalog.cardinality(v_slots) loop
      v_results[v_slots[j]] := v_posted -> (j - 1);
    end loop;
  end if;
  return mesh.hub_result(pg_catalog.jsonb_build_object('results',
    (select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('result', r.result, 'exp', r.exp) order by r.n), '[]'::jsonb)
       from rows from (pg_catalog.unnest(v_results), pg_catalog.unnest(v_exp)) with ordinality as r(result, exp, n))));
end
$$;
comment on function mesh.send_many(jsonb) is 'Hub entry for concurrent sends: [[key_hash, mc_send args], ...] in one transaction (all or nothing); returns {results: [{result, exp}], wake, changed, deliver, revoked}.';
revoke all on function mesh.send_many(jsonb) from public;
