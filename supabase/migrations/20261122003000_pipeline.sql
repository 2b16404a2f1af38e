-- Pipeline: external events become tasks on the board. Workers (agents of kind worker, definitions without
-- secrets), received webhook events (delivery id, state, trace in activity), runs (the pipeline side of a task),
-- write-back effects with a UNIQUE effect key (inserted before any API call, so a result is never written twice),
-- cron schedules with safety-rail counters, and a cost ledger per worker per day.
-- Hub-only functions (mesh.hook_*, mesh.pipeline_*, mesh.effect_*, mesh.schedule_*) run on the hub's own
-- connection and are granted to no API role; the public mc_* RPCs check the caller like every other RPC.

create table mesh.workers (
  agent_id uuid primary key references mesh.agents (id) on delete cascade,
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  definition jsonb not null,
  spec jsonb not null,
  enabled boolean not null default true,
  rate_window_start timestamptz,
  rate_count int not null default 0,
  rate_limited_window timestamptz,
  cost_capped_on date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint workers_definition_object check (jsonb_typeof(definition) = 'object' and octet_length(definition::text) <= 262144),
  constraint workers_spec_object check (jsonb_typeof(spec) = 'object')
);
comment on table mesh.workers is 'Worker definitions (the YAML as written, never secrets) of agents of kind worker, with the limits the hub enforces (spec) and rate counters.';
comment on column mesh.workers.spec is 'What SQL enforces, normalised by the hub from the definition: driver, model, limits (ms), schedules, event rules summary.';
create index workers_meshwork_id_idx on mesh.workers (meshwork_id);
alter table mesh.workers enable row level security;
create policy "workers are visible to members of their meshwork" on mesh.workers for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.workers.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

create table mesh.events (
  id uuid primary key default gen_random_uuid(),
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  source text not null check (source in ('github', 'gitlab', 'slack', 'telegram', 'generic', 'standard', 'cron')),
  delivery_id text not null,
  event text not null,
  action text,
  state text not null default 'received' check (state in ('received', 'dispatched', 'completed', 'failed', 'skipped')),
  summary text not null default '',
  context jsonb not null default '{}'::jsonb,
  payload jsonb,
  payload_bytes int not null default 0,
  duplicates int not null default 0,
  received_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint events_delivery_key unique (meshwork_id, source, delivery_id),
  constraint events_delivery_size check (octet_length(delivery_id) between 1 and 300),
  constraint events_event_size check (octet_length(event) between 1 and 200),
  constraint events_summary_size check (octet_length(summary) <= 1000)
);
comment on table mesh.events is 'Received webhook deliveries and cron ticks. The unique delivery key is the dedup: a redelivery creates nothing.';
create index events_meshwork_received_idx on mesh.events (meshwork_id, received_at desc);
alter table mesh.events enable row level security;
create policy "events are visible to members of their meshwork" on mesh.events for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.events.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

create table mesh.schedules (
  id uuid primary key default gen_random_uuid(),
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  worker_id uuid not null references mesh.agents (id) on delete cascade,
  entry_index int not null,
  cron text not null,
  timezone text,
  prompt text not null,
  max_runs_per_day int not null check (max_runs_per_day > 0),
  timeout_ms int not null check (timeout_ms > 0),
  pause_after_errors int not null check (pause_after_errors > 0),
  skip_when_busy boolean not null default true,
  next_run_at timestamptz,
  runs_day date,
  runs_today int not null default 0,
  consecutive_errors int not null default 0,
  paused_at timestamptz,
  pause_reason text,
  last_run_at timestamptz,
  last_outcome text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint schedules_worker_entry_key unique (worker_id, entry_index)
);
comment on table mesh.schedules is 'Cron entries of workers with safety rails: runs per day, timeout, auto-pause after consecutive errors, skip when busy. next_run_at is computed by the hub (croner).';
create index schedules_meshwork_id_idx on mesh.schedules (meshwork_id);
create index schedules_due_idx on mesh.schedules (next_run_at) where paused_at is null;
alter table mesh.schedules enable row level security;
create policy "schedules are visible to members of their meshwork" on mesh.schedules for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.schedules.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

create table mesh.runs (
  task_id uuid primary key references mesh.tasks (id) on delete cascade,
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  event_id uuid references mesh.events (id) on delete cascade,
  schedule_id uuid references mesh.schedules (id) on delete set null,
  worker_id uuid references mesh.agents (id) on delete set null,
  rule_index int,
  stage text not null check (stage in ('hydrating', 'ready', 'running', 'retry', 'result', 'decided', 'written', 'failed', 'dead', 'cancelled')),
  prompt text not null default '',
  context jsonb not null default '{}'::jsonb,
  hydrate jsonb,
  timeout_ms int not null check (timeout_ms > 0),
  result jsonb,
  usage jsonb,
  cost_usd numeric(14, 6) not null default 0,
  decision jsonb,
  error text,
  step_attempts int not null default 0,
  next_step_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint runs_prompt_size check (octet_length(prompt) <= 1048576),
  constraint runs_error_size check (octet_length(error) <= 4000)
);
comment on table mesh.runs is 'The pipeline side of a task: which event and rule made it, the full prompt, the structured result, the policy decision and the write-back stage.';
comment on column mesh.runs.stage is 'hydrating (fetching PR diff/files) -> ready -> running -> retry | result -> decided (effects inserted) -> written | failed | dead.';
create index runs_event_id_idx on mesh.runs (event_id);
create index runs_schedule_id_idx on mesh.runs (schedule_id);
create index runs_worker_id_idx on mesh.runs (worker_id);
create index runs_meshwork_id_idx on mesh.runs (meshwork_id);
create index runs_pending_idx on mesh.runs (stage, next_step_at) where stage in ('hydrating', 'ready', 'running', 'retry', 'result');
alter table mesh.runs enable row level security;
create policy "runs are visible to members of their meshwork" on mesh.runs for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.runs.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

