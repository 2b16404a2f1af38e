-- The bus's hot path, made cheaper:
-- 1. A committed message is handed to the hub with its wake-up (mesh.deliver), so a long-poll whose cursor sits just
--    behind it is answered without reading the inbox again. Presence for such a delivery is written afterwards, off
--    the hot path (mesh.mark_delivered).
-- 2. Anything that can end a credential (key revoked or expiring, member removed or demoted, agent or project
--    deleted, session ended) notes mesh.revoked; the hub then re-checks every long-poll it holds, and mesh.call_as
--    reports when the caller's credential expires ("exp"), so a held wait is never answered past it.
-- 3. The inbox read joins each inbox row to its message by primary key (it hashed the whole messages table before).
-- 4. Helpers that only ever run inside a SECURITY DEFINER entry point (which fixes search_path = '') inherit that path
--    instead of setting it again: a SET clause costs a configuration save/restore on every call and keeps a SQL
--    function from being inlined. Entry points the hub calls directly keep theirs.

do $$
declare
  f text;
begin
  foreach f in array array[
    'mesh.caller_account()', 'mesh.caller_scope()', 'mesh.check_envelope(text, text)', 'mesh.check_kv(text, text, text)',
    'mesh.check_name(text, text)', 'mesh.check_priority(text)', 'mesh.check_source(text)',
    'mesh.check_text(text, text, integer, boolean)', 'mesh.clip_bytes(text, integer)', 'mesh.fail(integer, text, text, text)',
    'mesh.find_agent(uuid, text)', 'mesh.member_role(uuid, uuid)', 'mesh.resolve_agent(uuid, text)',
    'mesh.resolve_meshwork(text)', 'mesh.resolve_linked(uuid, text)', 'mesh.require_role(uuid, text)',
    'mesh.require_account_scope()', 'mesh.log(uuid, uuid, text, text, jsonb)', 'mesh.note_wake(uuid[])',
    'mesh.message_json(mesh.messages, bigint)', 'mesh.agent_json(mesh.agents)', 'mesh.agent_label(uuid, uuid)',
    'mesh.task_json(mesh.tasks)', 'mesh.task_actor(uuid, text)', 'mesh.notify_assignee(mesh.tasks, uuid, text)',
    'mesh.name_list(text[])', 'mesh.presence(text, timestamp with time zone)', 'mesh.linked(uuid, uuid)',
    'mesh.memory_agent(uuid, text)', 'mesh.key_claims(text)', 'mesh.session_claims(text)',
    'mesh.post_link_message(uuid, uuid, uuid, uuid, text, text, jsonb, uuid, uuid, timestamp with time zone, text)']
  loop
    execute pg_catalog.format('alter function %s reset search_path', f);
  end loop;
end
$$;

-- Something that can end a credential happened in this transaction: the hub re-checks the long-polls it holds.
create or replace function mesh.note_revoked()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.set_config('mesh.revoked', '1', true);
  return null;
end
$$;
comment on function mesh.note_revoked() is 'Statement trigger: a credential may have ended; read by mesh.call_as and passed to the hub.';
revoke all on function mesh.note_revoked() from public;

create trigger api_keys_note_revoked after update of revoked_at, expires_at or delete on mesh.api_keys
  for each statement execute function mesh.note_revoked();
create trigger members_note_revoked after update of revoked_at, role or delete on mesh.members
  for each statement execute function mesh.note_revoked();
create trigger agents_note_revoked after delete on mesh.agents
  for each statement execute function mesh.note_revoked();
create trigger meshworks_note_revoked after delete on mesh.meshworks
  for each statement execute function mesh.note_revoked();
create trigger sessions_note_revoked after update of revoked_at on mesh.sessions
  for each statement execute function mesh.note_revoked();

-- Claims now carry "exp" (epoch seconds) when the credential expires, as a JWT would.
create or replace function mesh.token_claims(p_token_hash text)
returns jsonb
language plpgsql volatile
as $$
declare
  v jsonb := coalesce(mesh.key_claims(p_token_hash), mesh.session_claims(p_token_hash));
  v_exp timestamptz;
