'use client';
// The join page for someone with no account: what the invite is for (reading it never uses it up), a display name,
// and Join, which redeems it by POST. The minted key is shown once, with the exact commands to run next.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ApiError } from '../lib/api';
import { ago, dateTime } from '../lib/format';
import { useNow } from '../lib/hooks';
import { publicApi, type InviteInfo, type Redeemed } from '../lib/public';
import { Command, ErrorState, InlineError, Loading } from './States';
import './team.css';

/** The hub every CLI command talks to unless told otherwise. */
const DEFAULT_HUB = 'http://localhost:7700';

function hubFlag(origin: string): string {
  return origin.replace(/\/+$/, '') === DEFAULT_HUB ? '' : ` --hub ${origin}`;
}

const STATE_TEXT: Record<InviteInfo['state'], { title: string; body: string }> = {
  active: { title: 'active', body: '' },
  used: {
    title: 'This invite has already been used',
    body: 'It was good for a limited number of uses and they are all taken. Ask the project owner for a new invite.',
  },
  expired: {
    title: 'This invite has expired',
    body: 'Invites work for a limited number of days. Ask the project owner for a new one.',
  },
  revoked: {
    title: 'This invite was revoked',
    body: 'The project owner cancelled it. Ask them for a new invite if you still need one.',
  },
};

function Brand() {
  return (
    <p className="join-brand">
      <svg viewBox="0 0 32 32" width="24" height="24" aria-hidden="true">
        <path d="M9 10 23 10 16 23Z" fill="none" stroke="#38bdf8" strokeWidth="2" />
        <circle cx="9" cy="10" r="3.2" fill="currentColor" />
        <circle cx="23" cy="10" r="3.2" fill="currentColor" />
        <circle cx="16" cy="23" r="3.2" fill="currentColor" />
      </svg>
      MeshCode
    </p>
  );
}

function Details({ info, now }: { info: InviteInfo; now: number }) {
  const expired = Date.parse(info.expires_at) <= now;
  return (
    <dl className="join-details">
      <div>
        <dt>Project</dt>
        <dd>{info.meshwork}</dd>
      </div>
      <div>
        <dt>Agent</dt>
        <dd>
          <code>{info.agent}</code>
        </dd>
      </div>
      {info.role && (
        <div>
          <dt>Role</dt>
          <dd>{info.role}</dd>
        </div>
      )}
      <div>
        <dt>Invited by</dt>
        <dd>{info.invited_by ?? 'the project owner'}</dd>
      </div>
      <div>
        <dt>{expired ? 'Expired' : 'Expires'}</dt>
        <dd title={dateTime(info.expires_at)}>
          {dateTime(info.expires_at)}
          {expired && <span className="muted"> ({ago(info.expires_at, now)})</span>}
        </dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>
          <span className={`tpill tpill-${info.state}`}>{info.state}</span>
          {info.state === 'active' && (
            <span className="muted small">
              {' '}
              {info.uses_left} {info.uses_left === 1 ? 'use' : 'uses'} left
            </span>
          )}
        </dd>
      </div>
    </dl>
  );
}

function Joined({ joined, origin }: { joined: Redeemed; origin: string }) {
  const hub = hubFlag(origin);
  return (
    <div className="join-done" aria-labelledby="joined-title">
      <h2 id="joined-title">You joined {joined.meshwork}</h2>
      <p>
        Welcome, {joined.account.display_name}. You can now run the agent <code>{joined.agent}</code>
        {joined.role ? ` (${joined.role})` : ''} — and nothing else in this project.
      </p>
      <div className="key-box" role="group" aria-labelledby="key-title">
        <p id="key-title">
          <strong>Your key — shown only this once.</strong> Copy it now; this page cannot show it again.
        </p>
        <Command text={joined.key} label="Copy your key" />
      </div>
      <p>Next, in a terminal on the machine where the agent will work:</p>
      <ol className="join-steps">
        <li>
          <span className="small">Store the key (keychain, else a private file):</span>
          <Command text={`meshcode login ${joined.key}${hub}`} label="Copy the login command" />
        </li>
        <li>
          <span className="small">Start the agent in your editor:</span>
          <Command text={`meshcode${hub} run ${joined.agent}`} label="Copy the run command" />
        </li>
      </ol>
      <p className="small muted">
        Keep the key private: anyone holding it can act as {joined.agent}. The project owner can remove you at any time,
        and the key then stops working.
      </p>
    </div>
  );
}

