-- A send that races with the removal of its recipient: it resolved the agent, and the removal committed before it took
-- the agent's counter. A direct message sent alone used to fail with "null value in column seq of relation inbox", a
-- broadcast in a project of two too, and a direct message in a batch was stored, to nobody, and answered as sent with
-- no recipients. Now a direct message fails, alone or in a batch, with a 404 that names the agent and says nothing was
-- sent (the transaction writes nothing); a broadcast goes to the agents still there. mesh.post_messages is the
-- definition of 20261122008000_send_lone.sql with those two checks.

create or replace function mesh.fail_recipient_removed(p_agent uuid)
returns void
language plpgsql volatile
as $$
declare
  v_removed record;
  v_names text[];
begin
  select r.name, r.meshwork_id into v_removed from mesh.removed_agents r where r.id = p_agent;
  select pg_catalog.array_agg(a.name order by a.name) into v_names from mesh.agents a where a.meshwork_id = v_removed.meshwork_id;
  -- The hint names the agents left, as mesh.find_agent's 404 does.
  perform mesh.fail(404, coalesce(pg_catalog.format('the agent ''%s''', v_removed.name), 'the recipient')
      || ' was removed from the project while the message was being sent',
    'nothing was sent; ' || coalesce('agents here: ' || mesh.name_list(v_names), 'the project has no agents left'));
end
$$;
comment on function mesh.fail_recipient_removed(uuid) is 'The 404 of a direct message whose recipient was removed after the send resolved it, naming the agent and the agents left.';
revoke all on function mesh.fail_recipient_removed(uuid) from public;

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
  v_o mesh.outgoing;
  v_row mesh.messages;
  v_rcpt uuid;
  v_seq bigint;
  v_from_name text;
  v_to_name text;
  v_gone uuid;
