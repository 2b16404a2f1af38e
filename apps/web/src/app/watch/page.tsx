'use client';
// `/watch/<token>` (the hub serves this page for any token path): the public, read-only spectator view.
import { useEffect, useState } from 'react';
import { Loading } from '../../components/States';
import { WatchView } from '../../components/Watch';
import { tokenFromPath } from '../../lib/public';

// Read before React hydrates: the router may normalise the URL to /watch afterwards.
const initialToken = tokenFromPath('watch');

export default function WatchPage() {
  const [token, setToken] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    setToken(initialToken);
  }, []);
  if (token === undefined) return <Loading label="Opening the live view…" />;
  if (token === null) {
    return (
      <main className="login">
        <div className="login-card">
          <h1>No spectator link here</h1>
          <p>
            A spectator link looks like <code>/watch/mc_watch_…</code>. Open the whole link the project owner shared.
          </p>
        </div>
      </main>
    );
  }
  return <WatchView token={token} />;
}
