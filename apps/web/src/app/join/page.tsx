'use client';
// `/join/<token>` (the hub serves this page for any token path): an invite for someone with no account.
import { useEffect, useState } from 'react';
import { JoinView } from '../../components/Join';
import { Loading } from '../../components/States';
import { tokenFromPath } from '../../lib/public';

// Read before React hydrates: the router may normalise the URL to /join afterwards.
const initialToken = tokenFromPath('join');

export default function JoinPage() {
  // The static export renders without a token; read it only once mounted so hydration matches.
  const [token, setToken] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    setToken(initialToken);
  }, []);
  if (token === undefined) return <Loading label="Reading the invite…" />;
  if (token === null) {
    return (
      <main className="login">
        <div className="login-card">
          <h1>No invite in this link</h1>
          <p>
            A join link looks like <code>/join/mc_inv_…</code>. Open the whole link the project owner sent you.
          </p>
        </div>
      </main>
    );
  }
  return <JoinView token={token} />;
}
