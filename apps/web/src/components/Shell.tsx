// The page frame: the auth gate (no session -> login page), the top bar with breadcrumbs, live state and logout.
'use client';
import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import type { Whoami } from '@meshcode/protocol';
import { ApiError, auth } from '../lib/api';
import type { LiveState } from '../lib/live';
import { useSession } from '../lib/queries';
import { ErrorState, Loading } from './States';

/** Render children only with a live session; otherwise go to the login page and come back afterwards. */
export function AuthGate({ children }: { children: (who: Whoami) => React.ReactNode }) {
  const session = useSession();
  const router = useRouter();
  const unauthorized = session.error instanceof ApiError && session.error.status === 401;
  useEffect(() => {
    if (unauthorized) {
      const next = window.location.pathname + window.location.search;
      router.replace(`/login?next=${encodeURIComponent(next)}`);
    }
  }, [unauthorized, router]);
  if (session.data) return <>{children(session.data)}</>;
  if (session.isPending || unauthorized) return <Loading label="Checking your session…" />;
  return <ErrorState error={session.error} retry={() => void session.refetch()} title="Could not reach the hub" />;
}

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  lost: 'Offline',
};

export function LiveBadge({ state }: { state: LiveState }) {
  return (
    <span
      className={`live live-${state}`}
      role="status"
      aria-live="polite"
      title="Updates stream from the hub as they happen"
    >
      <span className="live-dot" aria-hidden="true" />
      {LIVE_TEXT[state]}
    </span>
  );
}

export function TopBar({
  who,
  crumbs = [],
  live,
}: {
  who: Whoami;
  crumbs?: { href?: string; label: string }[];
  live?: LiveState;
}) {
  const qc = useQueryClient();
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const logout = async () => {
    setBusy(true);
    try {
      await auth.logout();
    } finally {
      qc.clear();
      router.replace('/login');
    }
  };
  return (
    <header className="topbar">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/projects" className="brand" aria-label="MeshCode projects">
          <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
            <path d="M9 10 23 10 16 23Z" fill="none" stroke="#38bdf8" strokeWidth="2" />
            <circle cx="9" cy="10" r="3.2" fill="currentColor" />
            <circle cx="23" cy="10" r="3.2" fill="currentColor" />
            <circle cx="16" cy="23" r="3.2" fill="currentColor" />
          </svg>
          <span>MeshCode</span>
        </Link>
        {crumbs.map((c, i) => (
          <span key={i} className="crumb">
            <span aria-hidden="true">/</span>
            {c.href ? <Link href={c.href}>{c.label}</Link> : <span aria-current="page">{c.label}</span>}
          </span>
        ))}
      </nav>
      <div className="topbar-right">
        {live && <LiveBadge state={live} />}
        <span className="who" title={who.account.email}>
          {who.account.display_name || who.account.email}
        </span>
        <button type="button" className="btn btn-ghost" onClick={() => void logout()} disabled={busy}>
          Log out
        </button>
      </div>
    </header>
  );
}
