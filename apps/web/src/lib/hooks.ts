// Shared React hooks: a ticking clock and the query-string location of the app (static export: no dynamic routes).
import { useEffect, useState } from 'react';
import { serverNow } from './api';

/** The hub's time, re-rendering every `ms` so relative times and presence age without new data. */
export function useNow(ms = 5000): number {
  const [now, setNow] = useState(() => serverNow());
  useEffect(() => {
    const t = setInterval(() => setNow(serverNow()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function projectHref(name: string, view?: string, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ name, ...(view ? { view } : {}), ...extra });
  return `/project?${q.toString()}`;
}
