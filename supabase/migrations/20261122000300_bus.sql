-- The bus: a message is stored once; each recipient gets an inbox row with a gapless per-recipient sequence
-- taken under the recipient's row lock, so a cursor never skips a row that commits late.

create table mesh.messages (
  id uuid primary key default gen_random_uuid(),
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  from_agent_id uuid references mesh.agents (id) on delete set null,
  from_account_id uuid,
  to_agent_id uuid references mesh.agents (id) on delete set null,
  broadcast boolean not null default false,
  kind text not null check (kind in ('message', 'ask', 'reply', 'system', 'event')),
  body text not null,
  data jsonb,
  thread_id uuid not null,
  reply_to uuid references mesh.messages (id) on delete set null,
  deadline_at timestamptz,
  idempotency_key text,
  created_at timestamptz not null default now(),
  constraint messages_body_size check (octet_length(body) <= 262144),
  constraint messages_idempotency_size check (octet_length(idempotency_key) <= 200)
);
comment on table mesh.messages is 'Each message once. to_agent_id null with broadcast = true fans out to every other agent.';
create unique index messages_idempotency_key on mesh.messages (meshwork_id, from_agent_id, from_account_id, idempotency_key) nulls not distinct
  where idempotency_key is not null;
create index messages_meshwork_id_idx on mesh.messages (meshwork_id, created_at desc, id);
create index messages_thread_id_idx on mesh.messages (thread_id, created_at);
create index messages_reply_to_idx on mesh.messages (reply_to) where reply_to is not null;
alter table mesh.messages enable row level security;
create policy "messages are visible to members of their meshwork" on mesh.messages for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.messages.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

create table mesh.inbox (
  agent_id uuid not null references mesh.agents (id) on delete cascade,
  seq bigint not null,
  message_id uuid not null references mesh.messages (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (agent_id, seq)
);
comment on table mesh.inbox is 'One row per recipient per message; seq is gapless per recipient (agents.inbox_seq).';
create index inbox_message_id_idx on mesh.inbox (message_id);
alter table mesh.inbox enable row level security;

create or replace function mesh.message_json(m mesh.messages, p_seq bigint default null)
returns jsonb
language sql stable
set search_path = ''
as $$
  select pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'seq', p_seq, 'id', m.id,
    'from', coalesce((select case when a.meshwork_id = m.meshwork_id then a.name
                                  else (select w.name from mesh.meshworks w where w.id = a.meshwork_id) || '/' || a.name end
                        from mesh.agents a where a.id = m.from_agent_id), 'overseer'),
    'from_display_name', case when m.from_agent_id is null then (select ac.display_name from mesh.accounts ac where ac.id = m.from_account_id) end,
    'to', case when m.broadcast then '*' else (select a.name from mesh.agents a where a.id = m.to_agent_id) end,
    'kind', m.kind, 'body', m.body, 'data', m.data, 'thread_id', m.thread_id, 'reply_to', m.reply_to,
    'deadline_at', m.deadline_at, 'created_at', m.created_at))
$$;
comment on function mesh.message_json(mesh.messages, bigint) is 'Wire shape of a message (names, not ids, for agents; project/agent for a linked project''s sender).';

