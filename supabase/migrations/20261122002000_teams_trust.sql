-- Teams and trust: invites (hashed tokens redeemed atomically into guest accounts holding one-slot keys), members and
-- their removal, the public spectator link (hash in meshworks.spectator_token_hash) with server-side redaction, and
-- links between meshworks for cross-project messages (mc_send in the bus migration routes `<project>/<agent>` and
-- replies across a link through mesh.resolve_linked, mesh.linked and mesh.post_link_message defined here).

alter table mesh.accounts add column guest boolean not null default false;
comment on column mesh.accounts.guest is 'Created by redeeming an invite: no email login; reachable only through its invite-minted keys.';

create table mesh.invites (
  id uuid primary key default gen_random_uuid(),
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  agent_id uuid not null references mesh.agents (id) on delete cascade,
  token_hash text not null unique,
  prefix text not null,
  role text not null default '',
  created_by uuid references mesh.accounts (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  max_uses int not null default 1,
  uses int not null default 0,
  revoked_at timestamptz,
  constraint invites_token_hash_format check (token_hash ~ '^[0-9a-f]{64}$'),
  constraint invites_max_uses_range check (max_uses between 1 and 100),
  constraint invites_uses_within_max check (uses between 0 and max_uses),
  constraint invites_role_size check (octet_length(role) <= 2000)
);
comment on table mesh.invites is 'Invites to one agent slot: sha256 of the mc_inv_ token only, expiry, uses out of max_uses, revocation.';
comment on column mesh.invites.prefix is 'The first characters of the token (mc_inv_ + 4), to tell invites apart in listings.';
create index invites_meshwork_id_idx on mesh.invites (meshwork_id, created_at);
create index invites_agent_id_idx on mesh.invites (agent_id);
create index invites_created_by_idx on mesh.invites (created_by);
alter table mesh.invites enable row level security;
create policy "invites are visible to owners of their meshwork" on mesh.invites for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id = mesh.invites.meshwork_id and mb.account_id = (select auth.uid())
                   and mb.role = 'owner' and mb.revoked_at is null));

create table mesh.invite_redemptions (
  id uuid primary key default gen_random_uuid(),
  invite_id uuid not null references mesh.invites (id) on delete cascade,
  account_id uuid not null references mesh.accounts (id) on delete cascade,
  key_id uuid references mesh.api_keys (id) on delete set null,
  display_name text not null,
  redeemed_at timestamptz not null default now(),
  constraint invite_redemptions_display_name_size check (octet_length(display_name) <= 200)
);
comment on table mesh.invite_redemptions is 'Who redeemed an invite: the guest account and the key minted for it.';
create index invite_redemptions_invite_id_idx on mesh.invite_redemptions (invite_id);
create index invite_redemptions_account_id_idx on mesh.invite_redemptions (account_id);
create index invite_redemptions_key_id_idx on mesh.invite_redemptions (key_id);
alter table mesh.invite_redemptions enable row level security;
create policy "redemptions are visible to owners of the invite's meshwork" on mesh.invite_redemptions for select to authenticated
  using (exists (select 1 from mesh.invites i join mesh.members mb on mb.meshwork_id = i.meshwork_id
                  where i.id = mesh.invite_redemptions.invite_id and mb.account_id = (select auth.uid())
                    and mb.role = 'owner' and mb.revoked_at is null));

