-- What a sender may refer to, who may be named what, and what a retried idempotency key stands for, found by a client
-- written from the README alone:
-- 1. Any agent could reply to any message of its project, an ask sent to another agent included, and mc_wait_reply
--    returned the first reply, so an outsider's answer won over the real one; a guest's key could also add messages to
--    a thread it had no part in. An agent (its own key, a guest's, or an owner's acting as it) now replies only to a
--    message it can read (to it, from it, or a broadcast, as mc_history shows a scoped key), and adds to a thread only
--    when it can read a message of it; otherwise 404, as for a message or thread that does not exist. The overseer (an
--    owner's or member's key with no agent) reads everything and may still answer anything. mc_wait_reply returns the
--    first reply delivered to the asker. A reply to a message from an agent of a linked project deleted since went to
--    the replier's own overseer without a word; it is now 410 naming the deleted project.
-- 2. An agent or worker could be named "overseer", the name every message uses for the person: messages to it went to
--    the person, and its own showed as the person's. A project could be named like an id (a UUID), which p_meshwork
--    then took for an id: the project could not be reached, or reached another. Both names are now refused.
-- 3. A send retried with an idempotency key already used for a different message (another body, kind, recipient,
--    data or reply) answered "duplicate" with the first message's id, and the new message was lost without a word. It
--    is now 409. mesh.post_messages is the former one (renamed mesh.post_messages_unchecked) followed by that check
--    (mesh.refuse_other_message), which reads anything only when a send was a duplicate; so is mesh.post_link_message,
--    for a linked project.
-- mesh.send_resolve_in is the definition of 20261122007000_send_memo.sql with the checks of (1).

create or replace function mesh.agent_sees(p_agent uuid, m mesh.messages)
returns boolean
language sql stable
as $$
  select m.from_agent_id = p_agent or m.to_agent_id = p_agent or m.broadcast
$$;
comment on function mesh.agent_sees(uuid, mesh.messages) is 'Whether an agent can read a message: to it, from it, or a broadcast (what mc_history shows a scoped key).';

create or replace function mesh.send_resolve_in(v_mw uuid, p_to text, p_body text, p_from text, p_kind text,
  p_thread_id uuid, p_reply_to uuid, p_idempotency_key text, p_deadline_seconds int, p_data jsonb)
returns mesh.outgoing
language plpgsql volatile
as $$
declare
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
  -- An overseer (a person, no agent) may post with an owner/member key; a bound key always sends as its agent.
  if p_from is not null or nullif(auth.jwt() ->> 'agent_id', '') is not null then
    v_from := mesh.resolve_agent(v_mw, p_from, 'p_from');
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
    -- An agent answers only what it can read: a message to it, from it, or to everyone (as mc_history shows it).
    if v_orig.id is null or (v_from is not null and not mesh.agent_sees(v_from, v_orig)) then
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
        -- Its sender's project was deleted since (a removed agent of this project is answered by the overseer).
        if v_to = 'overseer' and exists (select 1 from mesh.removed_agents r where r.id = v_orig.from_agent_id and r.meshwork_id is null) then
          perform mesh.fail(410, pg_catalog.format('the project %s, which that message came from, was deleted',
              (select r.project from mesh.removed_agents r where r.id = v_orig.from_agent_id)),
            'nobody receives a reply there; send a new message to someone who can answer');
        end if;
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
    if v_thread is not null and p_reply_to is null and not exists (select 1 from mesh.messages m where m.thread_id = v_thread
        and m.meshwork_id in (v_mw, v_link_mw) and mesh.agent_sees(v_from, m)) then
      perform mesh.fail(404, 'no thread with that id in this project', 'omit p_thread_id to start a new thread');
    end if;
    return row(pg_catalog.gen_random_uuid(), v_mw, v_from, auth.uid(), array[v_link_to], false, v_kind, p_body, p_data, v_thread,
      p_reply_to, v_deadline, nullif(p_idempotency_key, ''), v_link_mw, v_link_to)::mesh.outgoing;
  end if;
  if v_thread is not null and p_reply_to is null and not exists (select 1 from mesh.messages m where m.thread_id = v_thread
      and m.meshwork_id = v_mw and (v_from is null or mesh.agent_sees(v_from, m))) then
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
  select mesh.message_json(m, i.seq) into v_reply
    from mesh.messages m join mesh.inbox i on i.message_id = m.id and i.agent_id = v_id
   where m.reply_to = v_ask.id order by m.created_at, i.seq limit 1;
  return pg_catalog.jsonb_build_object('agent_id', v_id, 'reply', v_reply, 'deadline_at', v_ask.deadline_at,
    'expired', v_reply is null and v_ask.deadline_at is not null and v_ask.deadline_at < pg_catalog.now());
end
$$;
comment on function public.mc_wait_reply(text, uuid, text, int) is 'The first reply to an ask sent by the caller''s agent (in this project or across a link) delivered to that agent, or null (long-polled by the hub).';