begin
  if v is null then
    perform mesh.fail(401, 'API key is invalid or has been revoked', 'log in again with a current key (meshcode login mc_...)');
  end if;
  if v ? 'session_id' then
    select least(se.expires_at, ak.expires_at) into v_exp
      from mesh.sessions se join mesh.api_keys ak on ak.id = se.key_id where se.id = (v ->> 'session_id')::uuid;
  else
    select ak.expires_at into v_exp from mesh.api_keys ak where ak.id = (v ->> 'key_id')::uuid;
  end if;
  if v_exp is not null then
    v := v || pg_catalog.jsonb_build_object('exp', pg_catalog.floor(pg_catalog.date_part('epoch', v_exp))::bigint);
  end if;
  return v;
end
$$;
comment on function mesh.token_claims(text) is 'Claims for an API key or dashboard session hash (with exp when it expires), or 401.';
revoke all on function mesh.token_claims(text) from public;

-- As before (store once, fan out in id order with a gapless per-recipient seq, note wake-ups, log), and now also
-- note the delivery. Names are looked up once.
create or replace function mesh.post_message(p_meshwork uuid, p_from uuid, p_recipients uuid[], p_broadcast boolean, p_kind text,
  p_body text, p_data jsonb, p_thread uuid, p_reply_to uuid, p_deadline timestamptz, p_idempotency_key text)
returns jsonb
language plpgsql volatile
as $$
declare
  v_id uuid := pg_catalog.gen_random_uuid();
  v_msg mesh.messages;
  v_existing mesh.messages;
  v_count int;
  v_to jsonb;
  v_from_name text;
  v_to_name text;
begin
  insert into mesh.messages (id, meshwork_id, from_agent_id, from_account_id, to_agent_id, broadcast, kind, body, data, thread_id,
    reply_to, deadline_at, idempotency_key)
  values (v_id, p_meshwork, p_from, auth.uid(), case when p_broadcast then null else p_recipients[1] end, p_broadcast, p_kind, p_body,
    p_data, coalesce(p_thread, v_id), p_reply_to, p_deadline, p_idempotency_key)
  on conflict do nothing
  returning * into v_msg;
  if v_msg.id is null then
    select * into v_existing from mesh.messages m
     where m.meshwork_id = p_meshwork and m.from_agent_id is not distinct from p_from
       and m.from_account_id is not distinct from auth.uid() and m.idempotency_key = p_idempotency_key;
    return pg_catalog.jsonb_build_object('id', v_existing.id, 'thread_id', v_existing.thread_id, 'duplicate', true,
      'recipients', (select pg_catalog.count(*) from mesh.inbox i where i.message_id = v_existing.id));
  end if;
  with locked as (
    select a.id from mesh.agents a where a.id = any (p_recipients) order by a.id for no key update
  ), bumped as (
    update mesh.agents a set inbox_seq = a.inbox_seq + 1 from locked where a.id = locked.id returning a.id, a.inbox_seq
  ), ins as (
    insert into mesh.inbox (agent_id, seq, message_id) select b.id, b.inbox_seq, v_msg.id from bumped b returning agent_id, seq
  )
  select pg_catalog.count(*)::int, coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(ins.agent_id, ins.seq)), '[]'::jsonb)
    into v_count, v_to from ins;
  perform mesh.note_wake(p_recipients);
  perform mesh.note_deliver(mesh.message_json(v_msg), v_to);
  v_from_name := coalesce((select a.name from mesh.agents a where a.id = p_from), 'overseer');
  v_to_name := case when p_broadcast then '*' else coalesce((select a.name from mesh.agents a where a.id = p_recipients[1]), 'overseer') end;
  perform mesh.log(p_meshwork, p_from, 'message', pg_catalog.format('%s -> %s: %s', v_from_name, v_to_name, pg_catalog.left(p_body, 200)),
    pg_catalog.jsonb_build_object('message_id', v_msg.id, 'kind', p_kind, 'thread_id', v_msg.thread_id, 'reply_to', p_reply_to,
      'from', v_from_name, 'to', v_to_name));
  return pg_catalog.jsonb_build_object('id', v_msg.id, 'thread_id', v_msg.thread_id, 'duplicate', false, 'recipients', v_count);
