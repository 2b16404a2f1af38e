// Team and trust data: members, invites and the spectator link of a project, read through the owner's RPCs
// (mc_members, mc_list_invites, mc_spectate...). The live feed's invite/member/spectator rows refresh them.
import { useQuery } from '@tanstack/react-query';
import { rpc } from './api';
import type { InviteState } from './public';

export interface Member {
  account_id: string;
  display_name: string;
  email: string | null;
  role: 'owner' | 'member' | 'guest';
  guest: boolean;
  joined_at: string;
  you: boolean;
  agents: string[];
  last_used_at: string | null;
}

export interface Invite {
  id: string;
  prefix: string;
  meshwork: string;
  agent: string;
  role: string;
  state: InviteState;
  uses: number;
  max_uses: number;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  redeemed_by: { account_id: string; display_name: string; redeemed_at: string; active: boolean }[];
}

/** mc_create_invite: the invite plus its token and join URL, shown once. */
export interface CreatedInvite extends Invite {
  token: string;
  path: string;
  url?: string;
}

export interface Spectate {
  enabled: boolean;
  meshwork: string;
  token?: string;
  path?: string;
  url?: string;
  replaced?: boolean;
  was_enabled?: boolean;
}

export const teamKeys = {
  members: (p: string) => ['members', p] as const,
  invites: (p: string) => ['invites', p] as const,
  spectator: (p: string) => ['spectator', p] as const,
  retention: (p: string) => ['retention', p] as const,
};

export interface Retention {
  meshwork: string;
  /** null: kept forever. */
  retention_days: number | null;
}

/** How long the project's history is kept (any member may read it; the owner sets it). */
export function useRetention(project: string) {
  return useQuery({
    queryKey: teamKeys.retention(project),
    queryFn: () => rpc<Retention>('mc_retention', { p_meshwork: project }),
  });
}

export function useMembers(project: string) {
  return useQuery({
    queryKey: teamKeys.members(project),
    queryFn: () => rpc<Member[]>('mc_members', { p_meshwork: project }),
  });
}

export function useInvites(project: string, enabled: boolean) {
  return useQuery({
    queryKey: teamKeys.invites(project),
    queryFn: () => rpc<Invite[]>('mc_list_invites', { p_meshwork: project }),
    enabled,
    // An invite expires by the clock alone, without any row to tell us.
    refetchInterval: 60_000,
  });
}

export type SpectatorState = 'on' | 'off';

/** Whether the project has a spectator link (mc_status reports it; only the link's hash is stored). */
export function useSpectatorState(project: string, enabled: boolean) {
  return useQuery({
    queryKey: teamKeys.spectator(project),
    queryFn: async (): Promise<SpectatorState> => {
      const board = await rpc<{ spectating: boolean }>('mc_status', { p_meshwork: project });
      return board.spectating ? 'on' : 'off';
    },
    enabled,
    // The feed invalidates it on every spectator row.
    staleTime: Infinity,
  });
}

/** The activity kinds that change what the Team view shows. */
export const TEAM_KINDS = new Set(['invite', 'member', 'spectator', 'agent']);