create table mesh.effects (
  id uuid primary key default gen_random_uuid(),
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  task_id uuid not null references mesh.tasks (id) on delete cascade,
  event_id uuid references mesh.events (id) on delete cascade,
  effect_key text not null,
  provider text not null check (provider in ('github', 'gitlab')),
  kind text not null check (kind in ('comment', 'labels', 'status', 'review')),
  target jsonb not null,
  payload jsonb not null,
  state text not null default 'pending' check (state in ('pending', 'running', 'done', 'failed')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  lease_expires_at timestamptz,
  response jsonb,
  error text,
  created_at timestamptz not null default now(),
  done_at timestamptz,
  constraint effects_effect_key unique (effect_key)
);
comment on table mesh.effects is 'Write-backs, one row per action of one result, inserted before the API is called. The unique effect key makes a second write-back of the same result impossible.';
create index effects_task_id_idx on mesh.effects (task_id);
create index effects_event_id_idx on mesh.effects (event_id);
create index effects_meshwork_id_idx on mesh.effects (meshwork_id);
create index effects_due_idx on mesh.effects (next_attempt_at) where state in ('pending', 'running');
alter table mesh.effects enable row level security;
create policy "effects are visible to members of their meshwork" on mesh.effects for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.effects.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

create table mesh.cost_ledger (
  id bigint generated always as identity primary key,
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  worker_id uuid not null references mesh.agents (id) on delete cascade,
  task_id uuid references mesh.tasks (id) on delete set null,
  day date not null default ((now() at time zone 'utc')::date),
  cost_usd numeric(14, 6) not null default 0 check (cost_usd >= 0),
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  created_at timestamptz not null default now()
);
comment on table mesh.cost_ledger is 'What each run of a worker cost (USD, tokens), by UTC day: the daily cost cap reads it.';
create index cost_ledger_worker_day_idx on mesh.cost_ledger (worker_id, day);
create index cost_ledger_meshwork_id_idx on mesh.cost_ledger (meshwork_id);
create index cost_ledger_task_id_idx on mesh.cost_ledger (task_id);
alter table mesh.cost_ledger enable row level security;
create policy "cost ledger is visible to members of its meshwork" on mesh.cost_ledger for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.cost_ledger.meshwork_id and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

-- A trace is read by event: pipeline activity rows carry data.event_id.
create index activity_pipeline_event_idx on mesh.activity ((data ->> 'event_id'), id) where kind = 'pipeline';

-- ---------------------------------------------------------------------------------------------- helpers

create or replace function mesh.utc_today()
returns date
language sql stable
set search_path = ''
as $$ select (pg_catalog.now() at time zone 'utc')::date $$;
comment on function mesh.utc_today() is 'Today in UTC: the day of the cost ledger and of schedule run counters.';

-- Text cut to at most p_max bytes without splitting a character.
create or replace function mesh.clip_bytes(p_text text, p_max int)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v text := p_text;
  v_len int;
begin
  if v is null or pg_catalog.octet_length(v) <= p_max then
    return v;
  end if;
  v_len := p_max;
  v := pg_catalog.left(v, v_len);
  while pg_catalog.octet_length(v) > p_max loop
    v_len := v_len - greatest(1, (pg_catalog.octet_length(v) - p_max) / 4);
    v := pg_catalog.left(p_text, v_len);
  end loop;
  return v;
end
$$;
comment on function mesh.clip_bytes(text, int) is 'Cut text to at most p_max bytes on a character boundary.';

-- One pipeline step in activity (kind pipeline): the trace of an event is its rows, by data.event_id.
create or replace function mesh.trace(p_meshwork uuid, p_agent uuid, p_step text, p_outcome text, p_summary text, p_data jsonb default '{}'::jsonb)
returns void
language plpgsql volatile
set search_path = ''
as $$
begin
  perform mesh.log(p_meshwork, p_agent, 'pipeline', p_summary,
    coalesce(p_data, '{}'::jsonb) || pg_catalog.jsonb_build_object('step', p_step, 'outcome', p_outcome));
end
$$;
comment on function mesh.trace(uuid, uuid, text, text, text, jsonb) is 'Append a pipeline step (event.received, task.created, policy.applied, writeback.ok, ...) to activity.';

-- What a hub-side call noted for after its commit, the same keys mesh.call_as returns.
create or replace function mesh.hub_result(p jsonb)
returns jsonb
language sql volatile
set search_path = ''
as $$
  select coalesce(p, '{}'::jsonb) || pg_catalog.jsonb_build_object(
    'wake', nullif(pg_catalog.current_setting('mesh.wake', true), ''),
    'changed', nullif(pg_catalog.current_setting('mesh.changed', true), ''))
$$;
comment on function mesh.hub_result(jsonb) is 'Add the wake-ups and changed meshworks this transaction noted (for the hub to publish after commit).';

create or replace function mesh.worker_json(w mesh.workers, a mesh.agents)
returns jsonb
language sql stable
set search_path = ''
as $$
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
$$;
comment on function mesh.worker_json(mesh.workers, mesh.agents) is 'Public shape of a worker: state (stopped | capped | offline | busy | online), cost today, schedules.';

-- Event state from its runs: dispatched while any run is active, failed if any failed, else completed.
create or replace function mesh.event_settle(p_event uuid)
returns void
language plpgsql volatile
set search_path = ''
as $$
declare
  v_active int;
  v_bad int;
  v_total int;
  v_state text;
  e mesh.events;
begin
  if p_event is null then
    return;
  end if;
  select pg_catalog.count(*) filter (where r.stage in ('hydrating', 'ready', 'running', 'retry', 'result', 'decided')),
         pg_catalog.count(*) filter (where r.stage in ('failed', 'dead', 'cancelled')),
         pg_catalog.count(*)
    into v_active, v_bad, v_total
    from mesh.runs r where r.event_id = p_event;
  v_state := case when v_total = 0 then 'skipped' when v_active > 0 then 'dispatched' when v_bad > 0 then 'failed' else 'completed' end;
  update mesh.events ev set state = v_state, updated_at = pg_catalog.now()
   where ev.id = p_event and ev.state <> v_state
  returning * into e;
  if e.id is not null and v_state in ('completed', 'failed') then
    perform mesh.trace(e.meshwork_id, null, 'event.' || v_state, case when v_state = 'completed' then 'ok' else 'fail' end,
      pg_catalog.format('event %s %s: %s', e.event, v_state, pg_catalog.left(e.summary, 200)),
      pg_catalog.jsonb_build_object('event_id', e.id));
  end if;
end
$$;
comment on function mesh.event_settle(uuid) is 'Recompute an event''s state from its runs and trace the end of its pipeline.';

-- Schedule bookkeeping when a run it started ends: reset or count consecutive errors, auto-pause at the limit.
create or replace function mesh.schedule_outcome(p_schedule uuid, p_ok boolean, p_error text)
returns void
language plpgsql volatile
set search_path = ''
as $$
declare
  s mesh.schedules;
begin
  if p_schedule is null then
    return;
  end if;
  update mesh.schedules sc set
    consecutive_errors = case when p_ok then 0 else sc.consecutive_errors + 1 end,
    last_outcome = case when p_ok then 'ok' else 'error' end,
    paused_at = case when not p_ok and sc.consecutive_errors + 1 >= sc.pause_after_errors and sc.paused_at is null
                     then pg_catalog.now() else sc.paused_at end,
    pause_reason = case when not p_ok and sc.consecutive_errors + 1 >= sc.pause_after_errors and sc.paused_at is null
                        then pg_catalog.format('paused after %s consecutive errors', sc.consecutive_errors + 1) else sc.pause_reason end,
    updated_at = pg_catalog.now()
   where sc.id = p_schedule returning * into s;
  if s.id is not null and not p_ok and s.consecutive_errors >= s.pause_after_errors and s.paused_at >= pg_catalog.now() then
    perform mesh.trace(s.meshwork_id, s.worker_id, 'schedule.paused', 'fail',
      pg_catalog.format('schedule "%s" paused after %s consecutive errors', s.cron, s.consecutive_errors),
      pg_catalog.jsonb_build_object('schedule_id', s.id, 'error', pg_catalog.left(coalesce(p_error, ''), 500)));
  end if;
end
$$;
comment on function mesh.schedule_outcome(uuid, boolean, text) is 'Record how a scheduled run ended; pause the schedule after pause_after_errors failures in a row.';

-- Create one pipeline task + run inside the caller's transaction. p_hold: blocked until hydration finishes.
create or replace function mesh.create_run(p_meshwork uuid, p_event uuid, p_schedule uuid, p_worker uuid, p_rule int, p_assign boolean,
  p_title text, p_prompt text, p_context jsonb, p_timeout_ms int, p_max_attempts int, p_dedup_key text, p_hold jsonb, p_priority text)
returns mesh.tasks
language plpgsql volatile
set search_path = ''
as $$
declare
  v_task mesh.tasks;
  v_worker_name text := (select a.name from mesh.agents a where a.id = p_worker);
begin
  insert into mesh.tasks (meshwork_id, title, body, status, priority, assignee_id, max_attempts, source_event_id, dedup_key)
  values (p_meshwork, pg_catalog.left(coalesce(nullif(p_title, ''), 'pipeline task'), 200), mesh.clip_bytes(coalesce(p_prompt, ''), 65536),
    case when p_hold is null then 'open' else 'blocked' end, coalesce(p_priority, 'normal'),
    case when p_assign then p_worker end, least(greatest(coalesce(p_max_attempts, 3), 1), 100), p_event, p_dedup_key)
  on conflict (meshwork_id, dedup_key) do nothing
  returning * into v_task;
  if v_task.id is null then
    return null;
  end if;
  insert into mesh.runs (task_id, meshwork_id, event_id, schedule_id, worker_id, rule_index, stage, prompt, context, hydrate, timeout_ms)
  values (v_task.id, p_meshwork, p_event, p_schedule, p_worker, p_rule, case when p_hold is null then 'ready' else 'hydrating' end,
    coalesce(p_prompt, ''), coalesce(p_context, '{}'::jsonb), p_hold, greatest(coalesce(p_timeout_ms, 600000), 1000));
  perform mesh.trace(p_meshwork, p_worker, 'task.created', 'ok',
    pg_catalog.format('task for %s: %s', coalesce(v_worker_name, 'the board'), pg_catalog.left(v_task.title, 200)),
    pg_catalog.jsonb_build_object('event_id', p_event, 'task_id', v_task.id, 'worker', v_worker_name, 'rule', p_rule,
      'schedule_id', p_schedule, 'hydrating', p_hold is not null, 'assigned', p_assign));
  if p_hold is null then
    perform mesh.notify_assignee(v_task, null, 'assigned');
  end if;
  return v_task;
end
$$;
comment on function mesh.create_run(uuid, uuid, uuid, uuid, int, boolean, text, text, jsonb, int, int, text, jsonb, text) is 'Insert a pipeline task (deduplicated by key) and its run; wake the assignee unless the task waits for hydration.';

-- ---------------------------------------------------------------------------------------------- intake (hub only)

-- Everything the hub needs to verify and match one delivery, in one round trip.
create or replace function mesh.hook_target(p_meshwork uuid, p_source text)
returns jsonb
language sql stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('meshwork_id', m.id, 'meshwork', m.name,
    'secret', m.settings -> 'webhooks' -> p_source ->> 'secret',
    'workers', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', a.id, 'name', a.name, 'enabled', w.enabled,
        'definition', w.definition) order by a.name)
      from mesh.workers w join mesh.agents a on a.id = w.agent_id where w.meshwork_id = m.id), '[]'::jsonb))
  from mesh.meshworks m where m.id = p_meshwork
$$;
comment on function mesh.hook_target(uuid, text) is 'Hub: the encrypted webhook secret of a source and the meshwork''s worker definitions (null when no such meshwork).';