-- Store a message once, fan it out to inboxes in id order (no deadlocks between concurrent broadcasts),
-- note who to wake, log it. Returns the message id, and whether it was a duplicate of an earlier send.
create or replace function mesh.post_message(p_meshwork uuid, p_from uuid, p_recipients uuid[], p_broadcast boolean, p_kind text,
  p_body text, p_data jsonb, p_thread uuid, p_reply_to uuid, p_deadline timestamptz, p_idempotency_key text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_id uuid := gen_random_uuid();
  v_inserted uuid;
  v_existing mesh.messages;
  v_count int;
begin
  insert into mesh.messages (id, meshwork_id, from_agent_id, from_account_id, to_agent_id, broadcast, kind, body, data, thread_id,
    reply_to, deadline_at, idempotency_key)
  values (v_id, p_meshwork, p_from, auth.uid(), case when p_broadcast then null else p_recipients[1] end, p_broadcast, p_kind, p_body,
    p_data, coalesce(p_thread, v_id), p_reply_to, p_deadline, p_idempotency_key)
  on conflict do nothing
  returning id into v_inserted;
  if v_inserted is null then
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
  )
  insert into mesh.inbox (agent_id, seq, message_id) select b.id, b.inbox_seq, v_id from bumped b;
  get diagnostics v_count = row_count;
  perform mesh.note_wake(p_recipients);
  perform mesh.log(p_meshwork, p_from, 'message',
    pg_catalog.format('%s -> %s: %s',
      coalesce((select a.name from mesh.agents a where a.id = p_from), 'overseer'),
      case when p_broadcast then '*' else coalesce((select a.name from mesh.agents a where a.id = p_recipients[1]), 'overseer') end,
      pg_catalog.left(p_body, 200)),
    pg_catalog.jsonb_build_object('message_id', v_id, 'kind', p_kind, 'thread_id', coalesce(p_thread, v_id), 'reply_to', p_reply_to,
      'from', coalesce((select a.name from mesh.agents a where a.id = p_from), 'overseer'),
      'to', case when p_broadcast then '*' else (select a.name from mesh.agents a where a.id = p_recipients[1]) end));
  return pg_catalog.jsonb_build_object('id', v_id, 'thread_id', coalesce(p_thread, v_id), 'duplicate', false, 'recipients', v_count);
end
$$;
comment on function mesh.post_message(uuid, uuid, uuid[], boolean, text, text, jsonb, uuid, uuid, timestamptz, text) is 'Store once, fan out with gapless per-recipient seq, note wake-ups, log.';

