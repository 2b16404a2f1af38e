-- Sends that arrive together are written together. mc_send is split in two: mesh.send_resolve checks the caller and
-- the arguments and names the recipients (everything mc_send checked, unchanged), and mesh.post_messages writes any
-- number of resolved sends with a handful of set-based statements (messages, per-recipient inbox seq, log, the notes
-- for the hub). mc_send posts one; mesh.send_many, which the hub calls for concurrent sends, posts a whole batch in one
-- transaction. Both go through the same two functions, so a batched send and a single one cannot differ.

-- A send, resolved: what mesh.post_messages writes (link_meshwork_id and link_to set for a message to a linked project).
create type mesh.outgoing as (
  id uuid,
  meshwork_id uuid,
  from_agent_id uuid,
  from_account_id uuid,
  recipients uuid[],
  broadcast boolean,
  kind text,
  body text,
  data jsonb,
  thread_id uuid,
  reply_to uuid,
  deadline_at timestamptz,
  idempotency_key text,
  link_meshwork_id uuid,
  link_to uuid
);
comment on type mesh.outgoing is 'A resolved send: the message row to write, its recipients, and the linked project it crosses to, if any.';

-- mc_send's checks and routing, returning the send instead of writing it.
create or replace function mesh.send_resolve(p_meshwork text, p_to text, p_body text, p_from text, p_kind text,
  p_thread_id uuid, p_reply_to uuid, p_idempotency_key text, p_deadline_seconds int, p_data jsonb)
returns mesh.outgoing
language plpgsql volatile
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_from uuid;
  v_kind text := coalesce(p_kind, 'message');
  v_to text := pg_catalog.btrim(coalesce(p_to, ''));
  v_recipients uuid[];
  v_broadcast boolean := false;
  v_thread uuid := p_thread_id;
  v_orig mesh.messages;
  v_link_mw uuid;
  v_link_to uuid;
  v_deadline timestamptz;