create table mesh.links (
  meshwork_id uuid not null references mesh.meshworks (id) on delete cascade,
  target_id uuid not null references mesh.meshworks (id) on delete cascade,
  agreed_by uuid references mesh.accounts (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (meshwork_id, target_id),
  constraint links_not_self check (meshwork_id <> target_id)
);
comment on table mesh.links is 'One owner''s consent to link its meshwork with target_id. A link is active when both directions exist.';
create index links_target_id_idx on mesh.links (target_id);
create index links_agreed_by_idx on mesh.links (agreed_by);
alter table mesh.links enable row level security;
create policy "links are visible to members of either meshwork" on mesh.links for select to authenticated
  using (exists (select 1 from mesh.members mb where mb.meshwork_id in (mesh.links.meshwork_id, mesh.links.target_id)
                   and mb.account_id = (select auth.uid()) and mb.revoked_at is null));

-- ------------------------------------------------------------------------------------------- redaction

-- Credential shapes, in the same order and with the same markers as packages/worker/src/redact.ts (a test checks
-- they agree). Postgres regular expressions: \y is a word boundary.
create or replace function mesh.redact(p_text text)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v text := p_text;
begin
  if v is null or v = '' then
    return v;
  end if;
  v := pg_catalog.regexp_replace(v, $re$-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[^-]*(-----END [A-Z0-9 ]*PRIVATE KEY-----)?$re$, '[REDACTED:private-key]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\yeyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*$re$, '[REDACTED:jwt]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\ymc_inv_[A-Za-z0-9]{8,}$re$, '[REDACTED:meshcode-invite]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\ymc_watch_[A-Za-z0-9]{8,}$re$, '[REDACTED:meshcode-watch]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\ymc_[A-Za-z0-9]{20,}$re$, '[REDACTED:meshcode-key]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\ygh[pousr]_[A-Za-z0-9]{20,}$re$, '[REDACTED:github-token]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\ygithub_pat_[A-Za-z0-9_]{20,}$re$, '[REDACTED:github-token]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\ygl(pat|dt|ptt|rt)-[A-Za-z0-9_-]{20,}$re$, '[REDACTED:gitlab-token]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\ysk-[A-Za-z0-9_-]{16,}$re$, '[REDACTED:api-key]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\yxox[abposre]-[A-Za-z0-9-]{10,}$re$, '[REDACTED:slack-token]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\yxapp-[A-Za-z0-9-]{10,}$re$, '[REDACTED:slack-token]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\y(AKIA|ASIA)[0-9A-Z]{16}\y$re$, '[REDACTED:aws-key]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\yAIza[0-9A-Za-z_-]{35}$re$, '[REDACTED:google-key]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\ywhsec_[A-Za-z0-9+/=]{16,}$re$, '[REDACTED:webhook-secret]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\y[0-9]{8,10}:AA[A-Za-z0-9_-]{33}\y$re$, '[REDACTED:telegram-token]', 'g');
  v := pg_catalog.regexp_replace(v, $re$\y(Bearer[[:space:]]+)[A-Za-z0-9._~+/=-]{8,}$re$, '\1[REDACTED:credential]', 'gi');
  v := pg_catalog.regexp_replace(v,
    $re$\y(Authorization["']?[[:space:]]*[:=][[:space:]]*["']?(Basic[[:space:]]+|token[[:space:]]+)?)[A-Za-z0-9._~+/=-]{8,}$re$,
    '\1[REDACTED:credential]', 'gi');
  v := pg_catalog.regexp_replace(v, $re$\y([a-z][a-z0-9+.-]*://[^[:space:]:/@]+:)[^[:space:]@/]+@$re$, '\1[REDACTED:password]@', 'gi');
  v := pg_catalog.regexp_replace(v,
    $re$\y((password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?key)["']?[[:space:]]*[=:][[:space:]]*)("[^"]*"|'[^']*'|[^[:space:]&,;"']+)$re$,
    '\1[REDACTED:secret]', 'gi');
  return v;
end
$$;
comment on function mesh.redact(text) is 'Mask credential shapes (API keys, tokens, JWTs, passwords in text) for public views.';

create or replace function mesh.redact_json(p jsonb)
returns jsonb
language plpgsql immutable
set search_path = ''
as $$
begin
  case pg_catalog.jsonb_typeof(p)
    when 'string' then
      return pg_catalog.to_jsonb(mesh.redact(p #>> '{}'));
    when 'array' then
      return (select coalesce(pg_catalog.jsonb_agg(mesh.redact_json(e.v) order by e.i), '[]'::jsonb)
                from pg_catalog.jsonb_array_elements(p) with ordinality as e(v, i));
    when 'object' then
      -- Fields holding memory or scratchpad values are masked whatever they contain.
      return (select coalesce(pg_catalog.jsonb_object_agg(mesh.redact(e.key),
                case when pg_catalog.lower(e.key) in ('value', 'p_value', 'values') then '"[REDACTED:value]"'::jsonb
                     else mesh.redact_json(e.value) end), '{}'::jsonb)
                from pg_catalog.jsonb_each(p) as e);
    else
      return p;
  end case;
end
$$;
comment on function mesh.redact_json(jsonb) is 'Redact every string of a JSON value and mask value fields (memory, scratchpad).';

-- ------------------------------------------------------------------------------------------- invites

create or replace function mesh.invite_state(i mesh.invites)
returns text
language sql stable
set search_path = ''
as $$
  select case when i.revoked_at is not null then 'revoked'
              when i.expires_at <= pg_catalog.now() then 'expired'
              when i.uses >= i.max_uses then 'used'
              else 'active' end
$$;
comment on function mesh.invite_state(mesh.invites) is 'active, used (no uses left), expired or revoked.';

create or replace function mesh.invite_json(i mesh.invites)
returns jsonb
language sql stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('id', i.id, 'prefix', i.prefix || '…',
    'meshwork', (select m.name from mesh.meshworks m where m.id = i.meshwork_id),
    'agent', (select a.name from mesh.agents a where a.id = i.agent_id),
    'role', i.role, 'state', mesh.invite_state(i), 'uses', i.uses, 'max_uses', i.max_uses,
    'created_by', (select ac.display_name from mesh.accounts ac where ac.id = i.created_by),
    'created_at', i.created_at, 'expires_at', i.expires_at, 'revoked_at', i.revoked_at,
    'redeemed_by', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('account_id', r.account_id,
        'display_name', r.display_name, 'redeemed_at', r.redeemed_at,
        'active', exists (select 1 from mesh.members mb where mb.meshwork_id = i.meshwork_id and mb.account_id = r.account_id
                            and mb.revoked_at is null)) order by r.redeemed_at)
      from mesh.invite_redemptions r where r.invite_id = i.id), '[]'::jsonb))
$$;
comment on function mesh.invite_json(mesh.invites) is 'Wire shape of an invite (never the token), with who redeemed it.';

-- The hash of an invite token, after a shape check that never says whether a token exists.
create or replace function mesh.invite_hash(p_token text)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v text := pg_catalog.btrim(coalesce(p_token, ''));
begin
  if v = '' then
    perform mesh.fail(400, 'invite token is required', 'pass the mc_inv_... token from the join link');
  end if;
  if pg_catalog.octet_length(v) > 200 then
    perform mesh.fail(404, 'this invite is not valid', 'check that you copied the whole link, or ask the project owner for a new invite');
  end if;
  return mesh.sha256_hex(v);
end
$$;
comment on function mesh.invite_hash(text) is 'sha256 of an invite token (400 when empty, 404 when too long to be one).';

create or replace function public.mc_create_invite(p_meshwork text, p_agent text, p_role text default null, p_days int default 7,
  p_max_uses int default 1)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_name text;
  v_role text := nullif(pg_catalog.btrim(coalesce(p_role, '')), '');
  v_agent mesh.agents;
  v_token text;
  v_invite mesh.invites;
begin
  perform mesh.require_role(v_mw, 'owner');
  v_name := mesh.check_name('agent name', p_agent);
  if mesh.redact(v_name) <> v_name then
    perform mesh.fail(400, 'agent name looks like a key or token', 'pass the name of the agent slot, such as designer');
  end if;
  perform mesh.check_text('role', p_role, 2000, false);
  if p_days is null or p_days < 1 or p_days > 365 then
    perform mesh.fail(400, 'days must be between 1 and 365', 'pass p_days: 7 (meshcode invite <project> <agent> --days 7)');
  end if;
  if p_max_uses is null or p_max_uses < 1 or p_max_uses > 100 then
    perform mesh.fail(400, 'max uses must be between 1 and 100', 'pass p_max_uses: 1 for one person');
  end if;
  -- The slot the guest will run as: created here when it does not exist yet.
  insert into mesh.agents (meshwork_id, name, role) values (v_mw, v_name, coalesce(v_role, ''))
  on conflict (meshwork_id, name) do nothing
  returning * into v_agent;
  if v_agent.id is not null then
    perform mesh.log(v_mw, v_agent.id, 'agent', pg_catalog.format('agent %s added for an invite', v_name),
      pg_catalog.jsonb_build_object('role', v_agent.role));
  else
    select * into v_agent from mesh.agents a where a.meshwork_id = v_mw and a.name = v_name;
    if v_role is not null and v_role <> v_agent.role then
      update mesh.agents a set role = v_role where a.id = v_agent.id returning * into v_agent;
      perform mesh.log(v_mw, v_agent.id, 'agent', pg_catalog.format('agent %s edited', v_name), pg_catalog.jsonb_build_object('role', v_role));
    end if;
  end if;
  v_token := mesh.new_secret('mc_inv_');
  insert into mesh.invites (meshwork_id, agent_id, token_hash, prefix, role, created_by, expires_at, max_uses)
  values (v_mw, v_agent.id, mesh.sha256_hex(v_token), pg_catalog.left(v_token, 11), v_agent.role, v_uid,
    pg_catalog.now() + pg_catalog.make_interval(days => p_days), p_max_uses)
  returning * into v_invite;
  perform mesh.log(v_mw, v_agent.id, 'invite', pg_catalog.format('invite to agent %s created (%s use%s, %s day%s)', v_name,
      p_max_uses, case when p_max_uses = 1 then '' else 's' end, p_days, case when p_days = 1 then '' else 's' end),
    pg_catalog.jsonb_build_object('invite_id', v_invite.id, 'max_uses', p_max_uses, 'expires_at', v_invite.expires_at));
  return mesh.invite_json(v_invite) || pg_catalog.jsonb_build_object('token', v_token, 'path', '/join/' || v_token);
end
$$;
comment on function public.mc_create_invite(text, text, text, int, int) is 'Owner: invite someone to one agent slot (created if missing). Returns the mc_inv_ token once and its join path.';

create or replace function public.mc_list_invites(p_meshwork text)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
begin
  perform mesh.require_role(v_mw, 'owner');
  return coalesce((select pg_catalog.jsonb_agg(mesh.invite_json(i) order by i.created_at desc, i.id)
    from mesh.invites i where i.meshwork_id = v_mw), '[]'::jsonb);
end
$$;
comment on function public.mc_list_invites(text) is 'Owner: the project''s invites, newest first, with their state and who redeemed them.';

create or replace function public.mc_revoke_invite(p_invite_id text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_id text := pg_catalog.btrim(coalesce(p_invite_id, ''));
  v_invite mesh.invites;
begin
  if v_id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    perform mesh.fail(400, 'invite id is not valid', 'copy the id from meshcode invites <project>');
  end if;
  select i.* into v_invite from mesh.invites i
    join mesh.members mb on mb.meshwork_id = i.meshwork_id and mb.account_id = v_uid and mb.role = 'owner' and mb.revoked_at is null
   where i.id = v_id::uuid
   for update of i;
  if v_invite.id is null then
    perform mesh.fail(404, 'no invite with that id in your projects', 'list them with meshcode invites <project>');
  end if;
  if v_invite.revoked_at is null then
    update mesh.invites i set revoked_at = pg_catalog.now() where i.id = v_invite.id returning * into v_invite;
    perform mesh.log(v_invite.meshwork_id, v_invite.agent_id, 'invite',
      pg_catalog.format('invite %s… to agent %s revoked', v_invite.prefix, (select a.name from mesh.agents a where a.id = v_invite.agent_id)),
      pg_catalog.jsonb_build_object('invite_id', v_invite.id));
  end if;
  return mesh.invite_json(v_invite) || '{"revoked": true}'::jsonb;
end
$$;
comment on function public.mc_revoke_invite(text) is 'Owner: cancel an invite (people who already joined stay; remove them with mc_revoke_member).';

create or replace function public.mc_invite_info(p_token text)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_invite mesh.invites;
begin
  select * into v_invite from mesh.invites i where i.token_hash = mesh.invite_hash(p_token);
  if v_invite.id is null then
    perform mesh.fail(404, 'this invite is not valid', 'check that you copied the whole link, or ask the project owner for a new invite');
  end if;
  return pg_catalog.jsonb_build_object(
    'meshwork', (select m.name from mesh.meshworks m where m.id = v_invite.meshwork_id),
    'agent', (select a.name from mesh.agents a where a.id = v_invite.agent_id),
    'role', v_invite.role, 'invited_by', (select ac.display_name from mesh.accounts ac where ac.id = v_invite.created_by),
    'state', mesh.invite_state(v_invite), 'expires_at', v_invite.expires_at,
    'uses_left', greatest(v_invite.max_uses - v_invite.uses, 0));
end
$$;
comment on function public.mc_invite_info(text) is 'Anyone holding an invite token: what it is for and whether it still works (never consumes it).';

create or replace function public.mc_redeem_invite(p_token text, p_display_name text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_hash text := mesh.invite_hash(p_token);
  v_name text := pg_catalog.btrim(coalesce(p_display_name, ''));
  v_invite mesh.invites;
  v_account uuid;
  v_key jsonb;
  v_agent mesh.agents;
  v_project text;
begin
  if pg_catalog.octet_length(v_name) > 200 then
    perform mesh.fail(400, 'display name is longer than 200 bytes', 'pass a shorter --display-name');
  end if;
  if v_name = '' then
    v_name := 'Guest';
  end if;
  -- The row lock makes concurrent redemptions queue: each sees the uses the previous one counted.
  select * into v_invite from mesh.invites i where i.token_hash = v_hash for update;
  if v_invite.id is null then
    perform mesh.fail(404, 'this invite is not valid', 'check that you copied the whole link, or ask the project owner for a new invite');
  end if;
  if v_invite.revoked_at is not null then
    perform mesh.fail(410, 'this invite was revoked by the project owner', 'ask the project owner for a new invite');
  end if;
  if v_invite.expires_at <= pg_catalog.now() then
    perform mesh.fail(410, 'this invite has expired', 'ask the project owner for a new one (meshcode invite <project> <agent> --days 7)');
  end if;
  if v_invite.uses >= v_invite.max_uses then
    perform mesh.fail(409, 'this invite has already been used',
      pg_catalog.format('it was good for %s use%s; ask the project owner for a new one', v_invite.max_uses, case when v_invite.max_uses = 1 then '' else 's' end));
  end if;
  update mesh.invites i set uses = i.uses + 1 where i.id = v_invite.id;
  insert into mesh.accounts (email, display_name, guest)
  values ('guest-' || gen_random_uuid()::text || '@invite.meshcode.invalid', v_name, true)
  returning id into v_account;
  insert into mesh.members (meshwork_id, account_id, role) values (v_invite.meshwork_id, v_account, 'guest');
  v_key := mesh.mint_key(v_account, 'invite', v_invite.meshwork_id, v_invite.agent_id, 'invite ' || v_invite.prefix || '…', null);
  insert into mesh.invite_redemptions (invite_id, account_id, key_id, display_name)
  values (v_invite.id, v_account, (v_key ->> 'id')::uuid, v_name);
  select * into v_agent from mesh.agents a where a.id = v_invite.agent_id;
  select m.name into v_project from mesh.meshworks m where m.id = v_invite.meshwork_id;
  perform mesh.log(v_invite.meshwork_id, v_agent.id, 'member', pg_catalog.format('%s joined as a guest running agent %s', v_name, v_agent.name),
    pg_catalog.jsonb_build_object('account_id', v_account, 'invite_id', v_invite.id, 'role', 'guest'));
  return pg_catalog.jsonb_build_object(
    'account', pg_catalog.jsonb_build_object('id', v_account, 'display_name', v_name, 'guest', true),
    'key', v_key ->> 'key', 'key_id', v_key ->> 'id',
    'meshwork', v_project, 'meshwork_id', v_invite.meshwork_id, 'agent', v_agent.name, 'role', v_agent.role,
    'member_role', 'guest', 'next', 'meshcode run ' || v_agent.name);
end
$$;
comment on function public.mc_redeem_invite(text, text) is 'Anyone holding an invite token (POST only): atomically use it, creating a guest account and a key for that one agent slot (shown once).';

-- ------------------------------------------------------------------------------------------- members

create or replace function public.mc_members(p_meshwork text)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.caller_account();
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_role text := mesh.require_role(v_mw, 'guest');
  -- Guests and keys scoped to one agent see themselves and the owner; owners and members see everyone.
  v_full boolean := v_role in ('owner', 'member') and mesh.caller_scope() = 'owner';
begin
  return coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
      'account_id', mb.account_id, 'display_name', ac.display_name,
      'email', case when v_full and v_role = 'owner' and not ac.guest then ac.email end,
      'role', mb.role, 'guest', ac.guest, 'joined_at', mb.created_at, 'you', mb.account_id = v_uid,
      'agents', coalesce((select pg_catalog.jsonb_agg(distinct a.name) from mesh.api_keys k join mesh.agents a on a.id = k.agent_id
                           where k.account_id = mb.account_id and k.meshwork_id = v_mw and k.revoked_at is null), '[]'::jsonb),
      'last_used_at', (select pg_catalog.max(k.last_used_at) from mesh.api_keys k where k.account_id = mb.account_id and k.meshwork_id = v_mw))
      order by (mb.role = 'owner') desc, mb.created_at, mb.account_id)
    from mesh.members mb join mesh.accounts ac on ac.id = mb.account_id
    where mb.meshwork_id = v_mw and mb.revoked_at is null
      and (v_full or mb.account_id = v_uid or mb.role = 'owner')), '[]'::jsonb);
end
$$;
comment on function public.mc_members(text) is 'Current members of a project (guests see themselves and the owner).';

create or replace function public.mc_revoke_member(p_meshwork text, p_user text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_user text := pg_catalog.btrim(coalesce(p_user, ''));
  v_ids uuid[];
  v_target uuid;
  v_target_role text;
  v_name text;
  v_keys int;
begin
  perform mesh.require_role(v_mw, 'owner');
  if v_user = '' then
    perform mesh.fail(400, 'member is required', 'pass p_user: the member id, email or display name from meshcode members <project>');
  end if;
  if pg_catalog.octet_length(v_user) > 320 then
    perform mesh.fail(400, 'member is longer than 320 bytes', 'pass the member id from meshcode members <project>');
  end if;
  select pg_catalog.array_agg(mb.account_id order by mb.created_at) into v_ids
    from mesh.members mb join mesh.accounts ac on ac.id = mb.account_id
   where mb.meshwork_id = v_mw and mb.revoked_at is null
     and (mb.account_id::text = pg_catalog.lower(v_user) or (not ac.guest and pg_catalog.lower(ac.email) = pg_catalog.lower(v_user))
          or pg_catalog.lower(ac.display_name) = pg_catalog.lower(v_user));
  if v_ids is null then
    perform mesh.fail(404, pg_catalog.format('no member ''%s'' in this project', pg_catalog.left(v_user, 80)),
      'meshcode members <project> lists them with their ids');
  end if;
  if pg_catalog.cardinality(v_ids) > 1 then
    perform mesh.fail(409, pg_catalog.format('several members match ''%s''', pg_catalog.left(v_user, 80)),
      'pass the member id from meshcode members <project>', pg_catalog.array_to_string(v_ids, ', '));
  end if;
  v_target := v_ids[1];
  select mb.role, ac.display_name into v_target_role, v_name
    from mesh.members mb join mesh.accounts ac on ac.id = mb.account_id
   where mb.meshwork_id = v_mw and mb.account_id = v_target for update of mb;
  if v_target_role = 'owner' then
    perform mesh.fail(400, 'the project owner cannot be removed', 'remove someone else, or delete the project');
  end if;
  update mesh.members mb set revoked_at = pg_catalog.now() where mb.meshwork_id = v_mw and mb.account_id = v_target;
  -- Keys bound to this project die now (call_as would also refuse them); account keys just lose the project.
  update mesh.api_keys k set revoked_at = pg_catalog.now()
   where k.account_id = v_target and k.meshwork_id = v_mw and k.kind <> 'owner' and k.revoked_at is null;
  get diagnostics v_keys = row_count;
  perform mesh.log(v_mw, null, 'member', pg_catalog.format('%s was removed from the project', v_name),
    pg_catalog.jsonb_build_object('account_id', v_target, 'keys_revoked', v_keys));
  return pg_catalog.jsonb_build_object('removed', true, 'account_id', v_target, 'display_name', v_name, 'keys_revoked', v_keys);
end
$$;
comment on function public.mc_revoke_member(text, text) is 'Owner: remove a member (by id, email or display name); every key of theirs fails on its next request.';

-- ------------------------------------------------------------------------------------------- spectator

create or replace function mesh.watch_hash(p_token text)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v text := pg_catalog.btrim(coalesce(p_token, ''));
begin
  if v = '' then
    perform mesh.fail(400, 'spectator token is required', 'open the whole /watch/<token> link the project owner shared');
  end if;
  if pg_catalog.octet_length(v) > 200 then
    perform mesh.fail(404, 'this spectator link is not valid or was turned off', 'ask the project owner for a current link');
  end if;
  return mesh.sha256_hex(v);
end
$$;
comment on function mesh.watch_hash(text) is 'sha256 of a spectator token (400 when empty, 404 when too long to be one).';

create or replace function mesh.watch_meshwork(p_token_hash text)
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  v uuid;
begin
  select m.id into v from mesh.meshworks m where m.spectator_token_hash = p_token_hash;
  if v is null then
    perform mesh.fail(404, 'this spectator link is not valid or was turned off', 'ask the project owner for a current link');
  end if;
  return v;
end
$$;
comment on function mesh.watch_meshwork(text) is 'The meshwork a spectator token hash opens; 404 once the link is turned off or replaced.';

-- An agent's name as seen from p_meshwork: bare when local, project/agent when it belongs to a linked project.
create or replace function mesh.agent_label(p_agent uuid, p_meshwork uuid)
returns text
language sql stable
set search_path = ''
as $$
  select case when a.meshwork_id = p_meshwork then a.name
              else (select w.name from mesh.meshworks w where w.id = a.meshwork_id) || '/' || a.name end
    from mesh.agents a where a.id = p_agent
$$;
comment on function mesh.agent_label(uuid, uuid) is 'Agent name, qualified with its project when it is not p_meshwork''s own.';

create or replace function mesh.watch_board(p_meshwork uuid)
returns jsonb
language sql stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('meshwork', m.name,
    'agents', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', a.name, 'role', mesh.redact(a.role),
        'kind', a.kind, 'status', mesh.presence(a.status, a.last_seen_at), 'status_detail', mesh.redact(a.status_detail),
        'last_seen_at', a.last_seen_at,
        'current_task', (select pg_catalog.jsonb_build_object('title', mesh.redact(t.title), 'progress', t.progress)
                           from mesh.tasks t where t.assignee_id = a.id and t.status in ('claimed', 'in_progress')
                           order by t.updated_at desc limit 1)) order by a.name)
      from mesh.agents a where a.meshwork_id = m.id), '[]'::jsonb))
  from mesh.meshworks m where m.id = p_meshwork