end
$$;
comment on function mesh.post_message(uuid, uuid, uuid[], boolean, text, text, jsonb, uuid, uuid, timestamptz, text) is 'Store once, fan out with gapless per-recipient seq, note wake-ups and the delivery, log.';

-- The inbox read, unchanged except that each inbox row fetches its message by primary key: joining the page of inbox
-- rows to mesh.messages let the planner hash the whole table on every read.
create or replace function mesh.inbox_read_many(p_items jsonb)
returns jsonb
language plpgsql volatile
as $$
declare
  v_out jsonb;
  v_changed uuid[];
begin
  perform pg_catalog.set_config('synchronous_commit', 'off', true);
  perform 1 from mesh.agents a
   where a.id in (select (x ->> 'agent_id')::uuid from pg_catalog.jsonb_array_elements(p_items) x)
   order by a.id for no key update;
  with items as (
    select t.ord::int as i, (t.x ->> 'agent_id')::uuid as agent_id, (t.x ->> 'after')::bigint as req_after,
           least(greatest(coalesce((t.x ->> 'limit')::int, 100), 1), 500) as lim
      from pg_catalog.jsonb_array_elements(p_items) with ordinality as t(x, ord)
  ), st as (
    select it.i, it.agent_id, it.lim, a.name, a.meshwork_id, a.inbox_seq, a.status as old_status,
           coalesce(it.req_after, a.acked_seq) as after
      from items it join mesh.agents a on a.id = it.agent_id
  ), ok as (
    select * from st where st.after >= 0 and st.after <= st.inbox_seq
  ), msgs as (
    select ok.i, pg_catalog.jsonb_agg(ib.message order by ib.seq) as messages, pg_catalog.count(*)::int as n
      from ok
      cross join lateral (select i2.seq, (select mesh.message_json(m, i2.seq) from mesh.messages m where m.id = i2.message_id) as message
                            from mesh.inbox i2
                           where i2.agent_id = ok.agent_id and i2.seq > ok.after order by i2.seq limit ok.lim) ib
     group by ok.i
  ), res as (
    select ok.*, coalesce(msgs.messages, '[]'::jsonb) as messages, coalesce(msgs.n, 0) as n,
           case when coalesce(msgs.n, 0) > 0 then 'working' else 'waiting' end as new_status
      from ok left join msgs on msgs.i = ok.i
  ), upd as (
    update mesh.agents a set acked_seq = greatest(a.acked_seq, res.after), last_seen_at = pg_catalog.now(), status = res.new_status
      from res
     where a.id = res.agent_id
       and (a.acked_seq < res.after or a.status <> res.new_status
            or a.last_seen_at is null or a.last_seen_at < pg_catalog.now() - interval '5 seconds')
    returning a.id -- data-modifying CTEs always run; nothing reads this
  ), logged as (
    insert into mesh.activity (meshwork_id, agent_id, account_id, kind, summary, data)
    select res.meshwork_id, res.agent_id, auth.uid(), 'status', pg_catalog.format('%s is %s', res.name, res.new_status),
           pg_catalog.jsonb_build_object('status', res.new_status)
      from res where res.old_status <> res.new_status
    returning meshwork_id
  )
  select pg_catalog.jsonb_agg(
           case
             when st.i is null then pg_catalog.jsonb_build_object('error', pg_catalog.jsonb_build_object('status', 404, 'code', 'PT404',
               'message', 'the agent was removed', 'hint', 'add it again with meshcode setup <project> <agent>'))
             when st.after < 0 then pg_catalog.jsonb_build_object('error', pg_catalog.jsonb_build_object('status', 400, 'code', 'PT400',
               'message', 'after_seq must be 0 or more', 'hint', 'pass the seq of the last message you handled'))
             when res.i is null then pg_catalog.jsonb_build_object('error', pg_catalog.jsonb_build_object('status', 400, 'code', 'PT400',
               'message', pg_catalog.format('after_seq %s is ahead of the inbox (last seq %s)', st.after, st.inbox_seq),
               'hint', 'omit p_after_seq to resume from the stored cursor'))
             else pg_catalog.jsonb_build_object('result', pg_catalog.jsonb_build_object('agent', res.name, 'agent_id', res.agent_id,
               'cursor', res.after, 'messages', res.messages, 'last_seq', res.inbox_seq, 'has_more', res.inbox_seq > res.after + res.n))
           end order by it.i),
         (select pg_catalog.array_agg(distinct l.meshwork_id) from logged l)
    into v_out, v_changed
    from items it left join st on st.i = it.i left join res on res.i = it.i;
  if v_changed is not null then
    perform pg_catalog.set_config('mesh.changed',
      coalesce(nullif(pg_catalog.current_setting('mesh.changed', true), '') || ',', '') || pg_catalog.array_to_string(v_changed, ','), true);
  end if;
  return coalesce(v_out, '[]'::jsonb);
