-- A worker waits for its next task in one call: mc_worker_claim takes p_wait_seconds, and the hub holds the call as a
-- long-poll (like mc_wait) until a task is claimable, so a woken worker is answered with its claimed task instead of a
-- wake-up it then has to claim in a second round trip. Without p_wait_seconds it answers at once, as before.
-- When a webhook creates a task for a worker whose waiting claim this hub holds, the delivery's own transaction claims
-- it (mesh.hook_ingest_claim) and the hub answers the held call with it; if that call has ended meanwhile, the hub
-- hands the task back (mesh.worker_unclaim).

drop function public.mc_worker_claim(text, text, uuid);

-- The claim itself, for a resolved project and worker (the caller's rights already checked). p_waiting: the caller
-- idles in a waiting claim, so it acknowledges the worker's wake-ups and keeps its presence. Locks the agent row
-- before the worker row, the order of a delivery's transaction (its assignment message locks the agent first).
create or replace function mesh.worker_claim(v_mw uuid, v_id uuid, p_task_id uuid, p_waiting boolean)
returns jsonb
language plpgsql volatile
as $$
declare
  w mesh.workers;
  v_name text;
  v_limits jsonb;
  v_cost numeric;
  v_active int;
  v_task mesh.tasks;
  r mesh.runs;
  v_timeout_ms int;
  v_lease int;
  v_next timestamptz;
  v_out jsonb;
  v_old text;
  v_status text;
begin
  if p_waiting then
    select a.name, a.status into v_name, v_old from mesh.agents a where a.id = v_id for no key update;
  else
    select a.name into v_name from mesh.agents a where a.id = v_id;
  end if;
  <<claim>>
  begin
    select * into w from mesh.workers ww where ww.agent_id = v_id for update;
    if w.agent_id is null then
      perform mesh.fail(404, pg_catalog.format('agent ''%s'' is not a worker', v_name), 'add it with meshcode worker add <file> --project <project>');
    end if;
    v_limits := w.spec -> 'limits';
    if not w.enabled then
      v_out := pg_catalog.jsonb_build_object('task', null, 'reason', 'stopped'); exit claim;
    end if;
    if (v_limits ->> 'daily_cost_usd') is not null then
      select coalesce(pg_catalog.sum(c.cost_usd), 0) into v_cost from mesh.cost_ledger c where c.worker_id = v_id and c.day = mesh.utc_today();
      if v_cost >= (v_limits ->> 'daily_cost_usd')::numeric then
        if w.cost_capped_on is distinct from mesh.utc_today() then
          update mesh.workers ww set cost_capped_on = mesh.utc_today() where ww.agent_id = v_id;
          perform mesh.trace(v_mw, v_id, 'worker.cost_cap', 'deny',
            pg_catalog.format('worker %s reached its daily cost cap (%s USD); no more tasks today', v_name, v_limits ->> 'daily_cost_usd'),
            pg_catalog.jsonb_build_object('cost_usd', v_cost, 'cap_usd', (v_limits ->> 'daily_cost_usd')::numeric));
        end if;
        v_out := pg_catalog.jsonb_build_object('task', null, 'reason', 'cost_cap',
          'next_at', (mesh.utc_today() + 1)::timestamp at time zone 'utc'); exit claim;
      end if;
    end if;
    select pg_catalog.count(*) into v_active from mesh.tasks t
     where t.lease_owner = v_id and t.status in ('claimed', 'in_progress') and t.lease_expires_at > pg_catalog.now();
    if v_active >= coalesce((v_limits ->> 'concurrency')::int, 1) then
      v_out := pg_catalog.jsonb_build_object('task', null, 'reason', 'busy'); exit claim;
    end if;
    if w.rate_window_start is null or w.rate_window_start <= pg_catalog.now() - interval '1 minute' then
      w.rate_window_start := pg_catalog.now();
      w.rate_count := 0;
    end if;

    select t.* into v_task from mesh.tasks t
     where t.meshwork_id = v_mw and t.assignee_id = v_id and t.status = 'open'
       and (t.next_retry_at is null or t.next_retry_at <= pg_catalog.now())
       and t.attempts < t.max_attempts
       and (p_task_id is null or t.id = p_task_id)
     order by case t.priority when 'urgent' then 0 when 'high' then 1 when 'normal' then 2 else 3 end, t.created_at
     limit 1
     for no key update skip locked;
    if v_task.id is null then
      select pg_catalog.min(t.next_retry_at) into v_next from mesh.tasks t
       where t.assignee_id = v_id and t.status = 'open' and t.next_retry_at > pg_catalog.now();
      v_out := pg_catalog.jsonb_build_object('task', null, 'reason', 'empty', 'next_at', v_next); exit claim;
    end if;
    if w.rate_count >= coalesce((v_limits ->> 'rate_per_minute')::int, 60) then
      if w.rate_limited_window is distinct from w.rate_window_start then
        update mesh.workers ww set rate_limited_window = w.rate_window_start, rate_window_start = w.rate_window_start, rate_count = w.rate_count
         where ww.agent_id = v_id;
        perform mesh.trace(v_mw, v_id, 'task.rate_limited', 'retry',
          pg_catalog.format('worker %s hit its rate limit (%s tasks a minute)', v_name, v_limits ->> 'rate_per_minute'),
          pg_catalog.jsonb_build_object('task_id', v_task.id, 'event_id', v_task.source_event_id));
      end if;
      v_out := pg_catalog.jsonb_build_object('task', null, 'reason', 'rate_limited', 'next_at', w.rate_window_start + interval '1 minute'); exit claim;
    end if;

    select * into r from mesh.runs rr where rr.task_id = v_task.id;
    v_timeout_ms := coalesce(r.timeout_ms, (v_limits ->> 'task_timeout_ms')::int, 600000);
    -- The lease outlives the timeout by a margin (a quarter of it, 2 s to 30 s) so only a dead worker loses it.
    v_lease := pg_catalog.ceil(v_timeout_ms / 1000.0 + least(30, greatest(2, v_timeout_ms / 4000.0)))::int;
    update mesh.tasks t set status = 'claimed', lease_owner = v_id, attempts = t.attempts + 1, next_retry_at = null,
      lease_expires_at = pg_catalog.now() + pg_catalog.make_interval(secs => v_lease), updated_at = pg_catalog.now()
     where t.id = v_task.id returning * into v_task;
    update mesh.runs rr set stage = 'running', updated_at = pg_catalog.now() where rr.task_id = v_task.id;
    update mesh.workers ww set rate_window_start = w.rate_window_start, rate_count = w.rate_count + 1 where ww.agent_id = v_id;
    perform mesh.trace(v_mw, v_id, 'task.claimed', 'ok',
      pg_catalog.format('%s claimed task (attempt %s): %s', v_name, v_task.attempts, pg_catalog.left(v_task.title, 200)),
      pg_catalog.jsonb_build_object('event_id', v_task.source_event_id, 'task_id', v_task.id, 'attempt', v_task.attempts,
        'lease_seconds', v_lease, 'worker', v_name));
    v_out := pg_catalog.jsonb_build_object('task', mesh.task_json(v_task), 'run', pg_catalog.jsonb_build_object(
      'prompt', coalesce(nullif(r.prompt, ''), v_task.title || pg_catalog.chr(10) || pg_catalog.chr(10) || v_task.body),
      'context', coalesce(r.context, '{}'::jsonb), 'timeout_ms', v_timeout_ms, 'attempt', v_task.attempts,
      'max_attempts', v_task.max_attempts, 'lease_seconds', v_lease, 'event_id', r.event_id, 'schedule_id', r.schedule_id,
      'pipeline', r.task_id is not null));
  end claim;
  -- A waiting claim is how the worker runtime idles: the task table is its queue and its inbox only wake-ups, so it
  -- acknowledges them, and it keeps the agent's presence (working with a task or at its concurrency, else waiting).
  if p_waiting then
    v_status := case when v_out -> 'task' <> 'null'::jsonb or v_out ->> 'reason' = 'busy' then 'working' else 'waiting' end;
    update mesh.agents a set acked_seq = a.inbox_seq, status = v_status, last_seen_at = pg_catalog.now()
     where a.id = v_id
       and (a.acked_seq < a.inbox_seq or a.status <> v_status
            or a.last_seen_at is null or a.last_seen_at < pg_catalog.now() - interval '5 seconds');
    if v_old is distinct from v_status then
      perform mesh.log(v_mw, v_id, 'status', pg_catalog.format('%s is %s', v_name, v_status),
        pg_catalog.jsonb_build_object('status', v_status));
    end if;
  end if;
  return v_out || pg_catalog.jsonb_build_object('agent_id', v_id);
end
$$;
comment on function mesh.worker_claim(uuid, uuid, uuid, boolean) is 'Claim a worker''s next open task under its rails (p_waiting: also acknowledge its wake-ups and set its presence).';
revoke all on function mesh.worker_claim(uuid, uuid, uuid, boolean) from public;

create function public.mc_worker_claim(p_meshwork text, p_agent text default null, p_task_id uuid default null,
  p_wait_seconds int default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
begin
  if p_wait_seconds is not null and (p_wait_seconds < 0 or p_wait_seconds > 300) then
    perform mesh.fail(400, 'wait seconds must be between 0 and 300', 'pass p_wait_seconds: 30, or leave it out to answer at once');
  end if;
  return mesh.worker_claim(v_mw, v_id, p_task_id, p_wait_seconds is not null);
end
$$;
comment on function public.mc_worker_claim(text, text, uuid, int) is 'Claim the worker''s next open task (priority, then age) under its rails; the lease outlives the task timeout. With p_wait_seconds the hub holds the call until a task is claimable, and the call acknowledges the worker''s wake-ups and keeps its presence.';
revoke all on function public.mc_worker_claim(text, text, uuid, int) from public, anon;
grant execute on function public.mc_worker_claim(text, text, uuid, int) to authenticated, service_role;

-- A task for a worker whose waiting claim this hub holds (listed in mesh.claim_for by mesh.hook_ingest_claim) is
-- handed to that call with the task itself, so no assignment message is posted: a bare wake-up stands in for it in
-- case the claim cannot be made or taken.
create or replace function mesh.notify_assignee(t mesh.tasks, p_actor uuid, p_verb text)
returns void
language plpgsql volatile
as $$
begin
  if t.assignee_id is not null and t.assignee_id is distinct from p_actor then
    if pg_catalog.strpos(coalesce(pg_catalog.current_setting('mesh.claim_for', true), ''), t.assignee_id::text) > 0 then
      perform mesh.note_wake(array[t.assignee_id]);
    else
      perform mesh.post_message(t.meshwork_id, p_actor, array[t.assignee_id], false, 'system',
        pg_catalog.format('task %s: %s', p_verb, t.title),
        pg_catalog.jsonb_build_object('task_id', t.id, 'task', mesh.task_json(t)), null, null, null, null);
    end if;
  end if;
end
$$;
comment on function mesh.notify_assignee(mesh.tasks, uuid, text) is 'Deliver a system message to a task''s assignee (wakes its meshcode_wait); only a wake-up for a worker whose waiting claim gets the task in this transaction.';

-- The hub keeps the target of a project's last delivery (secret envelope, workers) and checks it is still current in
-- the next delivery's transaction instead of reading it again first: one round trip less per delivery.
create or replace function mesh.hook_target_stamped(p_meshwork uuid, p_source text)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v jsonb := mesh.hook_target(p_meshwork, p_source);
begin
  return v || pg_catalog.jsonb_build_object('stamp', pg_catalog.md5(v::text));
end
$$;
comment on function mesh.hook_target_stamped(uuid, text) is 'Hub: mesh.hook_target with a stamp (digest of it) that mesh.hook_ingest_claim checks.';
revoke all on function mesh.hook_target_stamped(uuid, text) from public;

-- A delivery whose tasks go to workers waiting on this hub (p_claim_for) claims one task for each of them in the same
-- transaction; the hub answers their held calls with the claims. {"stale": true}, and nothing done, when the target the
-- hub verified and matched the delivery with (p_stamp) is no longer current.
create or replace function mesh.hook_ingest_claim(p_stamp text, p_claim_for uuid[], p_meshwork uuid, p_source text, p_delivery text, p_event text,
  p_action text, p_summary text, p_context jsonb, p_payload jsonb, p_payload_bytes int, p_tasks jsonb, p_skipped jsonb default '[]'::jsonb)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v jsonb;
  v_claims jsonb := '[]'::jsonb;
  v_claim jsonb;
  t record;
begin
  if p_stamp is distinct from mesh.hook_target_stamped(p_meshwork, p_source) ->> 'stamp' then
    return '{"stale": true}'::jsonb;
  end if;
  perform pg_catalog.set_config('mesh.claim_for', coalesce(pg_catalog.array_to_string(p_claim_for, ','), ''), true);
  v := mesh.hook_ingest(p_meshwork, p_source, p_delivery, p_event, p_action, p_summary, p_context, p_payload, p_payload_bytes,
    p_tasks, p_skipped);
  perform pg_catalog.set_config('mesh.claim_for', '', true);
  if coalesce(pg_catalog.cardinality(p_claim_for), 0) = 0 or (v ->> 'duplicate')::boolean then
    return v;
  end if;
  for t in select distinct on (tk.assignee_id) tk.id, tk.assignee_id from mesh.tasks tk
            where tk.id in (select (x ->> 'id')::uuid from pg_catalog.jsonb_array_elements(v -> 'tasks') x)
              and tk.assignee_id = any (p_claim_for) and tk.status = 'open'
            order by tk.assignee_id, tk.created_at loop
    v_claim := mesh.worker_claim(p_meshwork, t.assignee_id, t.id, true);
    if v_claim -> 'task' <> 'null'::jsonb then
      v_claims := v_claims || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('agent_id', t.assignee_id, 'result', v_claim));
    end if;
  end loop;
  return mesh.hub_result(v || pg_catalog.jsonb_build_object('claims', v_claims));
end
$$;
comment on function mesh.hook_ingest_claim(text, uuid[], uuid, text, text, text, text, text, jsonb, jsonb, int, jsonb, jsonb) is 'Hub: check the target stamp, mesh.hook_ingest, then claim a created task for each worker in p_claim_for (their waiting claims are held by this hub).';
revoke all on function mesh.hook_ingest_claim(text, uuid[], uuid, text, text, text, text, text, jsonb, jsonb, int, jsonb, jsonb) from public;

-- A claim made for a waiting call that had ended by the time the hub could answer it: the task goes back on the board
-- as if never claimed (attempt, lease and rate count undone) and the worker is woken to claim it again.
create or replace function mesh.worker_unclaim(p_task uuid, p_attempt int)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  t mesh.tasks;
begin
  update mesh.tasks tk set status = 'open', lease_owner = null, lease_expires_at = null, attempts = tk.attempts - 1,
    updated_at = pg_catalog.now()
   where tk.id = p_task and tk.status = 'claimed' and tk.attempts = p_attempt
  returning * into t;
  if t.id is null then
    return mesh.hub_result('{"released": false}'::jsonb);
  end if;
  update mesh.runs rr set stage = 'ready', updated_at = pg_catalog.now() where rr.task_id = t.id and rr.stage = 'running';
  update mesh.workers ww set rate_count = greatest(ww.rate_count - 1, 0) where ww.agent_id = t.assignee_id;
  perform mesh.trace(t.meshwork_id, t.assignee_id, 'task.released', 'retry',
    pg_catalog.format('claim handed back (the waiting worker had gone): %s', pg_catalog.left(t.title, 200)),
    pg_catalog.jsonb_build_object('event_id', t.source_event_id, 'task_id', t.id, 'attempt', p_attempt));
  perform mesh.note_wake(array[t.assignee_id]);
  return mesh.hub_result('{"released": true}'::jsonb);
end
$$;
comment on function mesh.worker_unclaim(uuid, int) is 'Hub: undo a claim no waiting call could take; the worker is woken to claim the task again.';
revoke all on function mesh.worker_unclaim(uuid, int) from public;

-- The delivery's transaction, cheaper: pipeline helpers that only run inside entry points fixing search_path = ''
-- inherit it (no configuration save/restore per call), and mesh.hub_result, a SQL function that could not be inlined
-- (so planned again on every call), is PL/pgSQL.
do $$
declare
  f text;
begin
  foreach f in array array[
    'mesh.trace(uuid, uuid, text, text, text, jsonb)', 'mesh.event_settle(uuid)', 'mesh.schedule_outcome(uuid, boolean, text)',
    'mesh.create_run(uuid, uuid, uuid, uuid, integer, boolean, text, text, jsonb, integer, integer, text, jsonb, text)']
  loop
    execute pg_catalog.format('alter function %s reset search_path', f);
  end loop;
end
$$;

create or replace function mesh.hub_result(p jsonb)
returns jsonb
language plpgsql volatile
as $$
begin
  return coalesce(p, '{}'::jsonb) || pg_catalog.jsonb_build_object(
    'wake', nullif(pg_catalog.current_setting('mesh.wake', true), ''),
    'changed', nullif(pg_catalog.current_setting('mesh.changed', true), ''),
    'deliver', nullif(pg_catalog.current_setting('mesh.deliver', true), ''),
    'revoked', coalesce(pg_catalog.current_setting('mesh.revoked', true), '') = '1');
end
$$;
alter function mesh.hub_result(jsonb) reset search_path;

-- Leased tasks by holder and by expiry: a worker's claim counts its active leases, and the pipeline looks for expired
-- ones on every tick. Both scanned every task ever created before (tasks_assignee_id_idx only narrowed by status).
create index tasks_leased_idx on mesh.tasks (lease_owner, lease_expires_at) where status in ('claimed', 'in_progress');
create index tasks_lease_expiry_idx on mesh.tasks (lease_expires_at) where status in ('claimed', 'in_progress');