$$;
comment on function mesh.watch_board(uuid) is 'The status board as a spectator sees it: no ids, no counters, free text redacted.';

create or replace function mesh.watch_message(m mesh.messages, p_meshwork uuid)
returns jsonb
language sql stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('id', m.id,
    'from', coalesce(mesh.agent_label(m.from_agent_id, p_meshwork), 'overseer'),
    'to', case when m.broadcast then '*' else coalesce(mesh.agent_label(m.to_agent_id, p_meshwork), 'overseer') end,
    'kind', m.kind, 'body', mesh.redact(pg_catalog.left(m.body, 16384)), 'truncated', pg_catalog.length(m.body) > 16384,
    'thread_id', m.thread_id, 'reply_to', m.reply_to, 'created_at', m.created_at)
$$;
comment on function mesh.watch_message(mesh.messages, uuid) is 'A chat message as a spectator sees it: redacted, at most 16 KB of body, no data payload.';

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
                 or exists (select 1 from mesh.agents a where a.id = m.from_agent_id and a.meshwork_id = p_meshwork))) end))
      order by x.id), '[]'::jsonb)
  from (select ac.* from mesh.activity ac
         where ac.meshwork_id = p_meshwork and ac.id > coalesce(p_after_id, 0) and (p_before_id is null or ac.id < p_before_id)
         order by case when p_before_id is null then ac.id end asc, ac.id desc
         limit least(greatest(coalesce(p_limit, 200), 1), 1000)) x