end
$$;
comment on function mesh.inbox_read_many(jsonb) is 'Set-based inbox read for many agents: rows after each cursor (each message fetched by key), acks, presence, status activity (shared by mc_wait and mesh.wait_batch).';

-- Presence for long-polls the hub answered from a delivery (no inbox read happened): mark each agent working unless
-- it has already acknowledged past that message (its next wait got there first). Same locking order as every writer.
create or replace function mesh.mark_delivered(p_items jsonb)
returns text
language plpgsql volatile
set search_path = ''
as $$
declare
  v_changed uuid[];
begin
  perform pg_catalog.set_config('synchronous_commit', 'off', true);
  perform 1 from mesh.agents a
   where a.id in (select (x ->> 'agent_id')::uuid from pg_catalog.jsonb_array_elements(p_items) x)
   order by a.id for no key update;
  with items as (
    select (x ->> 'agent_id')::uuid as agent_id, pg_catalog.max((x ->> 'seq')::bigint) as seq
      from pg_catalog.jsonb_array_elements(p_items) x group by 1
  ), upd as (
    update mesh.agents a set status = 'working', last_seen_at = pg_catalog.now()
      from items it
     where a.id = it.agent_id and a.acked_seq < it.seq and a.status <> 'working'
    returning a.id, a.meshwork_id, a.name
  ), logged as (
    insert into mesh.activity (meshwork_id, agent_id, kind, summary, data)
    select u.meshwork_id, u.id, 'status', pg_catalog.format('%s is working', u.name), '{"status": "working"}'::jsonb from upd u
    returning meshwork_id
  )
  select pg_catalog.array_agg(distinct l.meshwork_id) into v_changed from logged l;
  return pg_catalog.array_to_string(v_changed, ',');
end
$$;
comment on function mesh.mark_delivered(jsonb) is 'Hub-only: presence after long-polls were answered from deliveries; returns the meshworks whose feeds changed.';
revoke all on function mesh.mark_delivered(jsonb) from public;

-- The hub's entry point, now also returning the delivery, the revocation flag and the credential's expiry.
create or replace function mesh.call_as(p_key_hash text, p_fn text, p_args jsonb, p_get boolean default false)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_claims jsonb;
  v_role text;
  v_proc record;
  v_parts text[] := '{}';
  v_name text;
  v_type text;
  v_expr text;
  v_required int;
  v_result jsonb;
  v_args jsonb := coalesce(p_args, '{}'::jsonb);
