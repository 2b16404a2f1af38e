-- Removing an agent leaves the record of what it did as it was.
-- Messages named their sender and recipient by foreign keys that were set to null when the agent was removed, and a
-- task its creator alike. So removing an agent
--   1. turned the messages it sent into the overseer's (histories, inboxes and the spectator page named the person as
--      their sender), the messages it received into messages to nobody, and the tasks it created into the overseer's;
--   2. failed with a unique violation when the overseer, or another agent removed before, had used one of its
--      idempotency keys: the key's index includes the sender, and both senders became null;
--   3. scanned the whole message table twice, neither column being indexed;
--   4. left the keys bound to it working.
-- Those columns now keep the agent's id. Ids are never reused, so a new agent given the old name owns none of it. The
-- removed agent's name is kept in mesh.removed_agents, where mesh.agent_label, and with it every name a message or a
-- task is given, finds it once the agent is gone.

alter table mesh.messages drop constraint messages_from_agent_id_fkey, drop constraint messages_to_agent_id_fkey;
alter table mesh.tasks drop constraint tasks_created_by_agent_id_fkey;

create table mesh.removed_agents (
  id uuid primary key,
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  name text not null,
  removed_at timestamptz not null default now()
);
comment on table mesh.removed_agents is 'The name of each removed agent, for the messages and tasks that still carry its id.';
create index removed_agents_meshwork_id_idx on mesh.removed_agents (meshwork_id);
alter table mesh.removed_agents enable row level security;
create policy "removed agents are visible to members of their meshwork" on mesh.removed_agents for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.removed_agents.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

-- Keys bound to the agent (its own, and a guest's from an invite to its slot) are revoked with it: they answered
-- "the agent was removed" to some calls and a foreign-key error to a send, and still read the project's board.
-- Revoking tells the hub (mesh.note_revoked), which ends their held waits; the next request gets 401.
create or replace function mesh.on_agent_removed()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  update mesh.api_keys k set revoked_at = pg_catalog.now()
   where k.meshwork_id = old.meshwork_id and k.agent_id = old.id and k.revoked_at is null;
  -- Not when the agent goes with its project: the project's own rows go with it too.
  if exists (select 1 from mesh.meshworks w where w.id = old.meshwork_id) then
    insert into mesh.removed_agents (id, meshwork_id, name) values (old.id, old.meshwork_id, old.name);
  end if;
  return old;
end
$$;
comment on function mesh.on_agent_removed() is 'Revoke the keys bound to a removed agent, and keep its name for the messages and tasks that name it.';
revoke all on function mesh.on_agent_removed() from public;
create trigger agents_on_removed before delete on mesh.agents for each row execute function mesh.on_agent_removed();

-- Agents removed before this migration left null behind, and nothing says who they were: those rows stay as they are.
-- The rule itself is unchanged: a project's own agent by name, another project's as <project>/<agent>. As plain
-- statements it is also cheaper than the single query it was: 4.3 against 7.0 µs a call (alternating runs).
create or replace function mesh.agent_label(p_agent uuid, p_meshwork uuid)
returns text
language plpgsql stable
as $$
declare
  v_mw uuid;
  v_name text;
begin
  select a.meshwork_id, a.name into v_mw, v_name from mesh.agents a where a.id = p_agent;
  if not found then
    select r.meshwork_id, r.name into v_mw, v_name from mesh.removed_agents r where r.id = p_agent;
  end if;
  if v_mw = p_meshwork then
    return v_name;
  end if;
  return (select w.name from mesh.meshworks w where w.id = v_mw) || '/' || v_name;
end
$$;
comment on function mesh.agent_label(uuid, uuid) is 'Agent name (a removed agent''s as it was), qualified with its project when it is not p_meshwork''s own.';

create or replace function mesh.task_json(t mesh.tasks)
returns jsonb
language plpgsql stable
as $$
begin
  return pg_catalog.jsonb_build_object('id', t.id, 'title', t.title, 'body', t.body, 'status', t.status, 'priority', t.priority,
    'assignee', (select a.name from mesh.agents a where a.id = t.assignee_id),
    'created_by', coalesce(mesh.agent_label(t.created_by_agent_id, t.meshwork_id), 'overseer'),
    'progress', t.progress, 'result', t.result, 'attempts', t.attempts, 'max_attempts', t.max_attempts,
    'lease_expires_at', t.lease_expires_at, 'dedup_key', t.dedup_key, 'created_at', t.created_at, 'updated_at', t.updated_at);
end
$$;

-- A spectator's activity row for a message its project sent to a linked project carries the message: found through
-- mesh.sent_across rather than through the sending agent's row, which is gone once the agent is removed.
create or replace function mesh.watch_rows(p_meshwork uuid, p_after_id bigint, p_limit int, p_before_id bigint default null)
returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('id', x.id,
      'agent', (select a.name from mesh.agents a where a.id = x.agent_id), 'kind', x.kind, 'summary', mesh.redact(x.summary),
      'data', mesh.redact_json(x.data), 'created_at', x.created_at,
      'message', case when x.kind = 'message' then
        (select mesh.watch_message(m, p_meshwork) from mesh.messages m
          where m.id = (case when x.data ->> 'message_id' ~ '^[0-9a-f-]{36}$' then (x.data ->> 'message_id')::uuid end)
            and (m.meshwork_id = p_meshwork
                 or exists (select 1 from mesh.sent_across s where s.message_id = m.id and s.meshwork_id = p_meshwork))) end))
      order by x.id), '[]'::jsonb)
  from (select ac.* from mesh.activity ac
         where ac.meshwork_id = p_meshwork and ac.id > coalesce(p_after_id, 0) and (p_before_id is null or ac.id < p_before_id)
         order by case when p_before_id is null then ac.id end asc, ac.id desc
         limit least(greatest(coalesce(p_limit, 200), 1), 1000)) x
$$;