$$;
comment on function mesh.watch_rows(uuid, bigint, int, bigint) is 'Activity rows for spectators, redacted; message rows carry the chat message.';

-- Hub-only (the hub's own connection, like mesh.signup): the live spectator stream reads through these, so each
-- refresh re-checks the token and a link turned off ends the stream.
create or replace function mesh.watch_state(p_token_hash text)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_mw uuid := mesh.watch_meshwork(p_token_hash);
begin
  return pg_catalog.jsonb_build_object('meshwork_id', v_mw, 'status', mesh.watch_board(v_mw));
end
$$;
comment on function mesh.watch_state(text) is 'Hub: the meshwork id (for change signals) and the board a spectator token opens.';

create or replace function mesh.watch_activity(p_token_hash text, p_after_id bigint, p_limit int)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return mesh.watch_rows(mesh.watch_meshwork(p_token_hash), p_after_id, p_limit);
end
$$;
comment on function mesh.watch_activity(text, bigint, int) is 'Hub: redacted activity after an id for a spectator token (404 once the link is off).';

create or replace function mesh.watch_latest(p_token_hash text)
returns bigint
language plpgsql stable
set search_path = ''
as $$
declare
  v_mw uuid := mesh.watch_meshwork(p_token_hash);
begin
  return coalesce((select pg_catalog.max(ac.id) from mesh.activity ac where ac.meshwork_id = v_mw), 0);
end
$$;
comment on function mesh.watch_latest(text) is 'Hub: the newest activity id a spectator stream starts after.';

create or replace function mesh.watch_live(p_token_hashes text[])
returns text[]
language sql stable
set search_path = ''
as $$
  select coalesce(pg_catalog.array_agg(h), '{}') from pg_catalog.unnest(p_token_hashes) as h
   where exists (select 1 from mesh.meshworks m where m.spectator_token_hash = h)
$$;
comment on function mesh.watch_live(text[]) is 'Hub: which of these spectator token hashes still open a meshwork.';

create or replace function public.mc_spectate(p_meshwork text, p_enable boolean default true)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_name text;
  v_had boolean;
  v_token text;
begin
  perform mesh.require_role(v_mw, 'owner');
  if p_enable is null then
    perform mesh.fail(400, 'enable must be true or false', 'pass p_enable: false to turn the spectator link off');
  end if;
  select m.name, m.spectator_token_hash is not null into v_name, v_had from mesh.meshworks m where m.id = v_mw for no key update;
  if p_enable then
    v_token := mesh.new_secret('mc_watch_');
    update mesh.meshworks m set spectator_token_hash = mesh.sha256_hex(v_token) where m.id = v_mw;
    perform mesh.log(v_mw, null, 'spectator', case when v_had then 'spectator link replaced (the old one stopped working)' else 'spectator link created' end);
    return pg_catalog.jsonb_build_object('enabled', true, 'meshwork', v_name, 'token', v_token, 'path', '/watch/' || v_token,
      'replaced', v_had);
  end if;
  update mesh.meshworks m set spectator_token_hash = null where m.id = v_mw;
  if v_had then
    perform mesh.log(v_mw, null, 'spectator', 'spectator link turned off');
  end if;
  return pg_catalog.jsonb_build_object('enabled', false, 'meshwork', v_name, 'was_enabled', v_had);
end
$$;
comment on function public.mc_spectate(text, boolean) is 'Owner: create a new read-only spectator link (the previous one stops working), or turn it off.';

create or replace function public.mc_watch_snapshot(p_token text)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.watch_meshwork(mesh.watch_hash(p_token));
  v_latest bigint;
begin
  select coalesce(pg_catalog.max(ac.id), 0) into v_latest from mesh.activity ac where ac.meshwork_id = v_mw;
  return mesh.watch_board(v_mw) || pg_catalog.jsonb_build_object(
    'activity', mesh.watch_rows(v_mw, 0, 100, v_latest + 1),
    'messages', coalesce((select pg_catalog.jsonb_agg(mesh.watch_message(x, v_mw) order by x.created_at, x.id)
      from (select m.* from mesh.messages m where m.meshwork_id = v_mw order by m.created_at desc, m.id desc limit 50) x), '[]'::jsonb),
    'tasks', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('title', mesh.redact(t.title), 'status', t.status,
        'priority', t.priority, 'assignee', (select a.name from mesh.agents a where a.id = t.assignee_id), 'progress', t.progress,
        'updated_at', t.updated_at) order by t.updated_at desc)
      from (select * from mesh.tasks t where t.meshwork_id = v_mw and t.status not in ('done', 'cancelled', 'dead', 'failed')
             order by t.updated_at desc limit 100) t), '[]'::jsonb),
    'latest_activity_id', v_latest);
