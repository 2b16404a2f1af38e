'use client';
// Who may work in a project and who may watch it: members (remove), invites to one agent slot (create, revoke,
// their state and who redeemed them), the public read-only spectator link (turn on, replace, turn off), how long
// the project's history is kept, and deleting the project (its owner, typing its name).
import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { rpc } from '../lib/api';
import { ago, dateTime } from '../lib/format';
import { useNow } from '../lib/hooks';
import { useActivityListener } from '../lib/live';
import { keys, useProjects } from '../lib/queries';
import {
  TEAM_KINDS,
  teamKeys,
  useInvites,
  useMembers,
  useRetention,
  useSpectatorState,
  type CreatedInvite,
  type Invite,
  type Member,
  type Retention,
  type Spectate,
} from '../lib/team';
import type { StatusBoard } from '../lib/types';
import { Command, Empty, ErrorState, InlineError, Loading } from './States';
import './team.css';

/** A destructive button that asks once more: the first click arms it for a few seconds. */
export function ConfirmButton({
  label,
  confirmLabel,
  name,
  onConfirm,
}: {
  label: string;
  confirmLabel: string;
  name: string;
  onConfirm: () => Promise<unknown>;
}) {
  const [armed, setArmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  return (
    <button
      type="button"
      className={`btn btn-small${armed ? ' btn-danger' : ''}`}
      aria-label={armed ? `${confirmLabel} ${name}` : `${label} ${name}`}
      disabled={busy}
      onClick={() => {
        if (!armed) {
          setArmed(true);
          timer.current = setTimeout(() => setArmed(false), 4000);
          return;
        }
        if (timer.current) clearTimeout(timer.current);
        setBusy(true);
        void onConfirm().finally(() => {
          setBusy(false);
          setArmed(false);
        });
      }}
    >
      {armed ? confirmLabel : label}
    </button>
  );
}

function TeamPill({ kind, children }: { kind: string; children: React.ReactNode }) {
  return <span className={`tpill tpill-${kind}`}>{children}</span>;
}

const INVITE_STATE_TEXT: Record<Invite['state'], string> = {
  active: 'active',
  used: 'used',
  expired: 'expired',
  revoked: 'revoked',
};

function MemberRow({ project, m, canManage, now }: { project: string; m: Member; canManage: boolean; now: number }) {
  const qc = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  return (
    <li className="team-row" data-member={m.display_name} aria-label={`${m.display_name}, ${m.role}`}>
      <div className="team-row-main">
        <strong>{m.display_name || m.email || 'someone'}</strong>
        {m.you && <span className="small muted">(you)</span>}
        <TeamPill kind={m.role}>{m.role}</TeamPill>
        {m.guest && m.role !== 'guest' && <TeamPill kind="guest">guest</TeamPill>}
      </div>
      <div className="team-row-meta small muted">
        {m.email && <span>{m.email}</span>}
        <span>
          {m.agents.length > 0 ? `runs ${m.agents.join(', ')}` : m.role === 'owner' ? 'every agent' : 'no agent key'}
        </span>
        <span>joined {ago(m.joined_at, now)}</span>
        {m.last_used_at && <span>last active {ago(m.last_used_at, now)}</span>}
      </div>
      {canManage && m.role !== 'owner' && !m.you && (
        <div className="team-row-actions">
          <ConfirmButton
            label="Remove"
            confirmLabel="Confirm removing"
            name={m.display_name}
            onConfirm={() =>
              rpc('mc_revoke_member', { p_meshwork: project, p_user: m.account_id })
                .then(() =>
                  Promise.all([
                    qc.invalidateQueries({ queryKey: teamKeys.members(project) }),
                    qc.invalidateQueries({ queryKey: teamKeys.invites(project) }),
                  ]),
                )
                .catch(setError)
            }
          />
        </div>
      )}
      <InlineError error={error} />
    </li>
  );
}

function Members({ project, canManage }: { project: string; canManage: boolean }) {
  const members = useMembers(project);
  const now = useNow(30_000);
  return (
    <section className="card team-panel" aria-labelledby="members-title">
      <h3 id="members-title">Members</h3>
      {members.isPending ? (
        <Loading label="Loading members…" />
      ) : members.error ? (
        <ErrorState error={members.error} retry={() => void members.refetch()} />
      ) : members.data.length === 0 ? (
        <Empty title="No members" />
      ) : (
        <ul className="team-list" aria-label="Members">
          {members.data.map((m) => (
            <MemberRow key={m.account_id} project={project} m={m} canManage={canManage} now={now} />
          ))}
        </ul>
      )}
      <p className="small muted">
        Removing someone stops every key of theirs in this project on its next request.
        {!canManage && ' Only the project owner can remove members.'}
      </p>
    </section>
  );
}

/** The join command someone runs instead of opening the link, when they prefer the terminal. */
function joinCommand(url: string): string {
  return `meshcode join ${url} --display-name "Your name"`;
}

function CreatedBox({ invite, onDismiss }: { invite: CreatedInvite; onDismiss: () => void }) {
  const url = invite.url ?? `${window.location.origin}${invite.path}`;
  return (
    <div className="created-box" role="status" aria-label={`Invite for ${invite.agent} created`}>
      <p>
        <strong>Invite for {invite.agent} created.</strong> Send this link to the person who will run it — it is shown
        only now:
      </p>
      <Command text={url} label={`Copy the join link for ${invite.agent}`} />
      <p className="small muted">Or they can join from a terminal:</p>
      <Command text={joinCommand(url)} label="Copy the join command" />
      <p className="small muted">
        Good for {invite.max_uses} {invite.max_uses === 1 ? 'use' : 'uses'} until {dateTime(invite.expires_at)}. Opening
        the link does not use it up; only pressing Join does.
      </p>
      <button type="button" className="btn btn-small" onClick={onDismiss}>
        Done, hide the link
      </button>
    </div>
  );
}

function NewInvite({
  project,
  board,
  onCreated,
}: {
  project: string;
  board: StatusBoard;
  onCreated: (invite: CreatedInvite) => void;
}) {
  const qc = useQueryClient();
  const [agent, setAgent] = useState('');
  const [role, setRole] = useState('');
  const [days, setDays] = useState(7);
  const [uses, setUses] = useState(1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const existing = board.agents.find((a) => a.name === agent.trim().toLowerCase());
  return (
    <form
      className="invite-form"
      aria-label="New invite"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        rpc<CreatedInvite>('mc_create_invite', {
          p_meshwork: project,
          p_agent: agent.trim(),
          p_role: role.trim() || undefined,
          p_days: days,
          p_max_uses: uses,
        })
          .then(async (created) => {
            onCreated(created);
            setAgent('');
            setRole('');
            await qc.invalidateQueries({ queryKey: teamKeys.invites(project) });
          })
          .catch(setError)
          .finally(() => setBusy(false));
      }}
    >
      <div className="form-row">
        <label htmlFor="invite-agent">Agent slot</label>
        <input
          id="invite-agent"
          list="invite-agents"
          value={agent}
          onChange={(e) => setAgent(e.target.value)}
          placeholder="designer"
          required
          maxLength={64}
          autoComplete="off"
          aria-describedby="invite-agent-help"
        />
        <datalist id="invite-agents">
          {board.agents.map((a) => (
            <option key={a.id} value={a.name} />
          ))}
        </datalist>
        <span id="invite-agent-help" className="small muted">
          {agent.trim() === ''
            ? 'An existing agent, or a new name (the slot is created).'
            : existing
              ? `Existing agent${existing.role ? `: ${existing.role}` : ''}.`
              : 'A new agent slot will be created.'}
        </span>
      </div>
      <div className="form-row">
        <label htmlFor="invite-role">Role</label>
        <input
          id="invite-role"
          value={role}
          onChange={(e) => setRole(e.target.value)}
          placeholder={existing?.role || 'UI design and CSS'}
          maxLength={2000}
        />
      </div>
      <div className="form-row form-row-inline">
        <label htmlFor="invite-days">Expires after (days)</label>
        <input
          id="invite-days"
          type="number"
          min={1}
          max={365}
          value={days}
          onChange={(e) => setDays(Number(e.target.value))}
          className="num"
          required
        />
        <label htmlFor="invite-uses">Max uses</label>
        <input
          id="invite-uses"
          type="number"
          min={1}
          max={100}
          value={uses}
          onChange={(e) => setUses(Number(e.target.value))}
          className="num"
          required
        />
        <button type="submit" className="btn btn-primary" disabled={busy || agent.trim() === ''}>
          {busy ? 'Creating…' : 'Create invite'}
        </button>
      </div>
      <InlineError error={error} />
    </form>
  );
}