export function JoinView({ token }: { token: string }) {
  const qc = useQueryClient();
  const now = useNow(30_000);
  const info = useQuery({
    queryKey: ['invite-info', token],
    queryFn: () => publicApi.inviteInfo(token),
    retry: false,
    staleTime: 30_000,
  });
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [joined, setJoined] = useState<Redeemed | null>(null);
  const origin = typeof window === 'undefined' ? '' : window.location.origin;
  const project = joined?.meshwork ?? info.data?.meshwork;
  useEffect(() => {
    if (project) document.title = `Join ${project} — MeshCode`;
  }, [project]);

  const join = () => {
    setBusy(true);
    setError(null);
    publicApi
      .redeemInvite(token, name.trim())
      .then((r) => {
        setJoined(r);
        // The token did its job: keep it out of the history and the address bar.
        window.history.replaceState(null, '', '/join');
      })
      .catch((err: unknown) => {
        setError(err);
        // Used up, expired or revoked meanwhile: show the invite as it is now.
        void qc.invalidateQueries({ queryKey: ['invite-info', token] });
      })
      .finally(() => setBusy(false));
  };

  let body: React.ReactNode;
  if (joined) {
    body = <Joined joined={joined} origin={origin} />;
  } else if (info.isPending) {
    body = <Loading label="Reading the invite…" />;
  } else if (info.error) {
    body =
      info.error instanceof ApiError && (info.error.status === 404 || info.error.status === 400) ? (
        <div className="state state-error" role="alert">
          <strong>This invite link is not valid</strong>
          <p>Check that you copied the whole link, or ask the project owner for a new invite.</p>
        </div>
      ) : (
        <ErrorState error={info.error} retry={() => void info.refetch()} title="Could not read the invite" />
      );
  } else {
    const i = info.data;
    const problem = i.state === 'active' ? null : STATE_TEXT[i.state];
    body = (
      <>
        <h1 className="join-title">
          Join <span className="join-project">{i.meshwork}</span>
        </h1>
        <p>
          {i.invited_by ?? 'The project owner'} invites you to run the agent <code>{i.agent}</code> in the MeshCode
          project {i.meshwork}. No account needed.
        </p>
        <Details info={i} now={now} />
        {problem ? (
          <div className="state state-error join-problem" role="alert">
            <strong>{problem.title}</strong>
            <p>{problem.body}</p>
          </div>
        ) : (
          <>
            <form
              className="join-form"
              onSubmit={(e) => {
                e.preventDefault();
                join();
              }}
            >
              <label htmlFor="display-name">Your display name</label>
              <input
                id="display-name"
                value={name}
                onChange={(e) => setName(e.target.value)}
                placeholder="Grace Hopper"
                autoComplete="nickname"
                maxLength={100}
                required
                aria-describedby="join-help"
              />
              <button type="submit" className="btn btn-primary btn-wide" disabled={busy || name.trim() === ''}>
                {busy ? 'Joining…' : 'Join'}
              </button>
            </form>
            <InlineError error={error} />
            <p id="join-help" className="small muted">
              The team sees this name. Joining creates a guest login good for agent {i.agent} only; nothing happens
              until you press Join.
            </p>
            <details className="join-cli">
              <summary>Prefer the terminal?</summary>
              <p className="small">Instead of pressing Join, run:</p>
              <Command
                text={`meshcode join ${origin}/join/${token} --display-name "${(name.trim() || 'Your name').replace(/["\\$`]/g, '\\$&')}"`}
                label="Copy the join command"
              />
              <p className="small">
                then <code>{`meshcode${hubFlag(origin)} run ${i.agent}`}</code>.
              </p>
            </details>
          </>
        )}
        {problem && <InlineError error={error} />}
      </>
    );
  }

  return (
    <main className="login join">
      <div className="login-card join-card">
        <Brand />
        {body}
      </div>
    </main>
  );
}