end
$$;
comment on function public.mc_watch_snapshot(text) is 'Anyone holding a spectator token: the board, recent activity, chat and open tasks, read-only and redacted.';

-- ------------------------------------------------------------------------------------------- links

create or replace function mesh.linked(p_a uuid, p_b uuid)
returns boolean
language sql stable
set search_path = ''
as $$
  select exists (select 1 from mesh.links l where l.meshwork_id = p_a and l.target_id = p_b)
     and exists (select 1 from mesh.links l where l.meshwork_id = p_b and l.target_id = p_a)
$$;
comment on function mesh.linked(uuid, uuid) is 'True when both owners agreed to link the two meshworks.';

-- The project before "/" in a cross-project recipient: this one, or a linked one (403 otherwise, whether or not it exists).
create or replace function mesh.resolve_linked(p_meshwork uuid, p_ref text)
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  v_ref text := pg_catalog.lower(pg_catalog.btrim(coalesce(p_ref, '')));
  v_ids uuid[];
begin
  if v_ref = '' then
    perform mesh.fail(400, 'recipient project is empty', 'pass p_to as <project>/<agent>');
  end if;
  if exists (select 1 from mesh.meshworks m where m.id = p_meshwork and (m.name = v_ref or m.id::text = v_ref)) then
    return p_meshwork;
  end if;
  select pg_catalog.array_agg(m.id order by m.id) into v_ids from mesh.meshworks m
   where (m.name = v_ref or m.id::text = v_ref) and m.id <> p_meshwork and mesh.linked(p_meshwork, m.id);
  if v_ids is null then
    perform mesh.fail(403, pg_catalog.format('project ''%s'' is not linked with this project', pg_catalog.left(p_ref, 80)),
      'both owners must link the projects first (meshcode_link, or mc_link on each side)');
  end if;
  if pg_catalog.cardinality(v_ids) > 1 then
    perform mesh.fail(409, pg_catalog.format('several linked projects are named ''%s''', pg_catalog.left(p_ref, 80)),
      'name the project by id: <project id>/<agent>', pg_catalog.array_to_string(v_ids, ', '));
  end if;
  return v_ids[1];