-- Record a verified delivery and create its tasks in ONE transaction: the unique delivery key dedups.
-- p_tasks: [{worker_id, rule, assign, title, prompt, timeout_ms, max_attempts, hold, priority, worker}]
create or replace function mesh.hook_ingest(p_meshwork uuid, p_source text, p_delivery text, p_event text, p_action text, p_summary text,
  p_context jsonb, p_payload jsonb, p_payload_bytes int, p_tasks jsonb, p_skipped jsonb default '[]'::jsonb)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_event uuid;
  v_existing mesh.events;
  v_task mesh.tasks;
  v_tasks jsonb := '[]'::jsonb;
  v_spec jsonb;
  v_label text := p_event || coalesce('.' || p_action, '');
begin
  insert into mesh.events (meshwork_id, source, delivery_id, event, action, state, summary, context, payload, payload_bytes)
  values (p_meshwork, p_source, p_delivery, pg_catalog.left(p_event, 200), pg_catalog.left(p_action, 200), 'received',
    mesh.clip_bytes(coalesce(p_summary, ''), 1000), coalesce(p_context, '{}'::jsonb), p_payload, coalesce(p_payload_bytes, 0))
  on conflict (meshwork_id, source, delivery_id) do nothing
  returning id into v_event;
  if v_event is null then
    update mesh.events ev set duplicates = ev.duplicates + 1
     where ev.meshwork_id = p_meshwork and ev.source = p_source and ev.delivery_id = p_delivery
    returning * into v_existing;
    perform mesh.trace(p_meshwork, null, 'event.duplicate', 'skip',
      pg_catalog.format('duplicate %s delivery %s ignored', p_source, pg_catalog.left(p_delivery, 100)),
      pg_catalog.jsonb_build_object('event_id', v_existing.id, 'delivery_id', p_delivery, 'source', p_source));
    return mesh.hub_result(pg_catalog.jsonb_build_object('event_id', v_existing.id, 'duplicate', true, 'state', v_existing.state,
      'tasks', (select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', r.task_id)), '[]'::jsonb)
                  from mesh.runs r where r.event_id = v_existing.id)));
  end if;
  perform mesh.trace(p_meshwork, null, 'event.received', 'ok',
    pg_catalog.format('%s %s received: %s', p_source, v_label, pg_catalog.left(coalesce(p_summary, ''), 200)),
    pg_catalog.jsonb_build_object('event_id', v_event, 'delivery_id', p_delivery, 'source', p_source, 'event', p_event,
      'action', p_action, 'bytes', p_payload_bytes));
  for v_spec in select * from pg_catalog.jsonb_array_elements(coalesce(p_skipped, '[]'::jsonb)) loop
    perform mesh.trace(p_meshwork, nullif(v_spec ->> 'worker_id', '')::uuid, 'event.skipped', 'skip',
      pg_catalog.format('%s not matched for %s: %s', v_label, v_spec ->> 'worker', v_spec ->> 'reason'),
      pg_catalog.jsonb_build_object('event_id', v_event, 'worker', v_spec ->> 'worker', 'reason', v_spec ->> 'reason'));
  end loop;
  for v_spec in select * from pg_catalog.jsonb_array_elements(coalesce(p_tasks, '[]'::jsonb)) loop
    perform mesh.trace(p_meshwork, (v_spec ->> 'worker_id')::uuid, 'event.matched', 'ok',
      pg_catalog.format('%s matched rule %s of %s', v_label, v_spec ->> 'rule', v_spec ->> 'worker'),
      pg_catalog.jsonb_build_object('event_id', v_event, 'worker', v_spec ->> 'worker', 'rule', (v_spec ->> 'rule')::int));
    v_task := mesh.create_run(p_meshwork, v_event, null, (v_spec ->> 'worker_id')::uuid, (v_spec ->> 'rule')::int,
      coalesce((v_spec ->> 'assign')::boolean, true), v_spec ->> 'title', v_spec ->> 'prompt', coalesce(p_context, '{}'::jsonb),
      (v_spec ->> 'timeout_ms')::int, (v_spec ->> 'max_attempts')::int,
      pg_catalog.format('%s:%s:%s:%s', p_source, p_delivery, v_spec ->> 'worker', v_spec ->> 'rule'),
      v_spec -> 'hold', v_spec ->> 'priority');
    if v_task.id is not null then
      v_tasks := v_tasks || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('id', v_task.id, 'worker', v_spec ->> 'worker',
        'rule', (v_spec ->> 'rule')::int, 'status', v_task.status));
    end if;
  end loop;
  update mesh.events ev set state = case when pg_catalog.jsonb_array_length(v_tasks) > 0 then 'dispatched' else 'skipped' end
   where ev.id = v_event;
  if pg_catalog.jsonb_array_length(v_tasks) = 0 then
    perform mesh.trace(p_meshwork, null, 'event.skipped', 'skip', pg_catalog.format('%s matched no worker rule', v_label),
      pg_catalog.jsonb_build_object('event_id', v_event));
  end if;
  return mesh.hub_result(pg_catalog.jsonb_build_object('event_id', v_event, 'duplicate', false,
    'state', case when pg_catalog.jsonb_array_length(v_tasks) > 0 then 'dispatched' else 'skipped' end, 'tasks', v_tasks));
end
$$;
comment on function mesh.hook_ingest(uuid, text, text, text, text, text, jsonb, jsonb, int, jsonb, jsonb) is 'Hub: store a verified delivery and create one task per matching rule in the same transaction; a redelivery (same delivery id) creates nothing.';

-- ---------------------------------------------------------------------------------------------- pipeline (hub only)

-- Runs waiting for PR diff / file hydration; each is leased for p_lease_seconds so hubs do not hydrate twice.
create or replace function mesh.pipeline_hydrating(p_limit int, p_lease_seconds int)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v jsonb;
begin
  with due as (
    select r.task_id from mesh.runs r
     where r.stage = 'hydrating' and (r.next_step_at is null or r.next_step_at <= pg_catalog.now())
     order by r.created_at limit p_limit for update skip locked
  ), leased as (
    update mesh.runs r set next_step_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds),
      step_attempts = r.step_attempts + 1, updated_at = pg_catalog.now()
      from due where r.task_id = due.task_id returning r.*
  )
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('task_id', l.task_id, 'meshwork_id', l.meshwork_id,
      'event_id', l.event_id, 'worker', (select a.name from mesh.agents a where a.id = l.worker_id), 'hydrate', l.hydrate,
      'context', l.context, 'attempts', l.step_attempts, 'payload', e.payload,
      'provider', (select m.settings -> 'webhooks' -> (l.context ->> 'provider') from mesh.meshworks m where m.id = l.meshwork_id))), '[]'::jsonb)
    into v
    from leased l left join mesh.events e on e.id = l.event_id;
  return v;
end
$$;
comment on function mesh.pipeline_hydrating(int, int) is 'Hub: lease runs that wait for PR diff/file hydration.';

create or replace function mesh.pipeline_hydrated(p_task uuid, p_prompt text, p_summary text, p_ok boolean)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  r mesh.runs;
  v_task mesh.tasks;
begin
  update mesh.runs rr set stage = 'ready', prompt = coalesce(p_prompt, ''), next_step_at = null, updated_at = pg_catalog.now()
   where rr.task_id = p_task and rr.stage = 'hydrating' returning * into r;
  if r.task_id is null then
    return mesh.hub_result('{"updated": false}'::jsonb);
  end if;
  update mesh.tasks t set status = 'open', body = mesh.clip_bytes(coalesce(p_prompt, ''), 65536), updated_at = pg_catalog.now()
   where t.id = p_task and t.status = 'blocked' returning * into v_task;
  perform mesh.trace(r.meshwork_id, r.worker_id, 'event.hydrated', case when p_ok then 'ok' else 'fail' end,
    coalesce(p_summary, 'event hydrated'), pg_catalog.jsonb_build_object('event_id', r.event_id, 'task_id', r.task_id));
  if v_task.id is not null then
    perform mesh.notify_assignee(v_task, null, 'assigned');
  end if;
  return mesh.hub_result('{"updated": true}'::jsonb);
end
$$;
comment on function mesh.pipeline_hydrated(uuid, text, text, boolean) is 'Hub: hydration done; the rendered prompt becomes the task body and the assignee is woken.';

-- Pipeline tasks of workers whose lease ran out (the worker crashed, was killed or hangs).
create or replace function mesh.pipeline_expired(p_limit int)
returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('task_id', t.id, 'meshwork_id', t.meshwork_id, 'attempts', t.attempts,
      'max_attempts', t.max_attempts, 'worker', a.name, 'lease_expires_at', t.lease_expires_at)), '[]'::jsonb)
  from (select t.* from mesh.tasks t
         where t.status in ('claimed', 'in_progress') and t.lease_expires_at < pg_catalog.now()
         order by t.lease_expires_at limit p_limit) t
  join mesh.agents a on a.id = t.lease_owner and a.kind = 'worker'
$$;
comment on function mesh.pipeline_expired(int) is 'Hub: claimed tasks of workers whose lease expired.';