begin
  if pg_catalog.jsonb_typeof(v_args) <> 'object' then
    perform mesh.fail(400, 'RPC arguments must be a JSON object of named arguments', 'send a body such as {"p_meshwork": "demo"}');
  end if;
  if p_key_hash is null then
    v_role := 'anon';
    v_claims := '{"role":"anon"}'::jsonb;
  else
    v_claims := mesh.token_claims(p_key_hash);
    v_role := 'authenticated';
  end if;

  if p_fn is null or p_fn !~ '^[a-z_][a-z0-9_]{0,62}$' then
    perform mesh.fail(404, pg_catalog.format('Could not find the function public.%s in the schema cache', pg_catalog.left(coalesce(p_fn, ''), 64)), null, 'PGRST202');
  end if;
  select p.oid, p.proargnames, p.proargtypes::oid[] as types, p.pronargs, p.pronargdefaults, p.provolatile
    into v_proc
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'public' and p.proname = p_fn and p.prokind = 'f';
  if not found then
    perform mesh.fail(404, pg_catalog.format('Could not find the function public.%s in the schema cache', p_fn),
      'check the function name against the RPC reference', 'PGRST202');
  end if;
  if p_get and v_proc.provolatile = 'v' then
    perform mesh.fail(405, pg_catalog.format('public.%s changes data and cannot be called with GET', p_fn), 'call it with POST');
  end if;
  for v_name in select pg_catalog.jsonb_object_keys(v_args) loop
    if v_proc.proargnames is null or not (v_name = any (v_proc.proargnames[1:v_proc.pronargs])) then
      perform mesh.fail(404, pg_catalog.format('Could not find the function public.%s(%s) in the schema cache: it has no argument %s',
          p_fn, pg_catalog.left(v_name, 64), pg_catalog.quote_ident(pg_catalog.left(v_name, 64))),
        pg_catalog.format('arguments of %s: %s', p_fn, coalesce(pg_catalog.array_to_string(v_proc.proargnames[1:v_proc.pronargs], ', '), 'none')),
        'PGRST202');
    end if;
  end loop;
  v_required := v_proc.pronargs - v_proc.pronargdefaults;
  for i in 1..v_proc.pronargs loop
    v_name := v_proc.proargnames[i];
    if not (v_args ? v_name) then
      if i <= v_required then
        perform mesh.fail(404, pg_catalog.format('Could not find the function public.%s without argument %s in the schema cache', p_fn, v_name),
          pg_catalog.format('pass %s', v_name), 'PGRST202');
      end if;
      continue;
    end if;
    v_type := pg_catalog.format_type(v_proc.types[i - 1], null);
    v_expr := case
      when v_type = 'jsonb' then pg_catalog.format('($1 -> %L)', v_name)
      when v_type = 'json' then pg_catalog.format('($1 -> %L)::json', v_name)
      when v_type like '%[]' then pg_catalog.format('(case when pg_catalog.jsonb_typeof($1 -> %1$L) = ''array'' then array(select pg_catalog.jsonb_array_elements_text($1 -> %1$L)) end)::%2$s', v_name, v_type)
      else pg_catalog.format('($1 ->> %L)::%s', v_name, v_type)
    end;
    v_parts := v_parts || pg_catalog.format('%I => %s', v_name, v_expr);
  end loop;

  perform pg_catalog.set_config('request.jwt.claims', v_claims::text, true);
  perform pg_catalog.set_config('role', v_role, true);
  execute pg_catalog.format('select pg_catalog.to_jsonb(public.%I(%s))', p_fn, pg_catalog.array_to_string(v_parts, ', '))
    into v_result using v_args;
  return pg_catalog.jsonb_build_object('result', v_result,
    'wake', nullif(pg_catalog.current_setting('mesh.wake', true), ''),
    'changed', nullif(pg_catalog.current_setting('mesh.changed', true), ''),
    'deliver', nullif(pg_catalog.current_setting('mesh.deliver', true), ''),
    'revoked', coalesce(pg_catalog.current_setting('mesh.revoked', true), '') = '1',
    'exp', v_claims -> 'exp');
end
$$;
comment on function mesh.call_as(text, text, jsonb, boolean) is 'Hub entry: authenticate a key hash, switch to the caller''s role and claims, call public.<fn> with named args; returns the result with what the hub must do after commit (wake, changed, deliver, revoked) and the credential''s exp.';
revoke all on function mesh.call_as(text, text, jsonb, boolean) from public;

-- Hub-side calls (webhook intake, the pipeline) report the same after-commit notes as mesh.call_as.
create or replace function mesh.hub_result(p jsonb)
returns jsonb
language sql volatile
set search_path = ''
as $$
  select coalesce(p, '{}'::jsonb) || pg_catalog.jsonb_build_object(
    'wake', nullif(pg_catalog.current_setting('mesh.wake', true), ''),
    'changed', nullif(pg_catalog.current_setting('mesh.changed', true), ''),
    'deliver', nullif(pg_catalog.current_setting('mesh.deliver', true), ''),
    'revoked', coalesce(pg_catalog.current_setting('mesh.revoked', true), '') = '1')