end
$$;
comment on function mesh.resolve_linked(uuid, text) is 'A linked project by name or id (this one included); 403 when not linked.';

-- The other side of a link an owner names: a project id, one of the caller's own projects, or (by name) a project
-- that asked to link with this one.
create or replace function mesh.link_target(p_meshwork uuid, p_ref text, p_uid uuid)
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  v_ref text := pg_catalog.lower(pg_catalog.btrim(coalesce(p_ref, '')));
  v_ids uuid[];
begin
  if v_ref = '' then
    perform mesh.fail(400, 'target project is required', 'pass p_target: the other project''s id (or its name, when it asked you first)');
  end if;
  if pg_catalog.octet_length(v_ref) > 200 then
    perform mesh.fail(400, 'target project is longer than 200 bytes', 'pass the other project''s id');
  end if;
  if v_ref ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select pg_catalog.array_agg(m.id) into v_ids from mesh.meshworks m where m.id = v_ref::uuid;
  else
    select pg_catalog.array_agg(distinct m.id) into v_ids from mesh.meshworks m
     where m.name = v_ref and m.id <> p_meshwork
       and (exists (select 1 from mesh.members mb where mb.meshwork_id = m.id and mb.account_id = p_uid and mb.role = 'owner' and mb.revoked_at is null)
            or exists (select 1 from mesh.links l where l.meshwork_id = m.id and l.target_id = p_meshwork));
  end if;
  if v_ids is null then
    perform mesh.fail(404, pg_catalog.format('could not find project ''%s'' to link', pg_catalog.left(p_ref, 80)),
      'pass the other project''s id (its owner sees it with meshcode projects --json), or its name once it asked to link');
  end if;
  if pg_catalog.cardinality(v_ids) > 1 then
    perform mesh.fail(409, pg_catalog.format('several projects named ''%s'' could be meant', pg_catalog.left(p_ref, 80)), 'pass the project id instead');
  end if;
  if v_ids[1] = p_meshwork then
    perform mesh.fail(400, 'a project cannot be linked with itself', 'pass another project');
  end if;
  return v_ids[1];