function InviteRow({ project, invite, now }: { project: string; invite: Invite; now: number }) {
  const qc = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const expires = Date.parse(invite.expires_at);
  return (
    <li
      className={`team-row invite-${invite.state}`}
      data-invite={invite.id}
      aria-label={`Invite to ${invite.agent}, ${INVITE_STATE_TEXT[invite.state]}`}
    >
      <div className="team-row-main">
        <strong>{invite.agent}</strong>
        <TeamPill kind={invite.state}>{INVITE_STATE_TEXT[invite.state]}</TeamPill>
        <code className="small muted">{invite.prefix}</code>
      </div>
      {invite.role && <p className="team-row-role small">{invite.role}</p>}
      <div className="team-row-meta small muted">
        <span>
          {invite.uses} of {invite.max_uses} {invite.max_uses === 1 ? 'use' : 'uses'}
        </span>
        <span title={dateTime(invite.expires_at)}>
          {invite.state === 'revoked' && invite.revoked_at
            ? `revoked ${ago(invite.revoked_at, now)}`
            : expires > now
              ? `expires ${dateTime(invite.expires_at)}`
              : `expired ${ago(invite.expires_at, now)}`}
        </span>
        {invite.created_by && <span>by {invite.created_by}</span>}
      </div>
      {invite.redeemed_by.length > 0 && (
        <p className="small team-row-redeemed">
          Joined:{' '}
          {invite.redeemed_by.map((r, i) => (
            <span key={r.account_id}>
              {i > 0 && ', '}
              <strong>{r.display_name}</strong> {ago(r.redeemed_at, now)}
              {!r.active && ' (removed)'}
            </span>
          ))}
        </p>
      )}
      {invite.state === 'active' && (
        <div className="team-row-actions">
          <ConfirmButton
            label="Revoke"
            confirmLabel="Confirm revoking"
            name={`the invite to ${invite.agent}`}
            onConfirm={() =>
              rpc('mc_revoke_invite', { p_invite_id: invite.id })
                .then(() => qc.invalidateQueries({ queryKey: teamKeys.invites(project) }))
                .catch(setError)
            }
          />
        </div>
      )}
      <InlineError error={error} />
    </li>
  );
}