$$;
comment on function mesh.hub_result(jsonb) is 'Add what this transaction noted for the hub to do after commit (wake, changed, deliver, revoked).';

-- SQL-language helpers that read tables cannot be inlined, and a SQL function that is not inlined is planned again
-- on every call (a quarter of a millisecond for message_json, once per message read). As PL/pgSQL their plans are
-- cached per connection. Same bodies, same results.
create or replace function mesh.message_json(m mesh.messages, p_seq bigint default null)
returns jsonb
language plpgsql stable
as $$
begin
  return pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'seq', p_seq, 'id', m.id,
    'from', coalesce((select case when a.meshwork_id = m.meshwork_id then a.name
                                  else (select w.name from mesh.meshworks w where w.id = a.meshwork_id) || '/' || a.name end
                        from mesh.agents a where a.id = m.from_agent_id), 'overseer'),
    'from_display_name', case when m.from_agent_id is null then (select ac.display_name from mesh.accounts ac where ac.id = m.from_account_id) end,
    'to', case when m.broadcast then '*' else (select a.name from mesh.agents a where a.id = m.to_agent_id) end,
    'kind', m.kind, 'body', m.body, 'data', m.data, 'thread_id', m.thread_id, 'reply_to', m.reply_to,
    'deadline_at', m.deadline_at, 'created_at', m.created_at));
end
$$;

create or replace function mesh.member_role(p_meshwork uuid, p_account uuid)
returns text
language plpgsql stable
as $$
begin
  return (select mb.role from mesh.members mb where mb.meshwork_id = p_meshwork and mb.account_id = p_account and mb.revoked_at is null);
end
$$;

create or replace function mesh.task_json(t mesh.tasks)
returns jsonb
language plpgsql stable
as $$
begin
  return pg_catalog.jsonb_build_object('id', t.id, 'title', t.title, 'body', t.body, 'status', t.status, 'priority', t.priority,
    'assignee', (select a.name from mesh.agents a where a.id = t.assignee_id),
    'created_by', coalesce((select a.name from mesh.agents a where a.id = t.created_by_agent_id), 'overseer'),
    'progress', t.progress, 'result', t.result, 'attempts', t.attempts, 'max_attempts', t.max_attempts,
    'lease_expires_at', t.lease_expires_at, 'dedup_key', t.dedup_key, 'created_at', t.created_at, 'updated_at', t.updated_at);
end
$$;

create or replace function mesh.agent_label(p_agent uuid, p_meshwork uuid)
returns text
language plpgsql stable
as $$
begin
  return (select case when a.meshwork_id = p_meshwork then a.name
                      else (select w.name from mesh.meshworks w where w.id = a.meshwork_id) || '/' || a.name end
            from mesh.agents a where a.id = p_agent);
end
$$;

create or replace function mesh.linked(p_a uuid, p_b uuid)
returns boolean
language plpgsql stable
as $$
begin
  return exists (select 1 from mesh.links l where l.meshwork_id = p_a and l.target_id = p_b)
     and exists (select 1 from mesh.links l where l.meshwork_id = p_b and l.target_id = p_a);
end
$$;

create or replace function mesh.note_wake(p_agents uuid[])
returns void
language plpgsql volatile
as $$
begin
  if pg_catalog.cardinality(p_agents) > 0 then
    perform pg_catalog.set_config('mesh.wake',
      coalesce(nullif(pg_catalog.current_setting('mesh.wake', true), '') || ',', '') || pg_catalog.array_to_string(p_agents, ','), true);
  end if;
end
$$;

-- Remember a committed message for the hub: one line per message, {"m": wire shape without seq, "to": [[agent, seq]...]}.
create or replace function mesh.note_deliver(p_message jsonb, p_to jsonb)
returns void
language plpgsql volatile
as $$
begin
  if pg_catalog.jsonb_array_length(p_to) > 0 then
    perform pg_catalog.set_config('mesh.deliver',
      coalesce(nullif(pg_catalog.current_setting('mesh.deliver', true), '') || pg_catalog.chr(10), '')
        || pg_catalog.jsonb_build_object('m', p_message, 'to', p_to)::text, true);
  end if;