end
$$;
comment on function mesh.link_target(uuid, text, uuid) is 'Resolve the project an owner wants to link with.';

create or replace function public.mc_link(p_meshwork text, p_target text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_target uuid;
  v_name text;
  v_target_name text;
  v_active boolean;
begin
  perform mesh.require_role(v_mw, 'owner');
  v_target := mesh.link_target(v_mw, p_target, v_uid);
  select m.name into v_name from mesh.meshworks m where m.id = v_mw;
  select m.name into v_target_name from mesh.meshworks m where m.id = v_target;
  insert into mesh.links (meshwork_id, target_id, agreed_by) values (v_mw, v_target, v_uid) on conflict do nothing;
  -- Owning both sides is agreeing for both.
  if mesh.member_role(v_target, v_uid) = 'owner' then
    insert into mesh.links (meshwork_id, target_id, agreed_by) values (v_target, v_mw, v_uid) on conflict do nothing;
  end if;
  v_active := mesh.linked(v_mw, v_target);
  perform mesh.log(v_mw, null, 'link', case when v_active then pg_catalog.format('linked with project %s', v_target_name)
    else pg_catalog.format('asked project %s to link', v_target_name) end, pg_catalog.jsonb_build_object('project', v_target_name, 'active', v_active));
  if v_active then
    perform mesh.log(v_target, null, 'link', pg_catalog.format('linked with project %s', v_name),
      pg_catalog.jsonb_build_object('project', v_name, 'active', true));
  end if;
  return pg_catalog.jsonb_build_object('meshwork', v_name, 'target', v_target_name, 'target_id', v_target, 'active', v_active,
    'hint', case when v_active then pg_catalog.format('agents can now message each other: p_to = %s/<agent>', v_target_name)
                 else pg_catalog.format('waiting for the owner of %s to link back: mc_link(p_meshwork => ''%s'', p_target => ''%s'')',
                   v_target_name, v_target_name, v_mw) end);
end
$$;
comment on function public.mc_link(text, text) is 'Owner: agree to link this project with another; active once both owners agreed.';

create or replace function public.mc_unlink(p_meshwork text, p_target text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := mesh.require_account_scope();
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_ref text := pg_catalog.lower(pg_catalog.btrim(coalesce(p_target, '')));
  v_ids uuid[];
  v_count int;
begin
  perform mesh.require_role(v_mw, 'owner');
  select pg_catalog.array_agg(distinct m.id) into v_ids from mesh.meshworks m
   where (m.id::text = v_ref or m.name = v_ref)
     and exists (select 1 from mesh.links l where (l.meshwork_id = v_mw and l.target_id = m.id) or (l.meshwork_id = m.id and l.target_id = v_mw));
  if v_ids is null then
    perform mesh.fail(404, pg_catalog.format('project ''%s'' is not linked with this project', pg_catalog.left(coalesce(p_target, ''), 80)),
      'mc_links lists the projects linked with this one');
  end if;
  if pg_catalog.cardinality(v_ids) > 1 then
    perform mesh.fail(409, pg_catalog.format('several linked projects are named ''%s''', pg_catalog.left(p_target, 80)), 'pass the project id instead');
  end if;
  delete from mesh.links l where (l.meshwork_id = v_mw and l.target_id = v_ids[1]) or (l.meshwork_id = v_ids[1] and l.target_id = v_mw);
  get diagnostics v_count = row_count;
  perform mesh.log(v_mw, null, 'link', pg_catalog.format('unlinked from project %s', (select m.name from mesh.meshworks m where m.id = v_ids[1])));
  perform mesh.log(v_ids[1], null, 'link', pg_catalog.format('unlinked from project %s', (select m.name from mesh.meshworks m where m.id = v_mw)));
  return pg_catalog.jsonb_build_object('unlinked', v_count > 0, 'target', (select m.name from mesh.meshworks m where m.id = v_ids[1]));
end
$$;
comment on function public.mc_unlink(text, text) is 'Owner: end a link (or withdraw or refuse a request) from either side.';

create or replace function public.mc_links(p_meshwork text)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
begin
  perform mesh.require_role(v_mw, 'member');
  return coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', m.id, 'name', m.name,
      'state', case when o.target_id is not null and i.meshwork_id is not null then 'active'
                    when o.target_id is not null then 'waiting_for_them' else 'waiting_for_you' end,
      'since', greatest(o.created_at, i.created_at)) order by m.name, m.id)
    from mesh.meshworks m
    left join mesh.links o on o.meshwork_id = v_mw and o.target_id = m.id
    left join mesh.links i on i.meshwork_id = m.id and i.target_id = v_mw
    where o.target_id is not null or i.meshwork_id is not null), '[]'::jsonb);