function Invites({ project, board }: { project: string; board: StatusBoard }) {
  const invites = useInvites(project, true);
  const [created, setCreated] = useState<CreatedInvite | null>(null);
  const [showOld, setShowOld] = useState(false);
  const now = useNow(30_000);
  const list = invites.data ?? [];
  const active = list.filter((i) => i.state === 'active');
  const old = list.filter((i) => i.state !== 'active');
  return (
    <section className="card team-panel" aria-labelledby="invites-title">
      <h3 id="invites-title">Invites</h3>
      <p className="small muted">
        An invite lets someone without an account run one agent of this project, and nothing else.
      </p>
      <NewInvite project={project} board={board} onCreated={setCreated} />
      {created && <CreatedBox invite={created} onDismiss={() => setCreated(null)} />}
      {invites.isPending ? (
        <Loading label="Loading invites…" />
      ) : invites.error ? (
        <ErrorState error={invites.error} retry={() => void invites.refetch()} />
      ) : list.length === 0 ? (
        <Empty title="No invites yet">
          <p>Create one above, or from a terminal:</p>
          <Command text={`meshcode invite ${project} designer --role "UI design" --days 7`} />
        </Empty>
      ) : (
        <>
          <ul className="team-list" aria-label="Invites">
            {(showOld ? list : active).map((i) => (
              <InviteRow key={i.id} project={project} invite={i} now={now} />
            ))}
          </ul>
          {active.length === 0 && !showOld && <p className="small muted">No active invite.</p>}
          {old.length > 0 && (
            <button type="button" className="btn btn-link btn-small" onClick={() => setShowOld((v) => !v)}>
              {showOld ? 'Show active invites only' : `Show used, expired and revoked invites (${old.length})`}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function Spectator({ project }: { project: string }) {
  const qc = useQueryClient();
  const state = useSpectatorState(project, true);
  const [link, setLink] = useState<Spectate | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // The query holds the truth (set at once by our own changes, refreshed by the feed when the CLI changes it); the
  // address is known only in the tab that made the link.
  const on = state.data === 'on';
  const url = on && link?.enabled ? (link.url ?? `${window.location.origin}${link.path ?? ''}`) : null;

  const set = (enable: boolean) => {
    setBusy(true);
    setError(null);
    rpc<Spectate>('mc_spectate', { p_meshwork: project, p_enable: enable })
      .then((r) => {
        setLink(r);
        qc.setQueryData(teamKeys.spectator(project), r.enabled ? 'on' : 'off');
      })
      .catch(setError)
      .finally(() => setBusy(false));
  };

  return (
    <section className="card team-panel" aria-labelledby="spectator-title">
      <h3 id="spectator-title">Spectator link</h3>
      <p className="small muted">
        Anyone with the link can watch this project live — graph, statuses and chat — without logging in, read-only.
        Memory and scratchpad values and anything that looks like a key, token or password are masked.
      </p>
      {state.isPending && !link ? (
        <Loading label="Checking the spectator link…" />
      ) : (
        <>
          <div className="switch-row">
            <button
              type="button"
              role="switch"
              aria-checked={on}
              aria-labelledby="spectator-switch-label"
              className={`switch${on ? ' switch-on' : ''}`}
              disabled={busy}
              onClick={() => set(!on)}
            >
              <span className="switch-knob" aria-hidden="true" />
            </button>
            <span id="spectator-switch-label">Public spectator link</span>
            <strong className={on ? 'ok' : 'muted'}>{on ? 'on' : 'off'}</strong>
          </div>
          {url ? (
            <div className="created-box">
              <p className="small">
                {link?.replaced ? 'A new link was made; the previous one stopped working. ' : ''}
                Share this link (shown only now):
              </p>
              <Command text={url} label="Copy the spectator link" />
              <p className="small muted">
                Turning it off cuts off everyone watching at once. From a terminal:{' '}
                <code>meshcode spectate {project} --off</code>
              </p>
            </div>
          ) : on ? (
            <p className="small">
              A link is on. Its address was shown once, when it was made;{' '}
              <button type="button" className="btn btn-link btn-small" disabled={busy} onClick={() => set(true)}>
                make a new link
              </button>{' '}
              to see one (the old one stops working).
            </p>
          ) : null}
          {on && url && (
            <button type="button" className="btn btn-small btn-start" disabled={busy} onClick={() => set(true)}>
              Replace the link
            </button>
          )}
        </>
      )}
      {state.error && !link && <InlineError error={state.error} />}
      <InlineError error={error} />
    </section>
  );
}

const RETENTION_CHOICES = [0, 7, 30, 90, 365] as const;

/** How long the project's history is kept: shown to every member, set by the owner. */
function History({ project, canManage }: { project: string; canManage: boolean }) {
  const qc = useQueryClient();
  const retention = useRetention(project);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const days = retention.data?.retention_days ?? null;
  const choices: number[] = [...RETENTION_CHOICES];
  if (days !== null && !choices.includes(days)) choices.push(days);
  const label = (d: number) => (d === 0 ? 'Forever' : d === 365 ? '1 year' : `${d} days`);

  const set = (value: number) => {
    setBusy(true);
    setError(null);
    rpc<Retention>('mc_retention', { p_meshwork: project, p_days: value })
      .then((r) => qc.setQueryData(teamKeys.retention(project), r))
      .catch(setError)
      .finally(() => setBusy(false));
  };

  return (
    <section className="card team-panel" aria-labelledby="history-title">
      <h3 id="history-title">History kept</h3>
      {retention.isPending ? (
        <Loading label="Loading how long history is kept…" />
      ) : retention.error ? (
        <InlineError error={retention.error} />
      ) : (
        <>
          <p className="small" data-testid="retention-state">
            {days === null
              ? 'Chat, activity, finished tasks and events are kept forever.'
              : `Chat, activity, finished tasks and events are kept for ${days} days; older ones are pruned, but never a message an agent has not read, open work or a write-back still to be made.`}
          </p>
          {canManage ? (
            <div className="inline-form">
              <label htmlFor="retention-days">Keep history for</label>
              <select
                id="retention-days"
                value={days ?? 0}
                disabled={busy}
                onChange={(e) => set(Number(e.target.value))}
              >
                {choices.map((d) => (
                  <option key={d} value={d}>
                    {label(d)}
                  </option>
                ))}
              </select>
            </div>
          ) : (
            <p className="small muted">Only the project owner can change it.</p>
          )}
        </>
      )}
      <InlineError error={error} />
    </section>
  );
}

/** Deleting the project: its owner types its name, and everything in it goes. */
function DeleteProject({ project }: { project: string }) {
  const qc = useQueryClient();
  const router = useRouter();
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const confirmed = typed.trim().toLowerCase() === project;

  const remove = (e: React.FormEvent) => {
    e.preventDefault();
    if (!confirmed) return;
    setBusy(true);
    setError(null);
    rpc('mc_delete_meshwork', { p_meshwork: project, p_confirm: typed.trim() })
      .then(async () => {
        await qc.invalidateQueries({ queryKey: keys.projects });
        router.push('/projects');
      })
      .catch((err: unknown) => {
        setError(err);
        setBusy(false);
      });
  };

  return (
    <section className="card team-panel danger-panel" aria-labelledby="delete-title">
      <h3 id="delete-title">Delete project</h3>
      <p className="small">
        Deletes {project} with its agents, messages, tasks, memory, invites, workers and events, for good. Keys made for
        it stop working at once. Messages its agents sent to linked projects stay there.
      </p>
      <form className="inline-form" onSubmit={remove}>
        <label htmlFor="delete-confirm">Type {project} to confirm</label>
        <input
          id="delete-confirm"
          value={typed}
          autoComplete="off"
          spellCheck={false}
          disabled={busy}
          onChange={(e) => setTyped(e.target.value)}
        />
        <button type="submit" className="btn btn-small btn-danger" disabled={busy || !confirmed}>
          {busy ? 'Deleting…' : 'Delete project'}
        </button>
      </form>
      <InlineError error={error} />
    </section>
  );
}

export function TeamView({ project, board }: { project: string; board: StatusBoard }) {
  const qc = useQueryClient();
  const projects = useProjects();
  const role = projects.data?.find((p) => p.name === project)?.role;
  const owner = role === 'owner';

  // Joins, revocations and new invites made elsewhere (the CLI, another tab) show up without a reload.
  useActivityListener(project, (row) => {
    // A retention set elsewhere (the CLI, another tab) is logged as a settings row.
    if (row.kind === 'settings') void qc.invalidateQueries({ queryKey: teamKeys.retention(project) });
    if (!TEAM_KINDS.has(row.kind)) return;
    void qc.invalidateQueries({ queryKey: teamKeys.members(project) });
    if (owner) void qc.invalidateQueries({ queryKey: teamKeys.invites(project) });
    if (row.kind === 'spectator' && owner) void qc.invalidateQueries({ queryKey: teamKeys.spectator(project) });
  });

  return (
    <section aria-labelledby="team-title">
      <div className="view-head">
        <h2 id="team-title">Team</h2>
        <p className="small muted">
          Who works in {project}, who is invited, who may watch, and how long history is kept.
        </p>
      </div>
      {projects.isPending ? (
        <Loading label="Loading your role…" />
      ) : projects.error ? (
        <ErrorState error={projects.error} retry={() => void projects.refetch()} />
      ) : (
        <div className="team-grid">
          <div className="team-col">
            <Members project={project} canManage={owner} />
            {owner ? (
              <Spectator project={project} />
            ) : (
              <section className="card team-panel" aria-labelledby="spectator-title">
                <h3 id="spectator-title">Spectator link</h3>
                <p className="small muted">Only the project owner can share a spectator link.</p>
              </section>
            )}
            <History project={project} canManage={owner} />
          </div>
          <div className="team-col">
            {owner ? (
              <Invites project={project} board={board} />
            ) : (
              <section className="card team-panel" aria-labelledby="invites-title">
                <h3 id="invites-title">Invites</h3>
                <p className="small muted">Only the project owner can invite people to this project.</p>
              </section>
            )}
            {owner ? <DeleteProject project={project} /> : null}
          </div>
        </div>
      )}
    </section>
  );
}