-- A p_to of `<project>/<agent>`, or a reply to a message from a linked project, is delivered across the link
-- (mesh.resolve_linked, mesh.linked and mesh.post_link_message live with links in the teams migration).
create or replace function public.mc_send(p_meshwork text, p_to text, p_body text, p_from text default null, p_kind text default 'message',
  p_thread_id uuid default null, p_reply_to uuid default null, p_idempotency_key text default null, p_deadline_seconds int default null,
  p_data jsonb default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
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
    return mesh.post_link_message(v_mw, v_link_mw, v_from, v_link_to, v_kind, p_body, p_data, v_thread, p_reply_to,
      case when p_deadline_seconds is null then null else pg_catalog.now() + pg_catalog.make_interval(secs => p_deadline_seconds) end,
      nullif(p_idempotency_key, ''));
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
  return mesh.post_message(v_mw, v_from, v_recipients, v_broadcast, v_kind, p_body, p_data, v_thread, p_reply_to,
    case when p_deadline_seconds is null then null else pg_catalog.now() + pg_catalog.make_interval(secs => p_deadline_seconds) end,
    nullif(p_idempotency_key, ''));
end
$$;
comment on function public.mc_send(text, text, text, text, text, uuid, uuid, text, int, jsonb) is 'Send to one agent, "*" (broadcast), an agent of a linked project ("<project>/<agent>"), or reply (p_reply_to). Retries with the same p_idempotency_key are stored once.';

-- The inbox read shared by mc_wait and the hub's batched wake-ups, set-based so a broadcast's 1,000 woken waits
-- cost one statement: for each item {agent_id, after, limit} the rows with seq > after (acknowledging up to after,
-- stored server-side) and the presence signal of a waiting agent. Agent rows are locked in id order, the order
-- mesh.post_message uses, so reads and broadcasts cannot deadlock. Writes commit asynchronously: acks and presence
-- are not the message, and a crash losing the last few ms of them only means redelivery. Results in input order;
-- an item that cannot be read is {"error": {status, code, message, hint}}.
create or replace function mesh.inbox_read_many(p_items jsonb)
returns jsonb
language plpgsql volatile
set search_path = ''
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
    select ok.i, pg_catalog.jsonb_agg(mesh.message_json(m, ib.seq) order by ib.seq) as messages, pg_catalog.count(*)::int as n
      from ok
      cross join lateral (select i2.seq, i2.message_id from mesh.inbox i2
                           where i2.agent_id = ok.agent_id and i2.seq > ok.after order by i2.seq limit ok.lim) ib
      join mesh.messages m on m.id = ib.message_id
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
comment on function mesh.inbox_read_many(jsonb) is 'Set-based inbox read for many agents: rows after each cursor, acks, presence, status activity (shared by mc_wait and mesh.wait_batch).';

-- Read the inbox after a cursor. Passing p_after_seq acknowledges everything up to it (stored server-side);
-- omitting it resumes from the stored cursor. Also the presence signal of a waiting agent.
create or replace function public.mc_wait(p_meshwork text, p_agent text default null, p_after_seq bigint default null,
  p_limit int default 100, p_timeout_seconds int default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  v_res jsonb;
begin
  if p_timeout_seconds is not null and (p_timeout_seconds < 0 or p_timeout_seconds > 300) then
    perform mesh.fail(400, 'timeout must be between 0 and 300 seconds', 'pass p_timeout_seconds: 60');
  end if;
  v_res := mesh.inbox_read_many(pg_catalog.jsonb_build_array(
    pg_catalog.jsonb_build_object('agent_id', v_id, 'after', p_after_seq, 'limit', p_limit))) -> 0;
  if v_res ? 'error' then
    perform mesh.fail((v_res -> 'error' ->> 'status')::int, v_res -> 'error' ->> 'message', v_res -> 'error' ->> 'hint');
  end if;
  return v_res -> 'result';
end
$$;
comment on function public.mc_wait(text, text, bigint, int, int) is 'Inbox rows with seq > cursor (acks the cursor). Through the hub it long-polls up to p_timeout_seconds; through plain PostgREST it returns at once.';

create or replace function public.mc_ack(p_meshwork text, p_agent text, p_seq bigint)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  v_acked bigint;
begin
  -- Acks and presence are not the message: a crash losing the last few ms of them only means redelivery.
  perform pg_catalog.set_config('synchronous_commit', 'off', true);
  if p_seq is null or p_seq < 0 then
    perform mesh.fail(400, 'seq must be 0 or more', 'pass the seq of the last message you handled');
  end if;
  update mesh.agents a set acked_seq = greatest(a.acked_seq, least(p_seq, a.inbox_seq)) where a.id = v_id returning a.acked_seq into v_acked;
  return pg_catalog.jsonb_build_object('cursor', v_acked);
end
$$;
comment on function public.mc_ack(text, text, bigint) is 'Acknowledge the inbox up to p_seq without reading.';

-- The reply to an ask, if it has arrived (the hub long-polls this for meshcode_ask).
create or replace function public.mc_wait_reply(p_meshwork text, p_message_id uuid, p_agent text default null, p_timeout_seconds int default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  v_ask mesh.messages;
  v_reply jsonb;
begin
  if p_timeout_seconds is not null and (p_timeout_seconds < 0 or p_timeout_seconds > 300) then
    perform mesh.fail(400, 'timeout must be between 0 and 300 seconds', 'pass p_timeout_seconds: 60');
  end if;
  select * into v_ask from mesh.messages m where m.id = p_message_id and m.from_agent_id = v_id;
  if v_ask.id is null then
    perform mesh.fail(404, 'no message with that id was sent by this agent', 'pass the id mc_send returned for your ask');
  end if;
  select mesh.message_json(m, (select i.seq from mesh.inbox i where i.message_id = m.id and i.agent_id = v_id)) into v_reply
    from mesh.messages m where m.reply_to = v_ask.id order by m.created_at limit 1;
  return pg_catalog.jsonb_build_object('agent_id', v_id, 'reply', v_reply, 'deadline_at', v_ask.deadline_at,
    'expired', v_reply is null and v_ask.deadline_at is not null and v_ask.deadline_at < pg_catalog.now());
end
$$;
comment on function public.mc_wait_reply(text, uuid, text, int) is 'The first reply to an ask sent by the caller''s agent (in this project or across a link), or null (long-polled by the hub).';

-- Message history for chat views. Scoped keys see only messages to or from their own agent (and broadcasts).
create or replace function public.mc_history(p_meshwork text, p_before timestamptz default null, p_limit int default 50,
  p_thread_id uuid default null, p_agent text default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_limit int := least(greatest(coalesce(p_limit, 50), 1), 500);
  v_self uuid;
  v_filter uuid;
begin
  perform mesh.require_role(v_mw, 'guest');
  if mesh.caller_scope() <> 'owner' then
    v_self := mesh.resolve_agent(v_mw, null);
  end if;
  if p_agent is not null then
    v_filter := mesh.find_agent(v_mw, p_agent);
  end if;
  return coalesce((select pg_catalog.jsonb_agg(mesh.message_json(x) order by x.created_at desc, x.id desc)
    from (select m.* from mesh.messages m
           where m.meshwork_id = v_mw
             and (p_before is null or m.created_at < p_before)
             and (p_thread_id is null or m.thread_id = p_thread_id)
             and (v_self is null or m.from_agent_id = v_self or m.to_agent_id = v_self or m.broadcast)
             and (v_filter is null or m.from_agent_id = v_filter or m.to_agent_id = v_filter)
           order by m.created_at desc, m.id desc limit v_limit) x), '[]'::jsonb);
end
$$;
comment on function public.mc_history(text, timestamptz, int, uuid, text) is 'Messages newest first, paged by p_before; optional thread or agent filter.';

-- The hub's batched wake-up: many held waits re-read in ONE statement instead of one round trip each (a broadcast
-- to 1,000 waiting agents). Each item's key is checked again exactly as mesh.call_as checks it, so a key revoked
-- while its wait was held gets nothing. Run by the hub's own connection only.
create or replace function mesh.wait_batch(p_items jsonb)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_valid jsonb;
  v_read jsonb;
  v_out jsonb;
  v_hash text;
  v_good text[] := '{}';
begin
  -- Which items' credentials are still good: each distinct one checked once, exactly as mesh.call_as checks it.
  for v_hash in select distinct x ->> 'key_hash' from pg_catalog.jsonb_array_elements(p_items) x loop
    begin
      if mesh.token_claims(v_hash) is not null then
        v_good := v_good || v_hash;
      end if;
    exception when sqlstate 'PT401' then
      null; -- revoked, expired, removed, unknown: that item gets a 401
    end;
  end loop;
  select pg_catalog.jsonb_agg(t.x order by t.ord) filter (where t.x ->> 'key_hash' = any (v_good)),
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('ok', t.x ->> 'key_hash' = any (v_good)) order by t.ord)
    into v_valid, v_out
    from pg_catalog.jsonb_array_elements(p_items) with ordinality as t(x, ord);
  v_read := case when v_valid is null then '[]'::jsonb else mesh.inbox_read_many(v_valid) end;
  -- Merge back in input order: the n-th good item takes the n-th read result.
  select pg_catalog.jsonb_agg(
           case when o.ok then v_read -> (o.n - 1)
                else pg_catalog.jsonb_build_object('error', pg_catalog.jsonb_build_object('status', 401, 'code', 'PT401',
                  'message', 'API key is invalid, expired or has been revoked', 'hint', 'log in again with a current key (meshcode login mc_...)'))
           end order by o.ord)
    into v_out
    from (select e.ord, (e.x ->> 'ok')::boolean as ok,
                 (pg_catalog.count(*) filter (where (e.x ->> 'ok')::boolean) over (order by e.ord))::int as n
            from pg_catalog.jsonb_array_elements(coalesce(v_out, '[]'::jsonb)) with ordinality as e(x, ord)) o;
  return pg_catalog.jsonb_build_object('results', coalesce(v_out, '[]'::jsonb),
    'changed', nullif(pg_catalog.current_setting('mesh.changed', true), ''));
end
$$;
comment on function mesh.wait_batch(jsonb) is 'Hub-only: re-read many woken waits at once, re-checking each key; results in input order.';
revoke all on function mesh.wait_batch(jsonb) from public;

do $$
declare
  f text;
begin
  foreach f in array array[
    'mc_send(text, text, text, text, text, uuid, uuid, text, int, jsonb)', 'mc_wait(text, text, bigint, int, int)',
    'mc_ack(text, text, bigint)', 'mc_wait_reply(text, uuid, text, int)', 'mc_history(text, timestamptz, int, uuid, text)']
  loop
    execute format('revoke all on function public.%s from public, anon', f);
    execute format('grant execute on function public.%s to authenticated, service_role', f);
  end loop;
end
$$;