-- Put a task whose lease expired back on the board after p_retry_at, or dead-letter it (p_retry_at null).
create or replace function mesh.pipeline_requeue(p_task uuid, p_attempt int, p_retry_at timestamptz, p_error text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  t mesh.tasks;
  r mesh.runs;
  v_dead boolean;
begin
  select * into t from mesh.tasks tt where tt.id = p_task for no key update;
  if t.id is null or t.status not in ('claimed', 'in_progress') or t.lease_expires_at >= pg_catalog.now() or t.attempts <> p_attempt then
    return mesh.hub_result('{"requeued": false}'::jsonb);
  end if;
  v_dead := p_retry_at is null or t.attempts >= t.max_attempts;
  update mesh.tasks tt set status = case when v_dead then 'dead' else 'open' end, lease_owner = null, lease_expires_at = null,
    next_retry_at = case when v_dead then null else p_retry_at end,
    result = case when v_dead then mesh.clip_bytes(p_error, 65536) else tt.result end, updated_at = pg_catalog.now()
   where tt.id = p_task returning * into t;
  update mesh.runs rr set stage = case when v_dead then 'dead' else 'retry' end, error = mesh.clip_bytes(p_error, 4000),
    updated_at = pg_catalog.now()
   where rr.task_id = p_task returning * into r;
  perform mesh.trace(t.meshwork_id, t.assignee_id, case when v_dead then 'task.dead_letter' else 'task.retry' end,
    case when v_dead then 'fail' else 'retry' end,
    case when v_dead then pg_catalog.format('task dead after %s attempts: %s', t.attempts, pg_catalog.left(p_error, 200))
         else pg_catalog.format('task re-dispatched after attempt %s: %s', t.attempts, pg_catalog.left(p_error, 200)) end,
    pg_catalog.jsonb_build_object('event_id', r.event_id, 'task_id', t.id, 'attempt', t.attempts, 'retry_at', p_retry_at,
      'error', pg_catalog.left(p_error, 500)));
  if v_dead then
    perform mesh.schedule_outcome(r.schedule_id, false, p_error);
    perform mesh.event_settle(r.event_id);
  else
    perform mesh.notify_assignee(t, null, 'requeued');
  end if;
  return mesh.hub_result(pg_catalog.jsonb_build_object('requeued', true, 'dead', v_dead));
end
$$;
comment on function mesh.pipeline_requeue(uuid, int, timestamptz, text) is 'Hub: re-dispatch a task whose lease expired (backoff until p_retry_at) or dead-letter it after max attempts.';

-- Results waiting for the policy: runs a worker reported, and pipeline tasks an editor agent or a person finished.
create or replace function mesh.pipeline_results(p_limit int)
returns jsonb
language sql stable
set search_path = ''
as $$
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
$$;
comment on function mesh.pipeline_results(int) is 'Hub: finished runs whose result has not passed the policy yet.';

-- The policy decision and the write-back effects it allows, recorded together BEFORE any API call.
-- p_effects: [{key, provider, kind, target, payload}]; a key that exists already is kept as it is.
create or replace function mesh.pipeline_decide(p_task uuid, p_stage text, p_decision jsonb, p_effects jsonb, p_summary text,
  p_result jsonb default null)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  r mesh.runs;
  t mesh.tasks;
  v_count int := 0;
  v_inserted int;
  v_effect jsonb;
  v_stage text;
begin
  select * into r from mesh.runs rr where rr.task_id = p_task for update;
  select * into t from mesh.tasks tt where tt.id = p_task;
  if r.task_id is null or not (r.stage = 'result' or (r.stage in ('ready', 'running', 'retry') and t.status in ('done', 'failed', 'cancelled', 'dead'))) then
    return mesh.hub_result('{"decided": false}'::jsonb);
  end if;
  for v_effect in select * from pg_catalog.jsonb_array_elements(coalesce(p_effects, '[]'::jsonb)) loop
    insert into mesh.effects (meshwork_id, task_id, event_id, effect_key, provider, kind, target, payload)
    values (r.meshwork_id, r.task_id, r.event_id, v_effect ->> 'key', v_effect ->> 'provider', v_effect ->> 'kind',
      v_effect -> 'target', v_effect -> 'payload')
    on conflict (effect_key) do nothing;
    get diagnostics v_inserted = row_count;
    v_count := v_count + v_inserted;
  end loop;
  v_stage := case when p_stage in ('failed', 'dead', 'cancelled') then p_stage
                  when exists (select 1 from mesh.effects ef where ef.task_id = r.task_id and ef.state in ('pending', 'running')) then 'decided'
                  when exists (select 1 from mesh.effects ef where ef.task_id = r.task_id and ef.state = 'failed') then 'failed'
                  else 'written' end;
  update mesh.runs rr set stage = v_stage, decision = p_decision, result = coalesce(p_result, rr.result), updated_at = pg_catalog.now()
   where rr.task_id = r.task_id;
  if p_stage not in ('failed', 'dead', 'cancelled') then
    perform mesh.trace(r.meshwork_id, r.worker_id, 'policy.applied',
      case when coalesce((p_decision ->> 'denied_count')::int, 0) > 0 then 'deny' else 'ok' end,
      coalesce(p_summary, 'policy applied'),
      pg_catalog.jsonb_build_object('event_id', r.event_id, 'task_id', r.task_id, 'decision', p_decision, 'effects', v_count));
  end if;
  perform mesh.event_settle(r.event_id);
  return mesh.hub_result(pg_catalog.jsonb_build_object('decided', true, 'effects', v_count, 'stage', v_stage));
end
$$;
comment on function mesh.pipeline_decide(uuid, text, jsonb, jsonb, text, jsonb) is 'Hub: record the policy decision, keep only the filtered result, and insert the allowed write-backs (unique effect keys) before any is sent.';

-- Lease due effects (new, to retry, or whose sender died mid-call) with the source settings they need.
create or replace function mesh.effects_due(p_limit int, p_lease_seconds int)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v jsonb;
begin
  with due as (
    select ef.id from mesh.effects ef
     where ef.next_attempt_at <= pg_catalog.now()
       and (ef.state = 'pending' or (ef.state = 'running' and ef.lease_expires_at < pg_catalog.now()))
     order by ef.created_at limit p_limit for update skip locked
  ), leased as (
    update mesh.effects ef set state = 'running', attempts = ef.attempts + 1,
      lease_expires_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds)
      from due where ef.id = due.id returning ef.*
  )
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', l.id, 'key', l.effect_key, 'meshwork_id', l.meshwork_id,
      'task_id', l.task_id, 'event_id', l.event_id, 'provider', l.provider, 'kind', l.kind, 'target', l.target,
      'payload', l.payload, 'attempts', l.attempts,
      'settings', (select m.settings -> 'webhooks' -> l.provider from mesh.meshworks m where m.id = l.meshwork_id)) order by l.created_at), '[]'::jsonb)
    into v from leased l;
  return v;
end
$$;
comment on function mesh.effects_due(int, int) is 'Hub: lease write-backs that are due; a lease that ran out (the hub died mid-call) makes one due again.';

create or replace function mesh.effect_finish(p_effect uuid, p_attempt int, p_ok boolean, p_response jsonb, p_error text, p_retry_at timestamptz)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  ef mesh.effects;
  r mesh.runs;
  v_stage text;
begin
  update mesh.effects e set
    state = case when p_ok then 'done' when p_retry_at is not null then 'pending' else 'failed' end,
    response = coalesce(p_response, e.response), error = case when p_ok then null else mesh.clip_bytes(p_error, 4000) end,
    next_attempt_at = coalesce(p_retry_at, e.next_attempt_at), lease_expires_at = null,
    done_at = case when p_ok or p_retry_at is null then pg_catalog.now() end
   where e.id = p_effect and e.state = 'running' and e.attempts = p_attempt
  returning * into ef;
  if ef.id is null then
    return mesh.hub_result('{"finished": false}'::jsonb);
  end if;
  select * into r from mesh.runs rr where rr.task_id = ef.task_id for update;
  perform mesh.trace(ef.meshwork_id, r.worker_id, case when p_ok then 'writeback.ok' else 'writeback.fail' end,
    case when p_ok then 'ok' when p_retry_at is not null then 'retry' else 'fail' end,
    case when p_ok then pg_catalog.format('%s %s written to %s', ef.provider, ef.kind, coalesce(ef.target ->> 'label', ef.target ->> 'repo', ''))
         else pg_catalog.format('%s %s write-back failed%s: %s', ef.provider, ef.kind,
                case when p_retry_at is not null then ' (will retry)' else '' end, pg_catalog.left(coalesce(p_error, ''), 200)) end,
    pg_catalog.jsonb_build_object('event_id', ef.event_id, 'task_id', ef.task_id, 'effect_id', ef.id, 'effect_key', ef.effect_key,
      'kind', ef.kind, 'provider', ef.provider, 'attempt', ef.attempts, 'response', p_response,
      'error', pg_catalog.left(p_error, 500)));
  if not exists (select 1 from mesh.effects e where e.task_id = ef.task_id and e.state in ('pending', 'running')) and r.stage = 'decided' then
    v_stage := case when exists (select 1 from mesh.effects e where e.task_id = ef.task_id and e.state = 'failed') then 'failed' else 'written' end;
    update mesh.runs rr set stage = v_stage, updated_at = pg_catalog.now() where rr.task_id = ef.task_id;
    perform mesh.event_settle(ef.event_id);
  end if;
  return mesh.hub_result(pg_catalog.jsonb_build_object('finished', true, 'state', ef.state));