end
$$;
comment on function public.mc_links(text) is 'Projects linked with this one, and link requests either way.';

-- ------------------------------------------------------------------------------------------- cross-project messages


-- A message to one agent of a linked project: stored in the recipient's meshwork (so its history, replies and
-- idempotency live there), logged on both sides.
create or replace function mesh.post_link_message(p_from_mw uuid, p_to_mw uuid, p_from uuid, p_to uuid, p_kind text, p_body text,
  p_data jsonb, p_thread uuid, p_reply_to uuid, p_deadline timestamptz, p_idempotency_key text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_id uuid := gen_random_uuid();
  v_inserted uuid;
  v_existing mesh.messages;
  v_seq bigint;
  v_from_here text := (select a.name from mesh.agents a where a.id = p_from);
  v_to_here text := (select a.name from mesh.agents a where a.id = p_to);
  v_from_there text := mesh.agent_label(p_from, p_to_mw);
  v_to_there text := mesh.agent_label(p_to, p_from_mw);
begin
  insert into mesh.messages (id, meshwork_id, from_agent_id, from_account_id, to_agent_id, broadcast, kind, body, data, thread_id,
    reply_to, deadline_at, idempotency_key)
  values (v_id, p_to_mw, p_from, auth.uid(), p_to, false, p_kind, p_body, p_data, coalesce(p_thread, v_id), p_reply_to, p_deadline,
    p_idempotency_key)
  on conflict do nothing
  returning id into v_inserted;
  if v_inserted is null then
    select * into v_existing from mesh.messages m
     where m.meshwork_id = p_to_mw and m.from_agent_id is not distinct from p_from
       and m.from_account_id is not distinct from auth.uid() and m.idempotency_key = p_idempotency_key;
    return pg_catalog.jsonb_build_object('id', v_existing.id, 'thread_id', v_existing.thread_id, 'duplicate', true,
      'recipients', (select pg_catalog.count(*) from mesh.inbox i where i.message_id = v_existing.id));
  end if;
  update mesh.agents a set inbox_seq = a.inbox_seq + 1 where a.id = p_to returning a.inbox_seq into v_seq;
  insert into mesh.inbox (agent_id, seq, message_id) values (p_to, v_seq, v_id);
  perform mesh.note_wake(array[p_to]);
  perform mesh.log(p_to_mw, p_from, 'message', pg_catalog.format('%s -> %s: %s', v_from_there, v_to_here, pg_catalog.left(p_body, 200)),
    pg_catalog.jsonb_build_object('message_id', v_id, 'kind', p_kind, 'thread_id', coalesce(p_thread, v_id), 'reply_to', p_reply_to,
      'from', v_from_there, 'to', v_to_here, 'linked', true));
  perform mesh.log(p_from_mw, p_from, 'message', pg_catalog.format('%s -> %s: %s', v_from_here, v_to_there, pg_catalog.left(p_body, 200)),
    pg_catalog.jsonb_build_object('message_id', v_id, 'kind', p_kind, 'thread_id', coalesce(p_thread, v_id), 'reply_to', p_reply_to,
      'from', v_from_here, 'to', v_to_there, 'linked', true));
  return pg_catalog.jsonb_build_object('id', v_id, 'thread_id', coalesce(p_thread, v_id), 'duplicate', false, 'recipients', 1);
end
$$;
comment on function mesh.post_link_message(uuid, uuid, uuid, uuid, text, text, jsonb, uuid, uuid, timestamptz, text) is 'Deliver one message to an agent of a linked project (gapless seq, wake-up, activity on both sides).';



-- ------------------------------------------------------------------------------------------- grants

do $$
declare
  f text;
begin
  foreach f in array array[
    'mc_create_invite(text, text, text, int, int)', 'mc_list_invites(text)', 'mc_revoke_invite(text)',
    'mc_members(text)', 'mc_revoke_member(text, text)', 'mc_spectate(text, boolean)',
    'mc_link(text, text)', 'mc_unlink(text, text)', 'mc_links(text)']
  loop
    execute format('revoke all on function public.%s from public, anon', f);
    execute format('grant execute on function public.%s to authenticated, service_role', f);
  end loop;
  -- Reached without an account (supabase/anon-allowlist.json says why): redeeming and reading an invite, watching.
  foreach f in array array['mc_redeem_invite(text, text)', 'mc_invite_info(text)', 'mc_watch_snapshot(text)']
  loop
    execute format('revoke all on function public.%s from public', f);
    execute format('grant execute on function public.%s to anon, authenticated, service_role', f);
  end loop;
end
$$;

revoke all on function mesh.watch_state(text) from public;
revoke all on function mesh.watch_activity(text, bigint, int) from public;
revoke all on function mesh.watch_latest(text) from public;
revoke all on function mesh.watch_live(text[]) from public;
revoke all on function mesh.post_link_message(uuid, uuid, uuid, uuid, text, text, jsonb, uuid, uuid, timestamptz, text) from public;