begin
  perform mesh.require_role(v_mw, 'guest');
  -- An overseer (a person, no agent) may post with an owner/member key; a bound key always sends as its agent.
  if p_from is not null or nullif(auth.jwt() ->> 'agent_id', '') is not null then
    v_from := mesh.resolve_agent(v_mw, p_from);
  end if;
  perform mesh.check_text('body', p_body, 262144);
  perform mesh.check_text('idempotency key', p_idempotency_key, 200, false);
  if p_data is not null and (pg_catalog.jsonb_typeof(p_data) <> 'object' or pg_catalog.octet_length(p_data::text) > 65536) then
    perform mesh.fail(400, 'data must be a JSON object of at most 64 KB', 'pass p_data as an object, or leave it out');
  end if;
  if v_kind not in ('message', 'ask', 'reply', 'event') then
    perform mesh.fail(400, 'kind must be message, ask, reply or event', 'pass p_kind: message');
  end if;
  if p_deadline_seconds is not null and (p_deadline_seconds < 1 or p_deadline_seconds > 86400) then
    perform mesh.fail(400, 'deadline must be between 1 and 86400 seconds', 'pass p_deadline_seconds: 300');
  end if;
  v_deadline := case when p_deadline_seconds is null then null else pg_catalog.now() + pg_catalog.make_interval(secs => p_deadline_seconds) end;
  if p_reply_to is not null then
    select * into v_orig from mesh.messages m where m.id = p_reply_to and m.meshwork_id = v_mw;
    if v_orig.id is null then
      perform mesh.fail(404, 'the message you reply to does not exist in this project', 'pass the id of a message you received');
    end if;
    v_kind := 'reply';
    v_thread := v_orig.thread_id;
    if v_to = '' then
      select a.meshwork_id into v_link_mw from mesh.agents a where a.id = v_orig.from_agent_id;
      if v_link_mw is not null and v_link_mw <> v_mw then
        v_link_to := v_orig.from_agent_id;
      else
        v_link_mw := null;
        v_to := coalesce((select a.name from mesh.agents a where a.id = v_orig.from_agent_id), 'overseer');
      end if;
    end if;
  elsif v_kind = 'reply' then
    perform mesh.fail(400, 'a reply needs p_reply_to: the id of the message it answers', 'pass p_reply_to');
  end if;
  if v_link_to is null and pg_catalog.strpos(v_to, '/') > 0 then
    v_link_mw := mesh.resolve_linked(v_mw, pg_catalog.split_part(v_to, '/', 1));
    if v_link_mw = v_mw then
      v_link_mw := null;
      v_to := pg_catalog.substr(v_to, pg_catalog.strpos(v_to, '/') + 1);
    else
      v_to := pg_catalog.substr(v_to, pg_catalog.strpos(v_to, '/') + 1);
      if v_to = '*' or pg_catalog.lower(v_to) = 'overseer' then
        perform mesh.fail(400, 'a message to a linked project goes to one of its agents', 'pass p_to as <project>/<agent>');
      end if;
      v_link_to := mesh.find_agent(v_link_mw, v_to);
    end if;
  end if;
  if v_link_to is not null then
    if not mesh.linked(v_mw, v_link_mw) then
      perform mesh.fail(403, 'this project is no longer linked with the sender''s project', 'both owners must link the projects again');
    end if;
    if mesh.caller_scope() = 'invite' then
      perform mesh.fail(403, 'a guest key cannot message linked projects', 'ask the project owner to pass the message on');
    end if;
    if v_from is null then
      perform mesh.fail(400, 'a message to a linked project must come from an agent', 'pass p_from: the sending agent');
    end if;
    if v_thread is not null and p_reply_to is null and not exists (select 1 from mesh.messages m where m.thread_id = v_thread and m.meshwork_id in (v_mw, v_link_mw)) then
      perform mesh.fail(404, 'no thread with that id in this project', 'omit p_thread_id to start a new thread');
    end if;
    return row(pg_catalog.gen_random_uuid(), v_mw, v_from, auth.uid(), array[v_link_to], false, v_kind, p_body, p_data, v_thread,
      p_reply_to, v_deadline, nullif(p_idempotency_key, ''), v_link_mw, v_link_to)::mesh.outgoing;
  end if;
  if v_thread is not null and p_reply_to is null and not exists (select 1 from mesh.messages m where m.thread_id = v_thread and m.meshwork_id = v_mw) then
    perform mesh.fail(404, 'no thread with that id in this project', 'omit p_thread_id to start a new thread');
  end if;
  if v_to = '' then
    perform mesh.fail(400, 'recipient is required', 'pass p_to: an agent name, or "*" to broadcast');
  elsif v_to = '*' then
    v_broadcast := true;
    select coalesce(pg_catalog.array_agg(a.id order by a.id), '{}') into v_recipients
      from mesh.agents a where a.meshwork_id = v_mw and a.id is distinct from v_from;
  elsif pg_catalog.lower(v_to) = 'overseer' then
    v_recipients := '{}';
  else
    v_recipients := array[mesh.find_agent(v_mw, v_to)];
    if v_recipients[1] = v_from then
      perform mesh.fail(400, 'an agent cannot send a message to itself', 'pass another agent name as p_to');
    end if;
  end if;
  return row(pg_catalog.gen_random_uuid(), v_mw, v_from, auth.uid(), v_recipients, v_broadcast, v_kind, p_body, p_data, v_thread,
    p_reply_to, v_deadline, nullif(p_idempotency_key, ''), null, null)::mesh.outgoing;
end
$$;
comment on function mesh.send_resolve(text, text, text, text, text, uuid, uuid, text, int, jsonb) is 'Check a send as mc_send does (caller, project, agents, sizes, reply, thread, link) and return it resolved; writes nothing.';
revoke all on function mesh.send_resolve(text, text, text, text, text, uuid, uuid, text, int, jsonb) from public;

-- Mark meshworks' live feeds dirty (once each per transaction).
create or replace function mesh.note_changed(p_meshwork uuid)
returns void
language plpgsql volatile
as $$
begin
  if position(p_meshwork::text in coalesce(pg_catalog.current_setting('mesh.changed', true), '')) = 0 then
    perform pg_catalog.set_config('mesh.changed',
      coalesce(nullif(pg_catalog.current_setting('mesh.changed', true), '') || ',', '') || p_meshwork::text, true);
  end if;