end
$$;
comment on function mesh.effect_finish(uuid, int, boolean, jsonb, text, timestamptz) is 'Hub: record a write-back''s outcome (done, retry at p_retry_at, or failed) and settle its run and event.';

-- Schedules whose next run is due, or that have no next run computed yet.
create or replace function mesh.schedules_due(p_limit int)
returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', s.id, 'meshwork_id', s.meshwork_id, 'worker', a.name,
      'cron', s.cron, 'timezone', s.timezone, 'prompt', s.prompt, 'next_run_at', s.next_run_at)), '[]'::jsonb)
  from (select s.* from mesh.schedules s
         where s.paused_at is null and (s.next_run_at is null or s.next_run_at <= pg_catalog.now())
         order by s.next_run_at nulls first limit p_limit) s
  join mesh.agents a on a.id = s.worker_id
  join mesh.workers w on w.agent_id = s.worker_id and w.enabled
$$;
comment on function mesh.schedules_due(int) is 'Hub: schedules of enabled workers that are due (or need their first next_run_at).';

create or replace function mesh.schedule_next(p_schedule uuid, p_expected timestamptz, p_next timestamptz)
returns boolean
language sql volatile
set search_path = ''
as $$
  with moved as (
    update mesh.schedules s set next_run_at = p_next, updated_at = pg_catalog.now()
     where s.id = p_schedule and s.next_run_at is not distinct from p_expected returning 1
  )
  select exists (select 1 from moved)
$$;
comment on function mesh.schedule_next(uuid, timestamptz, timestamptz) is 'Hub: set the next run time if nobody moved it meanwhile.';

