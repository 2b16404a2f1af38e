'use client';
// Login: `/login/<token>` (served this page by the hub) asks for one click — a POST consumes the one-time link, so a
// link previewer's GET cannot burn it; `/login` takes an API key instead.
import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { InlineError } from '../../components/States';
import { auth } from '../../lib/api';
import { keys } from '../../lib/queries';

// Read before React hydrates: the router may normalise the URL to /login afterwards.
const initialPath = typeof window === 'undefined' ? '' : window.location.pathname;
const linkToken = /^\/login\/([A-Za-z0-9_-]{8,200})\/?$/.exec(initialPath)?.[1] ?? null;

function nextPath(): string {
  const next = new URLSearchParams(window.location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export default function LoginPage() {
  const router = useRouter();
  const qc = useQueryClient();
  const [token, setToken] = useState<string | null>(null);
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setToken(linkToken);
  }, []);

  const run = async (login: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await login();
      // The token is spent: keep it out of the history.
      window.history.replaceState(null, '', '/login');
      await qc.invalidateQueries({ queryKey: keys.session });
      router.replace(nextPath());
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <div className="login-card">
        <h1>
          <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <path d="M9 10 23 10 16 23Z" fill="none" stroke="#38bdf8" strokeWidth="2" />
            <circle cx="9" cy="10" r="3.2" fill="currentColor" />
            <circle cx="23" cy="10" r="3.2" fill="currentColor" />
            <circle cx="16" cy="23" r="3.2" fill="currentColor" />
          </svg>
          MeshCode
        </h1>
        {token ? (
          <>
            <p>
              This one-time link logs this browser in to the account that ran <code>meshcode dashboard</code>. It works
              once and expires 10 minutes after it was made.
            </p>
            <button
              type="button"
              className="btn btn-primary btn-wide"
              disabled={busy}
              onClick={() => void run(() => auth.withLink(token))}
            >
              {busy ? 'Logging in…' : 'Continue'}
            </button>
            <InlineError error={error} />
            <button
              type="button"
              className="btn btn-link"
              onClick={() => {
                setToken(null);
                setError(null);
                window.history.replaceState(null, '', '/login');
              }}
            >
              Log in with an API key instead
            </button>
          </>
        ) : (
          <>
            <p>
              Run <code>meshcode dashboard</code> in a terminal for a one-time login link, or paste your account&apos;s
              API key.
            </p>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void run(() => auth.withKey(key));
              }}
            >
              <label htmlFor="api-key">API key</label>
              <input
                id="api-key"
                type="password"
                autoComplete="off"
                spellCheck={false}
                placeholder="mc_…"
                value={key}
                onChange={(e) => setKey(e.target.value)}
                required
              />
              <button type="submit" className="btn btn-primary btn-wide" disabled={busy || key.trim() === ''}>
                {busy ? 'Logging in…' : 'Log in'}
              </button>
            </form>
            <InlineError error={error} />
            <p className="muted small">
              No account yet? <code>meshcode signup --email you@example.com</code> prints your key.
            </p>
          </>
        )}
      </div>
    </main>
  );
}