end
$$;
comment on function mesh.note_changed(uuid) is 'Note that a meshwork''s live feeds changed in this transaction.';
revoke all on function mesh.note_changed(uuid) from public;

create or replace function mesh.log(p_meshwork uuid, p_agent uuid, p_kind text, p_summary text, p_data jsonb default '{}'::jsonb)
returns void
language plpgsql volatile
as $$
begin
  insert into mesh.activity (meshwork_id, agent_id, account_id, kind, summary, data)
  values (p_meshwork, p_agent, auth.uid(), p_kind, pg_catalog.left(coalesce(p_summary, ''), 500), coalesce(p_data, '{}'::jsonb));
  perform mesh.note_changed(p_meshwork);
end
$$;

-- A message's wire shape, with its names given (mesh.post_messages knows them already); mesh.message_json looks them
-- up. The one place that shape is built.
create or replace function mesh.message_json_named(m mesh.messages, p_seq bigint, p_from text, p_from_display_name text,
  p_to text)
returns jsonb
language plpgsql stable
as $$
begin
  return pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'seq', p_seq, 'id', m.id, 'from', p_from, 'from_display_name', p_from_display_name, 'to', p_to,
    'kind', m.kind, 'body', m.body, 'data', m.data, 'thread_id', m.thread_id, 'reply_to', m.reply_to,
    'deadline_at', m.deadline_at, 'created_at', m.created_at));
end
$$;
comment on function mesh.message_json_named(mesh.messages, bigint, text, text, text) is 'A message''s wire shape from its row and names: from (agent, <project>/<agent> across a link, or overseer), the overseer''s display name, to.';
revoke all on function mesh.message_json_named(mesh.messages, bigint, text, text, text) from public;

create or replace function mesh.message_json(m mesh.messages, p_seq bigint default null)
returns jsonb
language plpgsql stable
as $$
begin
  return mesh.message_json_named(m, p_seq, coalesce(mesh.agent_label(m.from_agent_id, m.meshwork_id), 'overseer'),
    case when m.from_agent_id is null then (select ac.display_name from mesh.accounts ac where ac.id = m.from_account_id) end,
    case when m.broadcast then '*' else (select a.name from mesh.agents a where a.id = m.to_agent_id) end);
end
$$;

-- Write resolved sends (local ones: link_to is null) in order: each message stored once (a retried idempotency key
-- stores nothing and answers with the first send), fanned out to its recipients' inboxes with gapless seqs (several
-- messages to one agent get consecutive seqs in order; recipient rows are locked in id order, so concurrent posts
-- cannot deadlock), then the wake-ups, the deliveries and the log. Returns one answer per send, in order.
-- Generic plans: its statements take arrays whose sizes the planner cannot see, and planning them anew for each call
-- cost more than running them (0.74 ms against 0.44 ms for one message).
create or replace function mesh.post_messages(p_out mesh.outgoing[])
returns jsonb
language plpgsql volatile
set plan_cache_mode = force_generic_plan
as $$
declare
  v_new uuid[];
  v_rows mesh.messages[];
  v_to jsonb;
  v_wake uuid[];
  v_lines text;
  v_mws uuid[];
  v_mw uuid;