-- Fire one due run of a schedule: rails first (runs per day, skip when busy), then event + task in one transaction.
-- The event's delivery id is the schedule and its due time, so two hubs firing the same tick create one task.
create or replace function mesh.schedule_fire(p_schedule uuid, p_due timestamptz, p_next timestamptz, p_prompt text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  s mesh.schedules;
  w mesh.workers;
  v_name text;
  v_event uuid;
  v_task mesh.tasks;
  v_context jsonb;
begin
  select * into s from mesh.schedules sc where sc.id = p_schedule for update;
  if s.id is null or s.next_run_at is distinct from p_due or s.paused_at is not null then
    return mesh.hub_result('{"fired": false, "reason": "moved"}'::jsonb);
  end if;
  update mesh.schedules sc set next_run_at = p_next, updated_at = pg_catalog.now(),
    runs_day = mesh.utc_today(), runs_today = case when sc.runs_day = mesh.utc_today() then sc.runs_today else 0 end
   where sc.id = s.id returning * into s;
  select * into w from mesh.workers ww where ww.agent_id = s.worker_id;
  select a.name into v_name from mesh.agents a where a.id = s.worker_id;
  -- A skip is traced when it starts, not on every tick it lasts.
  if s.runs_today >= s.max_runs_per_day then
    if s.last_outcome is distinct from 'skipped:max_runs_per_day' then
      update mesh.schedules sc set last_outcome = 'skipped:max_runs_per_day' where sc.id = s.id;
      perform mesh.trace(s.meshwork_id, s.worker_id, 'schedule.skipped', 'skip',
        pg_catalog.format('schedule "%s" of %s skipped: %s runs today is the limit', s.cron, v_name, s.max_runs_per_day),
        pg_catalog.jsonb_build_object('schedule_id', s.id, 'reason', 'max_runs_per_day'));
    end if;
    return mesh.hub_result('{"fired": false, "reason": "max_runs_per_day"}'::jsonb);
  end if;
  if s.skip_when_busy and exists (select 1 from mesh.runs r where r.schedule_id = s.id
       and r.stage in ('hydrating', 'ready', 'running', 'retry')) then
    if s.last_outcome is distinct from 'skipped:busy' then
      update mesh.schedules sc set last_outcome = 'skipped:busy' where sc.id = s.id;
      perform mesh.trace(s.meshwork_id, s.worker_id, 'schedule.skipped', 'skip',
        pg_catalog.format('schedule "%s" of %s skipped: its previous run is still going', s.cron, v_name),
        pg_catalog.jsonb_build_object('schedule_id', s.id, 'reason', 'busy'));
    end if;
    return mesh.hub_result('{"fired": false, "reason": "busy"}'::jsonb);
  end if;
  v_context := pg_catalog.jsonb_build_object('provider', null, 'schedule_id', s.id, 'cron', s.cron, 'due_at', p_due);
  insert into mesh.events (meshwork_id, source, delivery_id, event, state, summary, context)
  values (s.meshwork_id, 'cron', pg_catalog.format('%s:%s', s.id, pg_catalog.to_char(p_due at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
    'tick', 'received', pg_catalog.format('schedule "%s" of %s', s.cron, v_name), v_context)
  on conflict (meshwork_id, source, delivery_id) do nothing
  returning id into v_event;
  if v_event is null then
    return mesh.hub_result('{"fired": false, "reason": "duplicate"}'::jsonb);
  end if;
  perform mesh.trace(s.meshwork_id, s.worker_id, 'event.received', 'ok', pg_catalog.format('cron tick "%s" for %s', s.cron, v_name),
    pg_catalog.jsonb_build_object('event_id', v_event, 'source', 'cron', 'schedule_id', s.id, 'due_at', p_due));
  v_task := mesh.create_run(s.meshwork_id, v_event, s.id, s.worker_id, null, true,
    pg_catalog.format('scheduled run of %s (%s)', v_name, s.cron), p_prompt, v_context, s.timeout_ms,
    coalesce((w.spec -> 'limits' ->> 'max_attempts')::int, 3), pg_catalog.format('cron:%s:%s', s.id, pg_catalog.date_part('epoch', p_due)::bigint),
    null, 'normal');
  update mesh.schedules sc set runs_today = sc.runs_today + 1, last_run_at = pg_catalog.now() where sc.id = s.id;
  update mesh.events ev set state = case when v_task.id is null then 'skipped' else 'dispatched' end where ev.id = v_event;
  return mesh.hub_result(pg_catalog.jsonb_build_object('fired', v_task.id is not null, 'event_id', v_event, 'task_id', v_task.id));
end
$$;
comment on function mesh.schedule_fire(uuid, timestamptz, timestamptz, text) is 'Hub: run a due schedule under its rails (max runs per day, skip when busy) as a cron event with one task.';

-- ---------------------------------------------------------------------------------------------- RPCs

create or replace function public.mc_worker_upsert(p_meshwork text, p_definition jsonb, p_spec jsonb)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_name text;
  v_agent mesh.agents;
  v_worker mesh.workers;
  v_created boolean := false;
  v_entry jsonb;
  v_i int := 0;
begin
  perform mesh.require_role(v_mw, 'member');
  if p_definition is null or pg_catalog.jsonb_typeof(p_definition) <> 'object' or pg_catalog.octet_length(p_definition::text) > 262144 then
    perform mesh.fail(400, 'worker definition must be a JSON object of at most 256 KB', 'pass the parsed worker YAML');
  end if;
  if p_spec is null or pg_catalog.jsonb_typeof(p_spec) <> 'object' or pg_catalog.jsonb_typeof(p_spec -> 'limits') <> 'object' then
    perform mesh.fail(400, 'worker spec must be a JSON object with limits', 'add workers with meshcode worker add <file>, which computes it');
  end if;
  v_name := mesh.check_name('worker name', p_definition ->> 'name');
  select * into v_agent from mesh.agents a where a.meshwork_id = v_mw and a.name = v_name;
  if v_agent.id is not null and v_agent.kind <> 'worker' then
    perform mesh.fail(409, pg_catalog.format('agent ''%s'' already exists and is not a worker', v_name),
      'give the worker another name in its file');
  end if;
  if v_agent.id is null then
    insert into mesh.agents (meshwork_id, name, role, kind)
    values (v_mw, v_name, mesh.clip_bytes(coalesce(p_spec ->> 'description', pg_catalog.format('%s worker', p_spec ->> 'driver')), 2000), 'worker')
    returning * into v_agent;
    v_created := true;
  end if;
  insert into mesh.workers (agent_id, meshwork_id, definition, spec)
  values (v_agent.id, v_mw, p_definition, p_spec)
  on conflict (agent_id) do update set definition = excluded.definition, spec = excluded.spec, updated_at = pg_catalog.now()
  returning * into v_worker;
  for v_entry in select * from pg_catalog.jsonb_array_elements(coalesce(p_spec -> 'schedules', '[]'::jsonb)) loop
    insert into mesh.schedules (meshwork_id, worker_id, entry_index, cron, timezone, prompt, max_runs_per_day, timeout_ms,
      pause_after_errors, skip_when_busy)
    values (v_mw, v_agent.id, v_i, v_entry ->> 'cron', v_entry ->> 'timezone', coalesce(v_entry ->> 'prompt', ''),
      coalesce((v_entry ->> 'max_runs_per_day')::int, 50), coalesce((v_entry ->> 'timeout_ms')::int, 600000),
      coalesce((v_entry ->> 'pause_after_errors')::int, 5), coalesce((v_entry ->> 'skip_when_busy')::boolean, true))
    on conflict (worker_id, entry_index) do update set
      next_run_at = case when mesh.schedules.cron is distinct from excluded.cron or mesh.schedules.timezone is distinct from excluded.timezone
                         then null else mesh.schedules.next_run_at end,
      cron = excluded.cron, timezone = excluded.timezone, prompt = excluded.prompt, max_runs_per_day = excluded.max_runs_per_day,
      timeout_ms = excluded.timeout_ms, pause_after_errors = excluded.pause_after_errors, skip_when_busy = excluded.skip_when_busy,
      updated_at = pg_catalog.now();
    v_i := v_i + 1;
  end loop;
  delete from mesh.schedules s where s.worker_id = v_agent.id and s.entry_index >= v_i;
  perform mesh.log(v_mw, v_agent.id, 'agent', pg_catalog.format('worker %s %s', v_name, case when v_created then 'added' else 'updated' end),
    pg_catalog.jsonb_build_object('driver', p_spec ->> 'driver', 'rules', pg_catalog.jsonb_array_length(coalesce(p_spec -> 'events', '[]'::jsonb)),
      'schedules', v_i));
  return mesh.worker_json(v_worker, v_agent) || pg_catalog.jsonb_build_object('created', v_created);
end
$$;
comment on function public.mc_worker_upsert(text, jsonb, jsonb) is 'Add or update a worker (an agent of kind worker) from its definition; no secrets are ever stored.';

create or replace function public.mc_workers(p_meshwork text)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
begin
  perform mesh.require_role(v_mw, 'guest');
  return coalesce((select pg_catalog.jsonb_agg(mesh.worker_json(w, a) order by a.name)
    from mesh.workers w join mesh.agents a on a.id = w.agent_id where w.meshwork_id = v_mw), '[]'::jsonb);
end
$$;
comment on function public.mc_workers(text) is 'The project''s workers with state (stopped | capped | offline | busy | online), cost today and schedules.';

create or replace function public.mc_worker_get(p_meshwork text, p_name text default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_name);
  w mesh.workers;
  a mesh.agents;
begin
  select * into w from mesh.workers ww where ww.agent_id = v_id;
  select * into a from mesh.agents aa where aa.id = v_id;
  if w.agent_id is null then
    perform mesh.fail(404, pg_catalog.format('agent ''%s'' is not a worker', a.name), 'add it with meshcode worker add <file> --project <project>');
  end if;
  return mesh.worker_json(w, a) || pg_catalog.jsonb_build_object('definition', w.definition, 'spec', w.spec,
    'meshwork', (select m.name from mesh.meshworks m where m.id = v_mw), 'meshwork_id', v_mw);
end
$$;
comment on function public.mc_worker_get(text, text) is 'One worker with its definition (for the worker runtime); a key bound to the worker reads only itself.';

create or replace function public.mc_worker_set(p_meshwork text, p_name text, p_enabled boolean default null, p_resume boolean default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid;
  w mesh.workers;
  a mesh.agents;
begin
  perform mesh.require_role(v_mw, 'member');
  v_id := mesh.find_agent(v_mw, p_name);
  update mesh.workers ww set enabled = coalesce(p_enabled, ww.enabled), updated_at = pg_catalog.now()
   where ww.agent_id = v_id returning * into w;
  if w.agent_id is null then
    perform mesh.fail(404, pg_catalog.format('agent ''%s'' is not a worker', pg_catalog.lower(p_name)), 'list workers with meshcode worker ls --project <project>');
  end if;
  if coalesce(p_resume, false) then
    update mesh.schedules s set paused_at = null, pause_reason = null, consecutive_errors = 0, updated_at = pg_catalog.now()
     where s.worker_id = v_id;
  end if;
  select * into a from mesh.agents aa where aa.id = v_id;
  if p_enabled is not null then
    perform mesh.trace(v_mw, v_id, 'worker.state', 'ok', pg_catalog.format('worker %s %s', a.name, case when p_enabled then 'started' else 'stopped' end),
      pg_catalog.jsonb_build_object('enabled', p_enabled));
  end if;
  return mesh.worker_json(w, a);
end
$$;
comment on function public.mc_worker_set(text, text, boolean, boolean) is 'Start (enable) or stop (disable) a worker; p_resume un-pauses its schedules.';

create or replace function public.mc_worker_remove(p_meshwork text, p_name text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid;
begin
  perform mesh.require_role(v_mw, 'member');
  v_id := mesh.find_agent(v_mw, p_name);
  if not exists (select 1 from mesh.workers w where w.agent_id = v_id) then
    perform mesh.fail(404, pg_catalog.format('agent ''%s'' is not a worker', pg_catalog.lower(p_name)), 'list workers with meshcode worker ls --project <project>');
  end if;
  update mesh.tasks t set status = 'cancelled', lease_owner = null, lease_expires_at = null, updated_at = pg_catalog.now()
   where t.assignee_id = v_id and t.status in ('open', 'claimed', 'in_progress', 'blocked');
  update mesh.runs r set stage = 'cancelled', updated_at = pg_catalog.now()
   where r.worker_id = v_id and r.stage in ('hydrating', 'ready', 'running', 'retry');
  perform mesh.log(v_mw, null, 'agent', pg_catalog.format('worker %s removed', pg_catalog.lower(p_name)));
  delete from mesh.agents a where a.id = v_id;
  return pg_catalog.jsonb_build_object('removed', true, 'name', pg_catalog.lower(p_name));
end
$$;
comment on function public.mc_worker_remove(text, text) is 'Remove a worker and its agent slot; its unfinished tasks are cancelled.';

-- The worker runtime's claim: only its own open tasks, under its rails (stopped, cost cap, concurrency, rate),
-- with a lease longer than the task timeout so nobody re-dispatches a task that is still running.
create or replace function public.mc_worker_claim(p_meshwork text, p_agent text default null, p_task_id uuid default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
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
begin
  select * into w from mesh.workers ww where ww.agent_id = v_id for update;
  select a.name into v_name from mesh.agents a where a.id = v_id;
  if w.agent_id is null then
    perform mesh.fail(404, pg_catalog.format('agent ''%s'' is not a worker', v_name), 'add it with meshcode worker add <file> --project <project>');
  end if;
  v_limits := w.spec -> 'limits';
  if not w.enabled then
    return pg_catalog.jsonb_build_object('task', null, 'reason', 'stopped');
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
      return pg_catalog.jsonb_build_object('task', null, 'reason', 'cost_cap',
        'next_at', (mesh.utc_today() + 1)::timestamp at time zone 'utc');
    end if;
  end if;
  select pg_catalog.count(*) into v_active from mesh.tasks t
   where t.lease_owner = v_id and t.status in ('claimed', 'in_progress') and t.lease_expires_at > pg_catalog.now();
  if v_active >= coalesce((v_limits ->> 'concurrency')::int, 1) then
    return pg_catalog.jsonb_build_object('task', null, 'reason', 'busy');
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
    return pg_catalog.jsonb_build_object('task', null, 'reason', 'empty', 'next_at', v_next);
  end if;
  if w.rate_count >= coalesce((v_limits ->> 'rate_per_minute')::int, 60) then
    if w.rate_limited_window is distinct from w.rate_window_start then
      update mesh.workers ww set rate_limited_window = w.rate_window_start, rate_window_start = w.rate_window_start, rate_count = w.rate_count
       where ww.agent_id = v_id;
      perform mesh.trace(v_mw, v_id, 'task.rate_limited', 'retry',
        pg_catalog.format('worker %s hit its rate limit (%s tasks a minute)', v_name, v_limits ->> 'rate_per_minute'),
        pg_catalog.jsonb_build_object('task_id', v_task.id, 'event_id', v_task.source_event_id));
    end if;
    return pg_catalog.jsonb_build_object('task', null, 'reason', 'rate_limited', 'next_at', w.rate_window_start + interval '1 minute');
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
  return pg_catalog.jsonb_build_object('task', mesh.task_json(v_task), 'run', pg_catalog.jsonb_build_object(
    'prompt', coalesce(nullif(r.prompt, ''), v_task.title || pg_catalog.chr(10) || pg_catalog.chr(10) || v_task.body),
    'context', coalesce(r.context, '{}'::jsonb), 'timeout_ms', v_timeout_ms, 'attempt', v_task.attempts,
    'max_attempts', v_task.max_attempts, 'lease_seconds', v_lease, 'event_id', r.event_id, 'schedule_id', r.schedule_id,
    'pipeline', r.task_id is not null));
end
$$;
comment on function public.mc_worker_claim(text, text, uuid) is 'Claim the worker''s next open task (priority, then age) under its rails; the lease outlives the task timeout.';

-- The worker runtime's report: only the lease owner, for the attempt it claimed. Success stores the result for the
-- policy; a transient failure goes back on the board after p_retry_in_ms; anything else (or the last attempt) is dead.
create or replace function public.mc_worker_report(p_meshwork text, p_task_id uuid, p_attempt int, p_ok boolean,
  p_output text default null, p_result jsonb default null, p_usage jsonb default null, p_error text default null,
  p_transient boolean default false, p_retry_in_ms bigint default null, p_agent text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  t mesh.tasks;
  r mesh.runs;
  v_cost numeric := 0;
  v_in bigint := 0;
  v_out bigint := 0;
  v_retry_at timestamptz;
  v_dead boolean;
  v_error text := mesh.clip_bytes(coalesce(nullif(p_error, ''), 'the worker reported a failure without a message'), 4000);
begin
  if pg_catalog.jsonb_typeof(p_result) = 'null' then
    p_result := null;
  end if;
  if pg_catalog.jsonb_typeof(p_usage) = 'null' then
    p_usage := null;
  end if;
  if p_result is not null and (pg_catalog.jsonb_typeof(p_result) <> 'object' or pg_catalog.octet_length(p_result::text) > 262144) then
    perform mesh.fail(400, 'result must be a JSON object of at most 256 KB', 'send the parsed worker result');
  end if;
  if p_usage is not null and pg_catalog.jsonb_typeof(p_usage) <> 'object' then
    perform mesh.fail(400, 'usage must be a JSON object', 'send {"input_tokens": 1, "output_tokens": 2, "cost_usd": 0.01}');
  end if;
  select * into t from mesh.tasks tt where tt.id = p_task_id and tt.meshwork_id = v_mw for no key update;
  if t.id is null then
    perform mesh.fail(404, 'no task with that id in this project', 'report the task id mc_worker_claim returned');
  end if;
  if t.lease_owner is distinct from v_id or t.status not in ('claimed', 'in_progress') or t.attempts <> p_attempt then
    perform mesh.fail(409, 'this task''s lease was lost: it was re-dispatched or finished elsewhere',
      'drop this result; the task runs again (or already ran) under a newer lease');
  end if;
  select * into r from mesh.runs rr where rr.task_id = t.id for update;
  if p_usage is not null then
    v_cost := greatest(coalesce((p_usage ->> 'cost_usd')::numeric, 0), 0);
    v_in := greatest(coalesce((p_usage ->> 'input_tokens')::bigint, 0), 0);
    v_out := greatest(coalesce((p_usage ->> 'output_tokens')::bigint, 0), 0);
    if v_cost > 0 or v_in > 0 or v_out > 0 then
      insert into mesh.cost_ledger (meshwork_id, worker_id, task_id, cost_usd, input_tokens, output_tokens)
      values (v_mw, v_id, t.id, v_cost, v_in, v_out);
    end if;
  end if;
  if p_ok then
    update mesh.tasks tt set status = 'done', progress = 100, result = mesh.clip_bytes(coalesce(p_output, ''), 65536),
      lease_owner = null, lease_expires_at = null, updated_at = pg_catalog.now()
     where tt.id = t.id returning * into t;
    update mesh.runs rr set stage = 'result', result = p_result, usage = p_usage, cost_usd = rr.cost_usd + v_cost, error = null,
      updated_at = pg_catalog.now()
     where rr.task_id = t.id;
    perform mesh.trace(v_mw, v_id, 'task.result', 'ok',
      pg_catalog.format('result for task (attempt %s): %s', t.attempts, pg_catalog.left(coalesce(p_output, ''), 200)),
      pg_catalog.jsonb_build_object('event_id', t.source_event_id, 'task_id', t.id, 'attempt', t.attempts, 'cost_usd', v_cost,
        'input_tokens', v_in, 'output_tokens', v_out, 'bytes', pg_catalog.octet_length(coalesce(p_output, ''))));
    perform mesh.schedule_outcome(r.schedule_id, true, null);
    if r.task_id is not null then
      perform mesh.event_settle(r.event_id);
    end if;
    return pg_catalog.jsonb_build_object('status', 'done', 'task_id', t.id);
  end if;
  v_dead := not coalesce(p_transient, false) or t.attempts >= t.max_attempts;
  v_retry_at := case when v_dead then null
                     else pg_catalog.now() + pg_catalog.make_interval(secs => (least(greatest(coalesce(p_retry_in_ms, 30000), 0), 3600000) / 1000.0)::float8) end;
  update mesh.tasks tt set status = case when v_dead then 'dead' else 'open' end, lease_owner = null, lease_expires_at = null,
    next_retry_at = v_retry_at, result = case when v_dead then v_error else tt.result end, updated_at = pg_catalog.now()
   where tt.id = t.id returning * into t;
  update mesh.runs rr set stage = case when v_dead then 'dead' else 'retry' end, error = v_error, usage = coalesce(p_usage, rr.usage),
    cost_usd = rr.cost_usd + v_cost, updated_at = pg_catalog.now()
   where rr.task_id = t.id;
  perform mesh.trace(v_mw, v_id, case when v_dead then 'task.dead_letter' else 'task.retry' end, case when v_dead then 'fail' else 'retry' end,
    case when v_dead then pg_catalog.format('task dead after attempt %s%s: %s', t.attempts,
                            case when coalesce(p_transient, false) then '' else ' (permanent failure)' end, pg_catalog.left(v_error, 200))
         else pg_catalog.format('attempt %s failed, retry at %s: %s', t.attempts,
                pg_catalog.to_char(v_retry_at at time zone 'utc', 'HH24:MI:SS'), pg_catalog.left(v_error, 200)) end,
    pg_catalog.jsonb_build_object('event_id', t.source_event_id, 'task_id', t.id, 'attempt', t.attempts, 'transient', coalesce(p_transient, false),
      'retry_at', v_retry_at, 'error', pg_catalog.left(v_error, 500)));
  if v_dead then
    perform mesh.schedule_outcome(r.schedule_id, false, v_error);
    perform mesh.event_settle(r.event_id);
  end if;
  return pg_catalog.jsonb_build_object('status', t.status, 'task_id', t.id, 'next_retry_at', v_retry_at);
end
$$;
comment on function public.mc_worker_report(text, uuid, int, boolean, text, jsonb, jsonb, text, boolean, bigint, text) is 'Report a claimed task''s outcome (lease owner and attempt only): result for the policy, retry with backoff, or dead letter.';

create or replace function public.mc_events(p_meshwork text, p_limit int default 50, p_before timestamptz default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_limit int := least(greatest(coalesce(p_limit, 50), 1), 500);
begin
  perform mesh.require_role(v_mw, 'guest');
  return coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', e.id, 'source', e.source, 'event', e.event,
      'action', e.action, 'delivery_id', e.delivery_id, 'state', e.state, 'summary', e.summary, 'duplicates', e.duplicates,
      'received_at', e.received_at, 'updated_at', e.updated_at,
      'tasks', (select pg_catalog.count(*) from mesh.runs r where r.event_id = e.id),
      'workers', coalesce((select pg_catalog.jsonb_agg(distinct a.name) from mesh.runs r join mesh.agents a on a.id = r.worker_id
                            where r.event_id = e.id), '[]'::jsonb),
      'effects', (select pg_catalog.count(*) from mesh.effects ef where ef.event_id = e.id and ef.state = 'done'))
      order by e.received_at desc, e.id)
    from (select * from mesh.events ev where ev.meshwork_id = v_mw and (p_before is null or ev.received_at < p_before)
           order by ev.received_at desc limit v_limit) e), '[]'::jsonb);
end
$$;
comment on function public.mc_events(text, int, timestamptz) is 'Received events newest first (p_before pages), with task, worker and write-back counts.';

create or replace function public.mc_event_trace(p_meshwork text, p_event_id uuid)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  e mesh.events;
begin
  perform mesh.require_role(v_mw, 'guest');
  select * into e from mesh.events ev where ev.id = p_event_id and ev.meshwork_id = v_mw;
  if e.id is null then
    perform mesh.fail(404, 'no event with that id in this project', 'list events with meshcode events --project <project>');
  end if;
  return pg_catalog.jsonb_build_object(
    'event', pg_catalog.jsonb_build_object('id', e.id, 'source', e.source, 'event', e.event, 'action', e.action,
      'delivery_id', e.delivery_id, 'state', e.state, 'summary', e.summary, 'context', e.context, 'duplicates', e.duplicates,
      'payload_bytes', e.payload_bytes, 'payload', case when e.payload_bytes <= 262144 then e.payload end,
      'received_at', e.received_at, 'updated_at', e.updated_at),
    'tasks', coalesce((select pg_catalog.jsonb_agg(mesh.task_json(t) || pg_catalog.jsonb_build_object(
        'worker', (select a.name from mesh.agents a where a.id = r.worker_id), 'rule', r.rule_index, 'stage', r.stage,
        'structured_result', r.result, 'usage', r.usage, 'cost_usd', r.cost_usd::float8, 'decision', r.decision, 'error', r.error)
        order by t.created_at)
      from mesh.runs r join mesh.tasks t on t.id = r.task_id where r.event_id = e.id), '[]'::jsonb),
    'effects', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', ef.id, 'task_id', ef.task_id, 'key', ef.effect_key,
        'provider', ef.provider, 'kind', ef.kind, 'target', ef.target, 'state', ef.state, 'attempts', ef.attempts,
        'response', ef.response, 'error', ef.error, 'created_at', ef.created_at, 'done_at', ef.done_at) order by ef.created_at)
      from mesh.effects ef where ef.event_id = e.id), '[]'::jsonb),
    'steps', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', ac.id, 'at', ac.created_at,
        'step', ac.data ->> 'step', 'outcome', ac.data ->> 'outcome', 'summary', ac.summary,
        'agent', (select a.name from mesh.agents a where a.id = ac.agent_id), 'task_id', ac.data ->> 'task_id', 'data', ac.data)
        order by ac.id)
      from mesh.activity ac where ac.kind = 'pipeline' and (ac.data ->> 'event_id') = e.id::text and ac.meshwork_id = v_mw), '[]'::jsonb));
