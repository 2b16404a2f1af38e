// Talks to the hub on the same origin: RPC (PostgREST style) and the dashboard session, authenticated by the
// httpOnly cookie; every request carries the CSRF header the hub requires for cookie-authenticated calls.
import type { Whoami } from '@meshcode/protocol';

export const CSRF_HEADER = 'x-meshcode-csrf';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string | null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let clockOffsetMs = 0;

/** The hub's clock (from its Date headers), so "offline after 90 s" agrees with the hub when this machine's clock is off. */
export function serverNow(): number {
  return Date.now() + clockOffsetMs;
}

function compact(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (v !== undefined) out[k] = v;
  return out;
}

async function request<T>(path: string, init: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      ...init,
      credentials: 'same-origin',
      headers: {
        'content-type': 'application/json',
        [CSRF_HEADER]: '1',
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  } catch {
    throw new ApiError(
      0,
      'NETWORK',
      'could not reach the MeshCode hub',
      'check that it is still running (npm start or meshcode up)',
    );
  }
  const date = res.headers.get('date');
  if (date) {
    const offset = Date.parse(date) - Date.now();
    clockOffsetMs = Math.abs(offset) > 2000 ? offset : 0;
  }
  return readResponse<T>(res);
}

export function rpc<T>(fn: string, args: Record<string, unknown> = {}): Promise<T> {
  return request<T>(`/rest/v1/rpc/${encodeURIComponent(fn)}`, { method: 'POST', body: JSON.stringify(compact(args)) });
}

export interface LoginResult {
  account: { id: string; email: string; display_name: string };
  expires_at: string;
}

export const auth = {
  session: () => request<Whoami>('/auth/v1/session', { method: 'GET' }),
  withLink: (linkToken: string) =>
    request<LoginResult>('/auth/v1/session', { method: 'POST', body: JSON.stringify({ link_token: linkToken }) }),
  withKey: (apiKey: string) =>
    request<LoginResult>('/auth/v1/session', { method: 'POST', body: JSON.stringify({ api_key: apiKey }) }),
  logout: () => request<{ logged_out: boolean }>('/auth/v1/logout', { method: 'POST', body: '{}' }),
};

/** One sentence for the user: the hub's message and, when it has one, how to fix it. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.hint ? `${err.message} — ${err.hint}` : err.message;
  return err instanceof Error ? err.message : String(err);
}

/** A hub response as JSON, or its PostgREST error envelope as an ApiError. */
export async function readResponse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const e = (body ?? {}) as { code?: unknown; message?: unknown; hint?: unknown };
    throw new ApiError(
      res.status,
      typeof e.code === 'string' ? e.code : String(res.status),
      typeof e.message === 'string' && e.message ? e.message : `the hub answered HTTP ${res.status}`,
      typeof e.hint === 'string' && e.hint ? e.hint : null,
    );
  }
  return body as T;
}