begin
  with ins as (
    insert into mesh.messages (id, meshwork_id, from_agent_id, from_account_id, to_agent_id, broadcast, kind, body, data, thread_id,
      reply_to, deadline_at, idempotency_key)
    select o.id, o.meshwork_id, o.from_agent_id, o.from_account_id, case when o.broadcast then null else o.recipients[1] end,
           o.broadcast, o.kind, o.body, o.data, coalesce(o.thread_id, o.id), o.reply_to, o.deadline_at, o.idempotency_key
      from pg_catalog.unnest(p_out) with ordinality o
     order by o.ordinality
    on conflict do nothing
    returning *
  )
  select coalesce(pg_catalog.array_agg(ins.id), '{}'), pg_catalog.array_agg(ins) into v_new, v_rows from ins;

  if pg_catalog.cardinality(v_new) > 0 then
    with rcpt as materialized (
      select o.ordinality as ord, o.id as message_id, r.agent_id
        from pg_catalog.unnest(p_out) with ordinality o
        cross join lateral pg_catalog.unnest(o.recipients) r(agent_id)
       where o.id = any (v_new)
    ), counts as materialized (
      select rc.agent_id, pg_catalog.count(*)::int as n from rcpt rc group by rc.agent_id
    ), locked as materialized (
      select a.id from mesh.agents a where a.id in (select c.agent_id from counts c) order by a.id for no key update
    ), bumped as (
      update mesh.agents a set inbox_seq = a.inbox_seq + c.n
        from locked l join counts c on c.agent_id = l.id
       where a.id = l.id
      returning a.id, a.inbox_seq - c.n as base
    ), fanned as (
      insert into mesh.inbox (agent_id, seq, message_id)
      select rc.agent_id, b.base + pg_catalog.row_number() over (partition by rc.agent_id order by rc.ord), rc.message_id
        from rcpt rc join bumped b on b.id = rc.agent_id
      returning agent_id, seq, message_id
    ), per_message as (
      select f.message_id, pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(f.agent_id, f.seq)) as pairs
        from fanned f group by f.message_id
    )
    select coalesce(pg_catalog.jsonb_object_agg(pm.message_id, pm.pairs), '{}'::jsonb),
           (select coalesce(pg_catalog.array_agg(distinct rc.agent_id), '{}') from rcpt rc)
      into v_to, v_wake
      from per_message pm;

    perform mesh.note_wake(v_wake);
    -- Names are looked up once per message (by primary key), for its wire shape (the deliveries) and its activity row
    -- alike; the message rows are the ones just inserted, not read again.
    with named as materialized (
      select o.ordinality as ord, m as msg, o.id, o.meshwork_id, o.from_agent_id, o.from_account_id, o.kind, o.body,
             o.thread_id, o.reply_to, coalesce(mesh.agent_label(o.from_agent_id, o.meshwork_id), 'overseer') as from_name,
             case when o.from_agent_id is null
                  then (select ac.display_name from mesh.accounts ac where ac.id = o.from_account_id) end as from_display_name,
             case when o.broadcast then '*' else (select a.name from mesh.agents a where a.id = o.recipients[1]) end as to_name
        from pg_catalog.unnest(p_out) with ordinality o
        join pg_catalog.unnest(v_rows) m on m.id = o.id
    ), logged as (
      insert into mesh.activity (meshwork_id, agent_id, account_id, kind, summary, data)
      select n.meshwork_id, n.from_agent_id, n.from_account_id, 'message',
             pg_catalog.left(pg_catalog.format('%s -> %s: %s', n.from_name, coalesce(n.to_name, 'overseer'),
               pg_catalog.left(n.body, 200)), 500),
             pg_catalog.jsonb_build_object('message_id', n.id, 'kind', n.kind, 'thread_id', coalesce(n.thread_id, n.id),
               'reply_to', n.reply_to, 'from', n.from_name, 'to', coalesce(n.to_name, 'overseer'))
        from named n
       order by n.ord
    )
    select pg_catalog.string_agg(pg_catalog.jsonb_build_object('m',
             mesh.message_json_named(n.msg, null, n.from_name, n.from_display_name, n.to_name), 'to', v_to -> n.id::text)::text,
             pg_catalog.chr(10) order by n.ord) filter (where v_to ? n.id::text),
           pg_catalog.array_agg(distinct n.meshwork_id)
      into v_lines, v_mws
      from named n;
    if v_lines is not null then
      perform pg_catalog.set_config('mesh.deliver',
        coalesce(nullif(pg_catalog.current_setting('mesh.deliver', true), '') || pg_catalog.chr(10), '') || v_lines, true);
    end if;
    foreach v_mw in array v_mws loop
      perform mesh.note_changed(v_mw);
    end loop;
  end if;

  return (
    select pg_catalog.jsonb_agg(
             case when o.id = any (v_new) then
               pg_catalog.jsonb_build_object('id', o.id, 'thread_id', coalesce(o.thread_id, o.id), 'duplicate', false,
                 'recipients', coalesce(pg_catalog.jsonb_array_length(v_to -> o.id::text), 0))
             else (
               select pg_catalog.jsonb_build_object('id', m.id, 'thread_id', m.thread_id, 'duplicate', true,
                        'recipients', (select pg_catalog.count(*) from mesh.inbox i where i.message_id = m.id))
                 from mesh.messages m
                where m.meshwork_id = o.meshwork_id and m.from_agent_id is not distinct from o.from_agent_id
                  and m.from_account_id is not distinct from o.from_account_id and m.idempotency_key = o.idempotency_key)
             end order by o.ordinality)
      from pg_catalog.unnest(p_out) with ordinality o);