end
$$;
comment on function mesh.note_deliver(jsonb, jsonb) is 'Remember a message and its (recipient, seq) pairs for the hub to hand to held long-polls after commit.';
revoke all on function mesh.note_deliver(jsonb, jsonb) from public;

-- Agent rows are rewritten on every message (inbox_seq), ack and presence change: leaving half of each page free lets
-- those updates stay on the page (HOT) instead of adding an entry to every index of the table each time.
alter table mesh.agents set (fillfactor = 50);

-- Inbox rows are written only by mesh.post_message and mesh.post_link_message, which hold the recipient rows locked
-- and have just inserted the message; per-row foreign-key checks there cost over a third of a 1,000-recipient
-- broadcast. The cascades those keys gave are kept by triggers.
alter table mesh.inbox drop constraint inbox_agent_id_fkey, drop constraint inbox_message_id_fkey;

create or replace function mesh.inbox_cascade()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_table_name = 'agents' then
    delete from mesh.inbox i where i.agent_id = old.id;
  else
    delete from mesh.inbox i where i.message_id = old.id;
  end if;
  return old;
end
$$;
comment on function mesh.inbox_cascade() is 'Delete the inbox rows of a deleted agent or message (the cascade the inbox''s former foreign keys gave).';
revoke all on function mesh.inbox_cascade() from public;

create trigger agents_inbox_cascade before delete on mesh.agents for each row execute function mesh.inbox_cascade();
create trigger messages_inbox_cascade before delete on mesh.messages for each row execute function mesh.inbox_cascade();

-- The pipeline's table-reading SQL helpers, as PL/pgSQL for the same reason (the results poll was re-planning a
-- five-table join every time it ran). Same queries, same results.

create or replace function mesh.hook_target(p_meshwork uuid, p_source text)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return (
    select pg_catalog.jsonb_build_object('meshwork_id', m.id, 'meshwork', m.name,
        'secret', m.settings -> 'webhooks' -> p_source ->> 'secret',
        'workers', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', a.id, 'name', a.name, 'enabled', w.enabled,
            'definition', w.definition) order by a.name)
          from mesh.workers w join mesh.agents a on a.id = w.agent_id where w.meshwork_id = m.id), '[]'::jsonb))
      from mesh.meshworks m where m.id = p_meshwork
  );
end
$$;

