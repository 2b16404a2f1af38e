// Teams and trust over the RPC surface: invites, members, spectator links and linked projects. Redeeming an invite,
// reading one and the spectator snapshot need no account, so they are plain fetches without a key.
import { z } from 'zod';
import { networkError, parseAnswer, toMeshError, type MeshClient } from './client';

export const InviteState = z.enum(['active', 'used', 'expired', 'revoked']);
export type InviteState = z.infer<typeof InviteState>;

export const Invite = z.object({
  id: z.string().uuid(),
  prefix: z.string(),
  meshwork: z.string(),
  agent: z.string(),
  role: z.string(),
  state: InviteState,
  uses: z.number(),
  max_uses: z.number(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  expires_at: z.string(),
  revoked_at: z.string().nullable(),
  redeemed_by: z.array(
    z.object({ account_id: z.string().uuid(), display_name: z.string(), redeemed_at: z.string(), active: z.boolean() }),
  ),
});
export type Invite = z.infer<typeof Invite>;

/** A new invite: the token is shown this once; `url` is on the dashboard's origin. */
export const InviteCreated = Invite.extend({ token: z.string(), path: z.string(), url: z.string().optional() });
export type InviteCreated = z.infer<typeof InviteCreated> & { url: string };

export const InviteInfo = z.object({
  meshwork: z.string(),
  agent: z.string(),
  role: z.string(),
  invited_by: z.string().nullable(),
  state: InviteState,
  expires_at: z.string(),
  uses_left: z.number(),
});
export type InviteInfo = z.infer<typeof InviteInfo>;

export const Redeemed = z.object({
  account: z.object({ id: z.string().uuid(), display_name: z.string(), guest: z.boolean() }),
  key: z.string(),
  key_id: z.string().uuid(),
  meshwork: z.string(),
  meshwork_id: z.string().uuid(),
  agent: z.string(),
  role: z.string(),
  member_role: z.literal('guest'),
  next: z.string(),
});
export type Redeemed = z.infer<typeof Redeemed>;

export const Member = z.object({
  account_id: z.string().uuid(),
  display_name: z.string(),
  email: z.string().nullable(),
  role: z.enum(['owner', 'member', 'guest']),
  guest: z.boolean(),
  joined_at: z.string(),
  you: z.boolean(),
  agents: z.array(z.string()),
  last_used_at: z.string().nullable(),
});
export type Member = z.infer<typeof Member>;

export const MemberRemoved = z.object({
  removed: z.boolean(),
  account_id: z.string().uuid(),
  display_name: z.string(),
  keys_revoked: z.number(),
});
export type MemberRemoved = z.infer<typeof MemberRemoved>;

export const SpectateResult = z.object({
  enabled: z.boolean(),
  meshwork: z.string(),
  token: z.string().optional(),
  path: z.string().optional(),
  url: z.string().optional(),
  replaced: z.boolean().optional(),
  was_enabled: z.boolean().optional(),
});
export type SpectateResult = z.infer<typeof SpectateResult>;

export const WatchAgent = z.object({
  name: z.string(),
  role: z.string(),
  kind: z.string(),
  status: z.string(),
  status_detail: z.string(),
  last_seen_at: z.string().nullable(),
  current_task: z.object({ title: z.string(), progress: z.number() }).nullable(),
});
export const WatchMessage = z.object({
  id: z.string().uuid(),
  from: z.string(),
  to: z.string(),
  kind: z.string(),
  body: z.string(),
  truncated: z.boolean(),
  thread_id: z.string().uuid(),
  reply_to: z.string().uuid().nullable().optional(),
  created_at: z.string(),
});
export const WatchActivity = z.object({
  id: z.number(),
  agent: z.string().optional(),
  kind: z.string(),
  summary: z.string(),
  data: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  message: WatchMessage.optional(),
});
export const WatchBoard = z.object({ meshwork: z.string(), agents: z.array(WatchAgent) });
export const WatchSnapshot = WatchBoard.extend({
  activity: z.array(WatchActivity),
  messages: z.array(WatchMessage),
  tasks: z.array(
    z.object({
      title: z.string(),
      status: z.string(),
      priority: z.string(),
      assignee: z.string().nullable(),
      progress: z.number(),
      updated_at: z.string(),
    }),
  ),
  latest_activity_id: z.number(),
});
export type WatchSnapshot = z.infer<typeof WatchSnapshot>;

export const LinkResult = z.object({
  meshwork: z.string(),
  target: z.string(),
  target_id: z.string().uuid(),
  active: z.boolean(),
  hint: z.string(),
});
export type LinkResult = z.infer<typeof LinkResult>;

export const LinkRow = z.object({
  id: z.string().uuid(),
  name: z.string(),
  state: z.enum(['active', 'waiting_for_them', 'waiting_for_you']),
  since: z.string(),
});
export type LinkRow = z.infer<typeof LinkRow>;

function withUrl<T extends { path?: string; url?: string }>(hubUrl: string, r: T): T & { url: string } {
  return { ...r, url: r.url ?? (r.path ? `${hubUrl}${r.path}` : '') };
}

export async function createInvite(
  client: MeshClient,
  input: { meshwork: string; agent: string; role?: string; days?: number; maxUses?: number },
): Promise<InviteCreated> {
  const r = await client.rpc(
    'mc_create_invite',
    {
      p_meshwork: input.meshwork,
      p_agent: input.agent,
      p_role: input.role,
      p_days: input.days,
      p_max_uses: input.maxUses,
    },
    InviteCreated,
  );
  return withUrl(client.hubUrl, r);
}

export function listInvites(client: MeshClient, meshwork: string): Promise<Invite[]> {
  return client.rpc('mc_list_invites', { p_meshwork: meshwork }, z.array(Invite));
}

export function revokeInvite(client: MeshClient, inviteId: string): Promise<Invite & { revoked: boolean }> {
  return client.rpc('mc_revoke_invite', { p_invite_id: inviteId }, Invite.extend({ revoked: z.boolean() }));
}

export function listMembers(client: MeshClient, meshwork: string): Promise<Member[]> {
  return client.rpc('mc_members', { p_meshwork: meshwork }, z.array(Member));
}

/** `user` is the member's account id, email or display name. */
export function revokeMember(client: MeshClient, meshwork: string, user: string): Promise<MemberRemoved> {
  return client.rpc('mc_revoke_member', { p_meshwork: meshwork, p_user: user }, MemberRemoved);
}

/** Turn the spectator link on (a new link each time; the previous one stops working) or off. */
export async function spectate(client: MeshClient, meshwork: string, enable = true): Promise<SpectateResult> {
  const r = await client.rpc('mc_spectate', { p_meshwork: meshwork, p_enable: enable }, SpectateResult);
  return r.enabled ? withUrl(client.hubUrl, r) : r;
}

export function link(client: MeshClient, meshwork: string, target: string): Promise<LinkResult> {
  return client.rpc('mc_link', { p_meshwork: meshwork, p_target: target }, LinkResult);
}

export function unlink(
  client: MeshClient,
  meshwork: string,
  target: string,
): Promise<{ unlinked: boolean; target: string }> {
  return client.rpc(
    'mc_unlink',
    { p_meshwork: meshwork, p_target: target },
    z.object({ unlinked: z.boolean(), target: z.string() }),
  );
}

export function listLinks(client: MeshClient, meshwork: string): Promise<LinkRow[]> {
  return client.rpc('mc_links', { p_meshwork: meshwork }, z.array(LinkRow));
}

/** An RPC without a key (PostgREST's anon role), for the few calls made before one exists. */
async function anonRpc<T>(
  hubUrl: string,
  fn: string,
  args: Record<string, unknown>,
  schema: z.ZodType<T>,
  fetchImpl: typeof fetch = fetch,
): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(new URL(`/rest/v1/rpc/${fn}`, hubUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
  } catch (err) {
    throw networkError(hubUrl, err);
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw toMeshError(res.status, body);
  return parseAnswer(fn, schema, body);
}

/** What an invite is for and whether it still works; never uses it up. */
export function inviteInfo(hubUrl: string, token: string, fetchImpl?: typeof fetch): Promise<InviteInfo> {
  return anonRpc(hubUrl, 'mc_invite_info', { p_token: token }, InviteInfo, fetchImpl);
}

/** Use an invite (no account needed): returns a key for that one agent slot, shown once. */
export function redeemInvite(
  hubUrl: string,
  token: string,
  displayName: string,
  fetchImpl?: typeof fetch,
): Promise<Redeemed> {
  return anonRpc(hubUrl, 'mc_redeem_invite', { p_token: token, p_display_name: displayName }, Redeemed, fetchImpl);
}

export function watchSnapshot(hubUrl: string, token: string, fetchImpl?: typeof fetch): Promise<WatchSnapshot> {
  return anonRpc(hubUrl, 'mc_watch_snapshot', { p_token: token }, WatchSnapshot, fetchImpl);
}

/**
 * An invite as people paste it: the bare `mc_inv_…` token, or a join link `https://host/join/mc_inv_…`, whose origin
 * is the hub's (the dashboard and the hub share one origin). Returns null when it is neither.
 */
export function parseInviteRef(input: string): { token: string; origin?: string } | null {
  const text = input.trim();
  if (/^mc_inv_[A-Za-z0-9]+$/.test(text)) return { token: text };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const m = /\/join\/(mc_inv_[A-Za-z0-9]+)\/?$/.exec(url.pathname);
  if (!m?.[1]) return null;
  const base = url.pathname.slice(0, url.pathname.length - m[0].length);
  return { token: m[1], origin: `${url.origin}${base}` };
}