end
$$;
comment on function public.mc_event_trace(text, uuid) is 'One event''s whole trace: the event, its tasks (stage, result, decision), write-backs and every pipeline step in order.';

-- Webhook settings live in meshworks.settings.webhooks.<source>. The hub encrypts secrets and tokens with its
-- master key before they reach this function (values are "mck1:..." envelopes); plain values are refused.
create or replace function mesh.check_source(p_source text)
returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_source is null or p_source not in ('github', 'gitlab', 'slack', 'telegram', 'generic', 'standard') then
    perform mesh.fail(400, 'source must be github, gitlab, slack, telegram, generic or standard', 'pass p_source: github');
  end if;
  return p_source;
end
$$;
comment on function mesh.check_source(text) is 'Validate a webhook source name.';

create or replace function mesh.check_envelope(p_field text, p_value text)
returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_value is not null and (p_value !~ '^mck1:[A-Za-z0-9_-]+$' or pg_catalog.length(p_value) not between 25 and 8000) then
    perform mesh.fail(400, pg_catalog.format('%s must be encrypted by the hub', p_field),
      'set webhook secrets and tokens through the MeshCode hub (meshcode events secret ...), which encrypts them with its master key');
  end if;
  return p_value;
end
$$;
comment on function mesh.check_envelope(text, text) is 'Refuse a secret that is not a hub-encrypted envelope (never store plaintext).';

