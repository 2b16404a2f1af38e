// Small display helpers: presence as the hub computes it, relative times, byte sizes.
import { serverNow } from './api';
import type { Presence } from './types';

/** The hub reports an agent offline once it has not been seen for 90 s; apply the same rule as time passes. */
export const OFFLINE_AFTER_MS = 90_000;

export function presence(status: Presence, lastSeenAt: string | null, now: number = serverNow()): Presence {
  if (!lastSeenAt || now - Date.parse(lastSeenAt) > OFFLINE_AFTER_MS) return 'offline';
  return status;
}

export function ago(iso: string | null | undefined, now: number = serverNow()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