begin
  -- One message to at most one agent (most sends): the same writes as below, as plain single-row statements.
  if pg_catalog.cardinality(p_out) = 1 and coalesce(pg_catalog.cardinality(p_out[1].recipients), 0) <= 1 then
    v_o := p_out[1];
    insert into mesh.messages (id, meshwork_id, from_agent_id, from_account_id, to_agent_id, broadcast, kind, body, data, thread_id,
      reply_to, deadline_at, idempotency_key)
    values (v_o.id, v_o.meshwork_id, v_o.from_agent_id, v_o.from_account_id, case when v_o.broadcast then null else v_o.recipients[1] end,
      v_o.broadcast, v_o.kind, v_o.body, v_o.data, coalesce(v_o.thread_id, v_o.id), v_o.reply_to, v_o.deadline_at, v_o.idempotency_key)
    on conflict do nothing
    returning * into v_row;
    if v_row.id is not null then
      v_rcpt := v_o.recipients[1];
      if v_rcpt is not null then
        update mesh.agents a set inbox_seq = a.inbox_seq + 1 where a.id = v_rcpt returning a.inbox_seq, a.name into v_seq, v_to_name;
        if v_seq is null then
          -- Removed since this send resolved it: a broadcast goes to nobody, a direct message fails.
          if not v_o.broadcast then
            perform mesh.fail_recipient_removed(v_rcpt);
          end if;
          v_rcpt := null;
        else
          insert into mesh.inbox (agent_id, seq, message_id) values (v_rcpt, v_seq, v_o.id);
          perform mesh.note_wake(array[v_rcpt]);
        end if;
      end if;
      if v_o.broadcast then v_to_name := '*'; end if;
      v_from_name := coalesce(mesh.agent_label(v_o.from_agent_id, v_o.meshwork_id), 'overseer');
      insert into mesh.activity (meshwork_id, agent_id, account_id, kind, summary, data)
      values (v_o.meshwork_id, v_o.from_agent_id, v_o.from_account_id, 'message',
        pg_catalog.left(pg_catalog.format('%s -> %s: %s', v_from_name, coalesce(v_to_name, 'overseer'), pg_catalog.left(v_o.body, 200)), 500),
        pg_catalog.jsonb_build_object('message_id', v_o.id, 'kind', v_o.kind, 'thread_id', v_row.thread_id,
          'reply_to', v_o.reply_to, 'from', v_from_name, 'to', coalesce(v_to_name, 'overseer')));
      if v_rcpt is not null then
        perform pg_catalog.set_config('mesh.deliver',
          coalesce(nullif(pg_catalog.current_setting('mesh.deliver', true), '') || pg_catalog.chr(10), '') ||
          pg_catalog.jsonb_build_object('m', mesh.message_json_named(v_row, null, v_from_name,
              case when v_o.from_agent_id is null then (select ac.display_name from mesh.accounts ac where ac.id = v_o.from_account_id) end,
              v_to_name),
            'to', pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_array(v_rcpt, v_seq)))::text, true);
      end if;
      perform mesh.note_changed(v_o.meshwork_id);
      return pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('id', v_o.id, 'thread_id', v_row.thread_id, 'duplicate', false,
        'recipients', case when v_rcpt is null then 0 else 1 end));
    end if;
    -- A retried idempotency key wrote nothing: it is answered below, as a duplicate in a batch is.
    v_new := '{}';
  else
    with ins as (
      insert into mesh.messages as m (id, meshwork_id, from_agent_id, from_account_id, to_agent_id, broadcast, kind, body, data, thread_id,
        reply_to, deadline_at, idempotency_key)
      select o.id, o.meshwork_id, o.from_agent_id, o.from_account_id, case when o.broadcast then null else o.recipients[1] end,
             o.broadcast, o.kind, o.body, o.data, coalesce(o.thread_id, o.id), o.reply_to, o.deadline_at, o.idempotency_key
        from pg_catalog.unnest(p_out) with ordinality o
       order by o.ordinality
      on conflict do nothing
      returning m
    )
    select coalesce(pg_catalog.array_agg((ins.m).id), '{}'), pg_catalog.array_agg(ins.m) into v_new, v_rows from ins;
  end if;

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

    -- A recipient removed since this batch resolved it was not locked, so it has no inbox row: a broadcast goes to the
    -- others, and a direct message to it fails the batch as it fails alone.
    select o.recipients[1] into v_gone
      from pg_catalog.unnest(p_out) o
     where o.id = any (v_new) and not o.broadcast and pg_catalog.cardinality(o.recipients) > 0 and not (v_to ? o.id::text)
     limit 1;
    if v_gone is not null then
      perform mesh.fail_recipient_removed(v_gone);
    end if;
    perform mesh.note_wake(v_wake);
    -- Names are looked up once per message (by primary key), for its wire shape (the deliveries) and its activity row
    -- alike; the message rows are the ones just inserted, not read again.
    with named as materialized (
      select o.ordinality as ord, m as msg, o.id, o.meshwork_id, o.from_agent_id, o.from_account_id, o.kind, o.body,
             o.thread_id, o.reply_to,
             -- mesh.agent_label's rule, as a join: a call per message cost 5% of a batch.
             coalesce(case when fa.meshwork_id = o.meshwork_id then fa.name
                           else (select w.name from mesh.meshworks w where w.id = fa.meshwork_id) || '/' || fa.name end,
                      'overseer') as from_name,
             case when o.from_agent_id is null
                  then (select ac.display_name from mesh.accounts ac where ac.id = o.from_account_id) end as from_display_name,
             case when o.broadcast then '*' else ta.name end as to_name
        from pg_catalog.unnest(p_out) with ordinality o
        join pg_catalog.unnest(v_rows) m on m.id = o.id
        left join mesh.agents fa on fa.id = o.from_agent_id
        left join mesh.agents ta on ta.id = o.recipients[1]
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
comment on function mesh.post_messages(mesh.outgoing[]) is 'Write resolved local sends in order (stored once, gapless per-recipient seq, wake-ups, deliveries, log); one answer per send. One message to at most one agent takes single-row statements. A direct message to an agent removed meanwhile fails with 404.';
revoke all on function mesh.post_messages(mesh.outgoing[]) from public;