create or replace function mesh.webhook_json(p_meshwork uuid, p_source text, p jsonb)
returns jsonb
language sql stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('source', p_source, 'path', pg_catalog.format('/hooks/v1/%s/%s', p_meshwork, p_source),
    'has_secret', (p ->> 'secret') is not null, 'has_token', (p ->> 'token') is not null, 'api_url', p ->> 'api_url',
    'updated_at', p ->> 'updated_at')
$$;
comment on function mesh.webhook_json(uuid, text, jsonb) is 'Public shape of a source''s webhook settings (never the secret).';

create or replace function public.mc_set_webhook_secret(p_meshwork text, p_source text, p_secret text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_settings jsonb;
begin
  perform mesh.require_role(v_mw, 'owner');
  perform mesh.check_source(p_source);
  perform mesh.check_envelope('webhook secret', nullif(p_secret, ''));
  update mesh.meshworks m set settings = pg_catalog.jsonb_set(
      case when pg_catalog.jsonb_typeof(m.settings -> 'webhooks') = 'object' then m.settings
           else m.settings || '{"webhooks": {}}'::jsonb end,
      array['webhooks', p_source],
      coalesce(m.settings -> 'webhooks' -> p_source, '{}'::jsonb)
        || pg_catalog.jsonb_build_object('secret', nullif(p_secret, ''), 'updated_at', pg_catalog.now()))
   where m.id = v_mw returning m.settings -> 'webhooks' -> p_source into v_settings;
  perform mesh.log(v_mw, null, 'settings', pg_catalog.format('%s webhook secret %s', p_source, case when nullif(p_secret, '') is null then 'removed' else 'set' end),
    pg_catalog.jsonb_build_object('source', p_source));
  return mesh.webhook_json(v_mw, p_source, v_settings);
end
$$;
comment on function public.mc_set_webhook_secret(text, text, text) is 'Owner: set (or clear with null) the encrypted webhook secret of a source; deliveries fail closed without one.';

create or replace function public.mc_set_source_token(p_meshwork text, p_source text, p_token text, p_api_url text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_settings jsonb;
begin
  perform mesh.require_role(v_mw, 'owner');
  perform mesh.check_source(p_source);
  if p_source not in ('github', 'gitlab') then
    perform mesh.fail(400, 'write-back tokens exist for github and gitlab only', 'pass p_source: github or gitlab');
  end if;
  perform mesh.check_envelope('token', nullif(p_token, ''));
  if p_api_url is not null and p_api_url !~ '^https?://[^\s/?#]+(/[^\s?#]*)?$' then
    perform mesh.fail(400, 'api url must be an http(s) URL', 'pass p_api_url: https://api.github.com');
  end if;
  update mesh.meshworks m set settings = pg_catalog.jsonb_set(
      case when pg_catalog.jsonb_typeof(m.settings -> 'webhooks') = 'object' then m.settings
           else m.settings || '{"webhooks": {}}'::jsonb end,
      array['webhooks', p_source],
      coalesce(m.settings -> 'webhooks' -> p_source, '{}'::jsonb)
        || pg_catalog.jsonb_build_object('token', nullif(p_token, ''), 'api_url', nullif(pg_catalog.rtrim(p_api_url, '/'), ''),
             'updated_at', pg_catalog.now()))
   where m.id = v_mw returning m.settings -> 'webhooks' -> p_source into v_settings;
  perform mesh.log(v_mw, null, 'settings', pg_catalog.format('%s write-back token %s', p_source, case when nullif(p_token, '') is null then 'removed' else 'set' end),
    pg_catalog.jsonb_build_object('source', p_source, 'api_url', p_api_url));
  return mesh.webhook_json(v_mw, p_source, v_settings);
end
$$;
comment on function public.mc_set_source_token(text, text, text, text) is 'Owner: set (or clear) the encrypted write-back token and API base URL of github or gitlab.';

create or replace function public.mc_webhooks(p_meshwork text)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
begin
  perform mesh.require_role(v_mw, 'member');
  return coalesce((select pg_catalog.jsonb_agg(mesh.webhook_json(v_mw, s.key, s.value) order by s.key)
    from mesh.meshworks m, pg_catalog.jsonb_each(case when pg_catalog.jsonb_typeof(m.settings -> 'webhooks') = 'object'
                                                      then m.settings -> 'webhooks' else '{}'::jsonb end) s
    where m.id = v_mw), '[]'::jsonb);
end
$$;
comment on function public.mc_webhooks(text) is 'The project''s webhook sources: URL path, whether a secret and a token are set (never their values).';

do $$
declare
  f text;
begin
  foreach f in array array[
    'mc_worker_upsert(text, jsonb, jsonb)', 'mc_workers(text)', 'mc_worker_get(text, text)',
    'mc_worker_set(text, text, boolean, boolean)', 'mc_worker_remove(text, text)', 'mc_worker_claim(text, text, uuid)',
    'mc_worker_report(text, uuid, int, boolean, text, jsonb, jsonb, text, boolean, bigint, text)',
    'mc_events(text, int, timestamptz)', 'mc_event_trace(text, uuid)',
    'mc_set_webhook_secret(text, text, text)', 'mc_set_source_token(text, text, text, text)', 'mc_webhooks(text)']
  loop
    execute format('revoke all on function public.%s from public, anon', f);
    execute format('grant execute on function public.%s to authenticated, service_role', f);
  end loop;
end
$$;

-- Hub-only entry points: the hub's own connection calls them; no API role may.
revoke all on function mesh.hook_target(uuid, text) from public;
revoke all on function mesh.hook_ingest(uuid, text, text, text, text, text, jsonb, jsonb, int, jsonb, jsonb) from public;
revoke all on function mesh.pipeline_hydrating(int, int) from public;
revoke all on function mesh.pipeline_hydrated(uuid, text, text, boolean) from public;
revoke all on function mesh.pipeline_expired(int) from public;
revoke all on function mesh.pipeline_requeue(uuid, int, timestamptz, text) from public;
revoke all on function mesh.pipeline_results(int) from public;
revoke all on function mesh.pipeline_decide(uuid, text, jsonb, jsonb, text, jsonb) from public;
revoke all on function mesh.effects_due(int, int) from public;
revoke all on function mesh.effect_finish(uuid, int, boolean, jsonb, text, timestamptz) from public;
revoke all on function mesh.schedules_due(int) from public;
revoke all on function mesh.schedule_next(uuid, timestamptz, timestamptz) from public;
revoke all on function mesh.schedule_fire(uuid, timestamptz, timestamptz, text) from public;
