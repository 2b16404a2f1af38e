// API keys arrive as `Authorization: Bearer mc_...` or supabase-js's `apikey` header; only their sha256 is ever used.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { httpError } from './http/errors';

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The key that stands for none, as Supabase's anon key does: supabase-js will not make a client without a key, and the
 * anonymous calls (an invite's details, redeeming it, a spectator's snapshot) are made before one has a key.
 */
export const ANON_KEY = 'anon';

/** The caller's key hash, or null for an anonymous request. */
export function keyHashFromHeaders(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  let key: string | undefined;
  if (typeof auth === 'string' && auth.length > 0) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth.trim());
    if (!m)
      throw httpError(
        401,
        'PGRST301',
        'Authorization header must be "Bearer <key>"',
        'send Authorization: Bearer mc_...',
      );
    key = m[1];
  } else if (typeof headers.apikey === 'string' && headers.apikey.length > 0) {
    key = headers.apikey;
  }
  if (key === undefined || key === ANON_KEY) return null;
  if (key.length > 512) throw httpError(401, 'PGRST301', 'API key is malformed', 'send the mc_... key you were given');
  return hashKey(key);
}
