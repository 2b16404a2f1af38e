// Calls made without an account: the join page and the public spectator page. They never send the session cookie
// (credentials: 'omit'), so a stale or foreign session in this browser cannot change who the hub thinks is asking.
import { ApiError, readResponse } from './api';
import type { Presence } from './types';

async function publicRpc<T>(fn: string, args: Record<string, unknown>): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/rest/v1/rpc/${encodeURIComponent(fn)}`, {
      method: 'POST',
      credentials: 'omit',
      cache: 'no-store',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'could not reach the MeshCode hub', 'check your connection and try again');
  }
  return readResponse<T>(res);
}

export type InviteState = 'active' | 'used' | 'expired' | 'revoked';

/** mc_invite_info: what an invite is for; reading it never uses it up. */
export interface InviteInfo {
  meshwork: string;
  agent: string;
  role: string;
  invited_by: string | null;
  state: InviteState;
  expires_at: string;
  uses_left: number;
}

/** mc_redeem_invite: the guest account and the key minted for one agent slot (the key is shown once). */
export interface Redeemed {
  account: { id: string; display_name: string; guest: boolean };
  key: string;
  key_id: string;
  meshwork: string;
  meshwork_id: string;
  agent: string;
  role: string;
  member_role: string;
  next: string;
}

export interface WatchAgent {
  name: string;
  role: string;
  kind: string;
  status: Presence;
  status_detail: string;
  last_seen_at: string | null;
  current_task: { title: string; progress: number } | null;
}

export interface WatchBoard {
  meshwork: string;
  agents: WatchAgent[];
}

/** A chat message as a spectator gets it: redacted by the hub, at most 16 KB of body. */
export interface WatchMessage {
  id: string;
  from: string;
  to: string;
  kind: 'message' | 'ask' | 'reply' | 'system' | 'event';
  body: string;
  truncated?: boolean;
  thread_id: string;
  reply_to?: string | null;
  created_at: string;
}

export interface WatchRow {
  id: number;
  agent?: string | null;
  kind: string;
  summary: string;
  data?: Record<string, unknown>;
  created_at: string;
  message?: WatchMessage;
}

export interface WatchTask {
  title: string;
  status: string;
  priority: string;
  assignee: string | null;
  progress: number;
  updated_at: string;
}

export interface WatchSnapshot extends WatchBoard {
  activity: WatchRow[];
  messages: WatchMessage[];
  tasks: WatchTask[];
  latest_activity_id: number;
}

export const publicApi = {
  inviteInfo: (token: string) => publicRpc<InviteInfo>('mc_invite_info', { p_token: token }),
  redeemInvite: (token: string, displayName: string) =>
    publicRpc<Redeemed>('mc_redeem_invite', { p_token: token, p_display_name: displayName }),
  watchSnapshot: (token: string) => publicRpc<WatchSnapshot>('mc_watch_snapshot', { p_token: token }),
};

/** The token a page was opened with: `/<prefix>/<token>` (the hub serves the page for any token path). */
export function tokenFromPath(prefix: string): string | null {
  if (typeof window === 'undefined') return null;
  const m = new RegExp(`^/${prefix}/([A-Za-z0-9_-]{8,200})/?$`).exec(window.location.pathname);
  return m?.[1] ?? null;
}
