-- A key that was revoked because its agent was removed, or its project deleted (mc_delete_meshwork, in a later
-- migration), says so. It used to get the generic "API key is invalid or has been revoked", with a hint to log in
-- again, which cannot help: the slot is gone. Only the revoked path changes; a valid key's check reads exactly what
-- it read before.
-- A held wait whose key ended meanwhile is answered with the key check's own error (removed agent, expired key,
-- removed member), as the next request with that key is, instead of one fixed sentence for every cause.

create or replace function mesh.key_claims(p_key_hash text)
returns jsonb
language plpgsql volatile
as $$
declare
  k record;
  v_removed text;
begin
  select ak.id, ak.account_id, ak.kind, ak.meshwork_id, ak.agent_id, ak.expires_at, ak.revoked_at, ak.last_used_at
    into k from mesh.api_keys ak where ak.key_hash = p_key_hash;
  if not found then
    return null;
  end if;
  if k.revoked_at is not null then
    -- A project's deletion (mc_delete_meshwork) revokes the keys scoped to it.
    if k.meshwork_id is not null and not exists (select 1 from mesh.meshworks w where w.id = k.meshwork_id) then
      perform mesh.fail(401, 'the project this key was for was deleted', 'ask its owner for a key to a current project');
    end if;
    -- mesh.on_agent_removed revokes the keys bound to the agent and keeps its name; the key keeps the agent's id.
    select r.name into v_removed from mesh.removed_agents r where r.id = k.agent_id and r.meshwork_id = k.meshwork_id;
    if v_removed is not null then
      perform mesh.fail(401, pg_catalog.format('the agent ''%s'' this key was for was removed from its project', v_removed),
        'ask the project owner for a new key or invite to a current agent');
    end if;
    perform mesh.fail(401, 'API key is invalid or has been revoked', 'log in again with a current key (meshcode login mc_...)');
  end if;
  if k.expires_at is not null and k.expires_at <= pg_catalog.now() then
    perform mesh.fail(401, 'API key has expired', 'ask the project owner for a new invite, or log in with a current key');
  end if;
  if k.kind <> 'owner' and not exists (
    select 1 from mesh.members mb where mb.meshwork_id = k.meshwork_id and mb.account_id = k.account_id and mb.revoked_at is null) then
    perform mesh.fail(401, 'API key belongs to a member who was removed from the project', 'ask the project owner to invite you again');
  end if;
  if k.last_used_at is null or k.last_used_at < pg_catalog.now() - interval '1 minute' then
    update mesh.api_keys set last_used_at = pg_catalog.now() where id = k.id;
  end if;
  return pg_catalog.jsonb_build_object('sub', k.account_id, 'role', 'authenticated', 'key_id', k.id,
    'scope', k.kind, 'meshwork_id', k.meshwork_id, 'agent_id', k.agent_id);
end
$$;
comment on function mesh.key_claims(text) is 'PostgREST-style claims for an API key hash; null if unknown, 401 if revoked (saying so when its agent was removed or its project deleted), expired or its member was removed.';
revoke all on function mesh.key_claims(text) from public;

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
  v_errors jsonb := '{}';
  v_message text;
  v_hint text;
begin
  -- Which items' credentials are still good: each distinct one checked once, exactly as mesh.call_as checks it.
  for v_hash in select distinct x ->> 'key_hash' from pg_catalog.jsonb_array_elements(p_items) x loop
    begin
      if mesh.token_claims(v_hash) is not null then
        v_good := v_good || v_hash;
      end if;
    exception when sqlstate 'PT401' then
      -- Revoked, expired, removed, unknown: that item gets a 401 saying which.
      get stacked diagnostics v_message = message_text, v_hint = pg_exception_hint;
      v_errors := v_errors || pg_catalog.jsonb_build_object(v_hash, pg_catalog.jsonb_build_object('status', 401,
        'code', 'PT401', 'message', v_message, 'hint', nullif(v_hint, '')));
    end;
  end loop;
  select pg_catalog.jsonb_agg(t.x order by t.ord) into v_valid
    from pg_catalog.jsonb_array_elements(p_items) with ordinality as t(x, ord) where t.x ->> 'key_hash' = any (v_good);
  v_read := case when v_valid is null then '[]'::jsonb else mesh.inbox_read_many(v_valid) end;
  -- In input order: the n-th good item takes the n-th read result; the others their key's error.
  select pg_catalog.jsonb_agg(
           case when o.good then v_read -> (o.n - 1) else pg_catalog.jsonb_build_object('error', v_errors -> o.key_hash) end
           order by o.ord)
    into v_out
    from (select t.ord, t.x ->> 'key_hash' as key_hash, t.x ->> 'key_hash' = any (v_good) as good,
                 (pg_catalog.count(*) filter (where t.x ->> 'key_hash' = any (v_good)) over (order by t.ord))::int as n
            from pg_catalog.jsonb_array_elements(p_items) with ordinality as t(x, ord)) o;
  return pg_catalog.jsonb_build_object('results', coalesce(v_out, '[]'::jsonb),
    'changed', nullif(pg_catalog.current_setting('mesh.changed', true), ''));
end
$$;
comment on function mesh.wait_batch(jsonb) is 'Hub-only: re-read many woken waits at once, re-checking each key (a key that ended gets its own 401); results in input order.';
revoke all on function mesh.wait_batch(jsonb) from public;
