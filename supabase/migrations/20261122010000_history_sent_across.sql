-- A project's history shows what its agents sent to linked projects.
-- A message to an agent of a linked project is stored in the recipient's project (its inbox, replies and idempotency
-- live there), so mc_history of the sender's project showed the replies that came back but not the messages that
-- asked for them. mesh.sent_across remembers, for the sending project, each message it sent across a link; only such
-- sends write it, so a local send costs nothing more.

create table mesh.sent_across (
  message_id uuid primary key references mesh.messages (id) on delete cascade,
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  created_at timestamptz not null
);
comment on table mesh.sent_across is 'Messages an agent of meshwork_id sent to a linked project (stored there): the sender''s side of its history.';
comment on column mesh.sent_across.created_at is 'The message''s created_at, for paging the sender''s history newest first.';
create index sent_across_meshwork_idx on mesh.sent_across (meshwork_id, created_at desc, message_id);
alter table mesh.sent_across enable row level security;
create policy "sent messages are visible to members of the sending meshwork" on mesh.sent_across for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.sent_across.meshwork_id
                   and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

-- What was already sent across links before this migration.
insert into mesh.sent_across (message_id, meshwork_id, created_at)
select m.id, a.meshwork_id, m.created_at
  from mesh.messages m join mesh.agents a on a.id = m.from_agent_id
 where a.meshwork_id <> m.meshwork_id
on conflict do nothing;

-- One resolved send, local or across a link; a send across a link is remembered for the sender's history.
create or replace function mesh.post_outgoing(p mesh.outgoing)
returns jsonb
language plpgsql volatile
as $$
declare
  v_answer jsonb;
begin
  if p.link_to is null then
    return mesh.post_messages(array[p]) -> 0;
  end if;
  v_answer := mesh.post_link_message(p.meshwork_id, p.link_meshwork_id, p.from_agent_id, p.link_to, p.kind, p.body, p.data,
    p.thread_id, p.reply_to, p.deadline_at, p.idempotency_key);
  insert into mesh.sent_across (message_id, meshwork_id, created_at)
  select m.id, p.meshwork_id, m.created_at from mesh.messages m where m.id = (v_answer ->> 'id')::uuid
  on conflict do nothing;
  return v_answer;
end
$$;

-- A message's wire shape as a project sees it: its own agents by name, another project's as <project>/<agent>.
-- mesh.message_json is the view from the project that stores the message (its recipients are always there).
create or replace function mesh.message_json_seen(m mesh.messages, p_seq bigint, p_view uuid)
returns jsonb
language plpgsql stable
as $$
begin
  return mesh.message_json_named(m, p_seq, coalesce(mesh.agent_label(m.from_agent_id, p_view), 'overseer'),
    case when m.from_agent_id is null then (select ac.display_name from mesh.accounts ac where ac.id = m.from_account_id) end,
    case when m.broadcast then '*' else mesh.agent_label(m.to_agent_id, p_view) end);
end
$$;
comment on function mesh.message_json_seen(mesh.messages, bigint, uuid) is 'Wire shape of a message with names as project p_view sees them.';
revoke all on function mesh.message_json_seen(mesh.messages, bigint, uuid) from public;

create or replace function mesh.message_json(m mesh.messages, p_seq bigint default null)
returns jsonb
language plpgsql stable
as $$
begin
  return mesh.message_json_seen(m, p_seq, m.meshwork_id);
end
$$;

-- Messages newest first, named as the asking project sees them: its own agents by name, a linked project's agents as
-- <project>/<agent>. Both its own messages and those its agents sent to linked projects; scoped keys see only messages
-- to or from their own agent (and broadcasts).
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
  return coalesce((
    select pg_catalog.jsonb_agg(mesh.message_json_seen(x, null, v_mw) order by x.created_at desc, x.id desc)
      from ((select m.* from mesh.messages m
              where m.meshwork_id = v_mw
                and (p_before is null or m.created_at < p_before)
                and (p_thread_id is null or m.thread_id = p_thread_id)
                and (v_self is null or m.from_agent_id = v_self or m.to_agent_id = v_self or m.broadcast)
                and (v_filter is null or m.from_agent_id = v_filter or m.to_agent_id = v_filter)
              order by m.created_at desc, m.id desc limit v_limit)
            union all
            -- Sent across a link: from one of this project's agents, to an agent of the other project.
            (select m.* from mesh.sent_across s join mesh.messages m on m.id = s.message_id
              where s.meshwork_id = v_mw
                and (p_before is null or s.created_at < p_before)
                and (p_thread_id is null or m.thread_id = p_thread_id)
                and (v_self is null or m.from_agent_id = v_self)
                and (v_filter is null or m.from_agent_id = v_filter)
              order by s.created_at desc, s.message_id desc limit v_limit)
            order by created_at desc, id desc limit v_limit) x), '[]'::jsonb);
end
$$;
comment on function public.mc_history(text, timestamptz, int, uuid, text) is 'Messages newest first (with those its agents sent to linked projects), paged by p_before; optional thread or agent filter.';