end
$$;
comment on function mesh.post_messages(mesh.outgoing[]) is 'Write resolved local sends in order (stored once, gapless per-recipient seq, wake-ups, deliveries, log); one answer per send.';
revoke all on function mesh.post_messages(mesh.outgoing[]) from public;

-- One resolved send, local or across a link.
create or replace function mesh.post_outgoing(p mesh.outgoing)
returns jsonb
language plpgsql volatile
as $$
begin
  if p.link_to is not null then
    return mesh.post_link_message(p.meshwork_id, p.link_meshwork_id, p.from_agent_id, p.link_to, p.kind, p.body, p.data, p.thread_id,
      p.reply_to, p.deadline_at, p.idempotency_key);
  end if;
  return mesh.post_messages(array[p]) -> 0;
end
$$;
comment on function mesh.post_outgoing(mesh.outgoing) is 'Write one resolved send: across its link, or locally through mesh.post_messages.';
revoke all on function mesh.post_outgoing(mesh.outgoing) from public;

create or replace function mesh.post_message(p_meshwork uuid, p_from uuid, p_recipients uuid[], p_broadcast boolean, p_kind text,
  p_body text, p_data jsonb, p_thread uuid, p_reply_to uuid, p_deadline timestamptz, p_idempotency_key text)
returns jsonb
language plpgsql volatile
as $$
begin
  return mesh.post_messages(array[row(pg_catalog.gen_random_uuid(), p_meshwork, p_from, auth.uid(), p_recipients, p_broadcast, p_kind,
    p_body, p_data, p_thread, p_reply_to, p_deadline, p_idempotency_key, null, null)::mesh.outgoing]) -> 0;
end
$$;

create or replace function public.mc_send(p_meshwork text, p_to text, p_body text, p_from text default null, p_kind text default 'message',
  p_thread_id uuid default null, p_reply_to uuid default null, p_idempotency_key text default null, p_deadline_seconds int default null,
  p_data jsonb default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  return mesh.post_outgoing(mesh.send_resolve(p_meshwork, p_to, p_body, p_from, p_kind, p_thread_id, p_reply_to, p_idempotency_key,
    p_deadline_seconds, p_data));
end
$$;

-- The hub's entry for sends that arrive together: [[key_hash, args], ...] with mc_send's named arguments, run in order
-- in one transaction, each with its caller's claims, exactly as mesh.call_as would run mc_send. All or nothing: if
-- any of them fails, nothing is written and the hub runs each on its own (so each gets its own answer or error). A
-- call mesh.call_as would refuse before running mc_send (no key, unknown or missing arguments) fails the batch with
-- detail 'not batchable'; any other error of a batch of one is exactly the error mc_send gives that caller.
-- Returns {results: [{result, exp}, ...], wake, changed, deliver, revoked}.
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
  v_o mesh.outgoing;
  v_local mesh.outgoing[] := '{}';
  v_slots int[] := '{}';
  v_results jsonb[] := '{}';
  v_exp jsonb[] := '{}';
  v_posted jsonb;
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
    v_claims := v_known -> v_key;
    if v_claims is null then
      v_claims := mesh.token_claims(v_key);
      v_known := v_known || pg_catalog.jsonb_build_object(v_key, v_claims);
    end if;
    perform pg_catalog.set_config('request.jwt.claims', v_claims::text, true);
    v_o := mesh.send_resolve(v_args ->> 'p_meshwork', v_args ->> 'p_to', v_args ->> 'p_body', v_args ->> 'p_from',
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