create or replace function mesh.worker_json(w mesh.workers, a mesh.agents)
returns jsonb
language plpgsql stable
as $$
begin
  return (
    select pg_catalog.jsonb_build_object(
        'name', a.name, 'agent_id', a.id, 'driver', w.spec ->> 'driver', 'model', w.spec ->> 'model',
        'description', w.spec ->> 'description', 'enabled', w.enabled,
        'state', case when not w.enabled then 'stopped'
                      when (w.spec -> 'limits' ->> 'daily_cost_usd') is not null
                           and (select coalesce(pg_catalog.sum(c.cost_usd), 0) from mesh.cost_ledger c
                                 where c.worker_id = a.id and c.day = mesh.utc_today()) >= (w.spec -> 'limits' ->> 'daily_cost_usd')::numeric
                        then 'capped'
                      when mesh.presence(a.status, a.last_seen_at) = 'offline' then 'offline'
                      when exists (select 1 from mesh.tasks t where t.lease_owner = a.id and t.status in ('claimed', 'in_progress')
                                    and t.lease_expires_at > pg_catalog.now()) then 'busy'
                      else 'online' end,
        'status', mesh.presence(a.status, a.last_seen_at), 'status_detail', a.status_detail,
        'last_seen_at', a.last_seen_at, 'host', a.session_host,
        'events', coalesce(w.spec -> 'events', '[]'::jsonb),
        'limits', coalesce(w.spec -> 'limits', '{}'::jsonb),
        'cost_today_usd', (select coalesce(pg_catalog.sum(c.cost_usd), 0)::float8 from mesh.cost_ledger c
                            where c.worker_id = a.id and c.day = mesh.utc_today()),
        'cost_cap_usd', (w.spec -> 'limits' ->> 'daily_cost_usd')::float8,
        'tokens_today', (select pg_catalog.jsonb_build_object('input', coalesce(pg_catalog.sum(c.input_tokens), 0),
                                  'output', coalesce(pg_catalog.sum(c.output_tokens), 0))
                           from mesh.cost_ledger c where c.worker_id = a.id and c.day = mesh.utc_today()),
        'active_tasks', (select pg_catalog.count(*) from mesh.tasks t where t.assignee_id = a.id
                          and t.status in ('open', 'claimed', 'in_progress', 'blocked')),
        'done_today', (select pg_catalog.count(*) from mesh.tasks t where t.assignee_id = a.id and t.status = 'done'
                        and t.updated_at >= mesh.utc_today()::timestamp at time zone 'utc'),
        'failed_today', (select pg_catalog.count(*) from mesh.tasks t where t.assignee_id = a.id and t.status in ('dead', 'failed')
                          and t.updated_at >= mesh.utc_today()::timestamp at time zone 'utc'),
        'schedules', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', s.id, 'cron', s.cron, 'timezone', s.timezone,
            'next_run_at', s.next_run_at, 'last_run_at', s.last_run_at, 'last_outcome', s.last_outcome,
            'runs_today', case when s.runs_day = mesh.utc_today() then s.runs_today else 0 end,
            'max_runs_per_day', s.max_runs_per_day, 'consecutive_errors', s.consecutive_errors,
            'paused', s.paused_at is not null, 'pause_reason', s.pause_reason) order by s.entry_index)
          from mesh.schedules s where s.worker_id = a.id), '[]'::jsonb),
        'created_at', w.created_at, 'updated_at', w.updated_at)
  );
end
$$;

create or replace function mesh.pipeline_expired(p_limit int)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return (
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('task_id', t.id, 'meshwork_id', t.meshwork_id, 'attempts', t.attempts,
          'max_attempts', t.max_attempts, 'worker', a.name, 'lease_expires_at', t.lease_expires_at)), '[]'::jsonb)
      from (select t.* from mesh.tasks t
             where t.status in ('claimed', 'in_progress') and t.lease_expires_at < pg_catalog.now()
             order by t.lease_expires_at limit p_limit) t
      join mesh.agents a on a.id = t.lease_owner and a.kind = 'worker'
  );
end
$$;

create or replace function mesh.pipeline_results(p_limit int)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return (
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('task_id', r.task_id, 'meshwork_id', r.meshwork_id,
          'event_id', r.event_id, 'stage', r.stage, 'status', t.status, 'task_result', t.result, 'result', r.result,
          'context', r.context, 'worker', a.name, 'worker_id', r.worker_id, 'definition', w.definition,
          'event', e.event, 'action', e.action, 'source', e.source)), '[]'::jsonb)
      from (select r.* from mesh.runs r join mesh.tasks t on t.id = r.task_id
             where r.stage = 'result'
                or (r.stage in ('ready', 'running', 'retry') and t.status in ('done', 'failed', 'cancelled', 'dead'))
             order by r.updated_at limit p_limit) r
      join mesh.tasks t on t.id = r.task_id
      left join mesh.agents a on a.id = r.worker_id
      left join mesh.workers w on w.agent_id = r.worker_id
      left join mesh.events e on e.id = r.event_id
  );
end
$$;

create or replace function mesh.schedules_due(p_limit int)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return (
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', s.id, 'meshwork_id', s.meshwork_id, 'worker', a.name,
          'cron', s.cron, 'timezone', s.timezone, 'prompt', s.prompt, 'next_run_at', s.next_run_at)), '[]'::jsonb)
      from (select s.* from mesh.schedules s
             where s.paused_at is null and (s.next_run_at is null or s.next_run_at <= pg_catalog.now())
             order by s.next_run_at nulls first limit p_limit) s
      join mesh.agents a on a.id = s.worker_id
      join mesh.workers w on w.agent_id = s.worker_id and w.enabled
  );
end
$$;