create or replace function mesh.check_name(p_field text, p_value text)
returns text
language plpgsql immutable
as $$
declare
  v text := pg_catalog.lower(pg_catalog.btrim(coalesce(p_value, '')));
begin
  if v = '' then
    perform mesh.fail(400, pg_catalog.format('%s is required', p_field), pg_catalog.format('pass a %s such as "backend"', p_field));
  end if;
  if v !~ '^[a-z0-9][a-z0-9._-]{0,62}$' then
    perform mesh.fail(400, pg_catalog.format('%s %s is not a valid name', p_field, pg_catalog.quote_literal(pg_catalog.left(p_value, 80))),
      'use 1-63 characters: letters, digits, ".", "_" or "-", starting with a letter or digit');
  end if;
  if p_field = 'project name' and v ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    perform mesh.fail(400, pg_catalog.format('project name %s has the form of a project id', pg_catalog.quote_literal(v)),
      'choose a name that is not a UUID: p_meshwork takes a project''s name or its id');
  end if;
  if p_field <> 'project name' and v = 'overseer' then
    perform mesh.fail(400, pg_catalog.format('%s ''overseer'' is reserved', p_field),
      'choose another name: "overseer" names the person overseeing the project in every message');
  end if;
  return v;
end
$$;
comment on function mesh.check_name(text, text) is 'Normalise and validate a project or agent name (lowercase slug; not a UUID for a project, not "overseer" for an agent).';

-- A retried send answered as a duplicate: refused when the message stored under its key is another one.
create or replace function mesh.refuse_other_message(p_id uuid, p_key text, p_kind text, p_body text, p_to uuid,
  p_broadcast boolean, p_data jsonb, p_reply_to uuid)
returns void
language plpgsql stable
as $$
begin
  if exists (select 1 from mesh.messages m
              where m.id = p_id
                and (m.body <> p_body or m.kind <> p_kind or m.broadcast <> p_broadcast
                     or (not p_broadcast and m.to_agent_id is distinct from p_to)
                     or m.data is distinct from p_data or m.reply_to is distinct from p_reply_to)) then
    perform mesh.fail(409, pg_catalog.format('idempotency key ''%s'' was already used for a different message', pg_catalog.left(p_key, 80)),
      'a retry repeats the same arguments; give a new message a new key');
  end if;
end
$$;
comment on function mesh.refuse_other_message(uuid, text, text, text, uuid, boolean, jsonb, uuid) is 'The 409 for a send whose idempotency key already stands for another message (body, kind, recipient, data or reply).';
revoke all on function mesh.refuse_other_message(uuid, text, text, text, uuid, boolean, jsonb, uuid) from public;

alter function mesh.post_messages(mesh.outgoing[]) rename to post_messages_unchecked;

create function mesh.post_messages(p_out mesh.outgoing[])
returns jsonb
language plpgsql volatile
as $$
declare
  v_res jsonb := mesh.post_messages_unchecked(p_out);
begin
  if v_res @> '[{"duplicate": true}]' then
    perform mesh.refuse_other_message((v_res -> (o.ordinality::int - 1) ->> 'id')::uuid, o.idempotency_key, o.kind, o.body,
              o.recipients[1], o.broadcast, o.data, o.reply_to)
       from pg_catalog.unnest(p_out) with ordinality o
      where (v_res -> (o.ordinality::int - 1) ->> 'duplicate')::boolean;
  end if;
  return v_res;
end
$$;
comment on function mesh.post_messages(mesh.outgoing[]) is 'mesh.post_messages_unchecked, then mesh.refuse_other_message for each send answered as a duplicate.';
revoke all on function mesh.post_messages(mesh.outgoing[]) from public;

-- The same for a message to a linked project, which has a write of its own.
alter function mesh.post_link_message(uuid, uuid, uuid, uuid, text, text, jsonb, uuid, uuid, timestamptz, text)
  rename to post_link_message_unchecked;

create function mesh.post_link_message(p_from_mw uuid, p_to_mw uuid, p_from uuid, p_to uuid, p_kind text, p_body text,
  p_data jsonb, p_thread uuid, p_reply_to uuid, p_deadline timestamptz, p_idempotency_key text)
returns jsonb
language plpgsql volatile
as $$
declare
  v_res jsonb := mesh.post_link_message_unchecked(p_from_mw, p_to_mw, p_from, p_to, p_kind, p_body, p_data, p_thread,
    p_reply_to, p_deadline, p_idempotency_key);
begin
  if (v_res ->> 'duplicate')::boolean then
    perform mesh.refuse_other_message((v_res ->> 'id')::uuid, p_idempotency_key, p_kind, p_body, p_to, false, p_data, p_reply_to);
  end if;
  return v_res;
end
$$;
comment on function mesh.post_link_message(uuid, uuid, uuid, uuid, text, text, jsonb, uuid, uuid, timestamptz, text) is 'mesh.post_link_message_unchecked, then mesh.refuse_other_message when the send was a duplicate.';
revoke all on function mesh.post_link_message(uuid, uuid, uuid, uuid, text, text, jsonb, uuid, uuid, timestamptz, text) from public;
