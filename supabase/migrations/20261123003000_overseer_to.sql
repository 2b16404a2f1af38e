-- A message to the overseer says so: "to": "overseer", as its "from" does for a message from the overseer, and as the
-- spectator page's messages already did. Since 20261122010000_history_sent_across.sql it had no "to" at all (its name,
-- null, was left out). The definition is that one's, with the overseer named.

create or replace function mesh.message_json_seen(m mesh.messages, p_seq bigint, p_view uuid)
returns jsonb
language plpgsql stable
as $$
begin
  return mesh.message_json_named(m, p_seq, coalesce(mesh.agent_label(m.from_agent_id, p_view), 'overseer'),
    case when m.from_agent_id is null then (select ac.display_name from mesh.accounts ac where ac.id = m.from_account_id) end,
    case when m.broadcast then '*' when m.to_agent_id is null then 'overseer' else mesh.agent_label(m.to_agent_id, p_view) end);
end
$$;
