// One HTTP call to a provider API with a timeout, and the classification every write-back shares: 408/425/429/5xx,
// rate limits and network errors are transient (retry with backoff); other 4xx are permanent.
import { redact } from '@meshcode/worker/core';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export type Failure = { ok: false; transient: boolean; error: string; retryAfterMs?: number };

/** A failure no retry can fix. */
export function permanent(error: string): Failure {
  return { ok: false, transient: false, error };
}

/** Text cut to a provider's limit, saying how much was left out. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `\n[shortened: ${text.length - max} more characters]`;
  return text.slice(0, max - note.length) + note;
}
export type Called = { ok: true; res: ApiResponse } | Failure;

export interface CallOptions {
  method: string;
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
  /** What the caller is talking to, for error sentences ("GitHub API at api.github.com"). */
  label: string;
}

const MAX_TEXT = 8 * 1024 * 1024;

export async function apiCall(fetchImpl: typeof fetch, url: string, opts: CallOptions): Promise<Called> {
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: opts.method,
      headers: {
        ...opts.headers,
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      redirect: 'follow',
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const why = (err as Error).name === 'TimeoutError' ? 'timed out' : (cause ?? (err as Error).message);
    return { ok: false, transient: true, error: redact(`${opts.label} could not be reached (${why}).`) };
  }
  let text = await res.text().catch(() => '');
  if (text.length > MAX_TEXT) text = text.slice(0, MAX_TEXT);
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { ok: true, res: { status: res.status, headers: res.headers, text, json } };
}

function retryAfter(headers: Headers, now: number): number | undefined {
  const after = headers.get('retry-after');
  if (after !== null) {
    const seconds = Number(after);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const at = Date.parse(after);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  const reset = headers.get('x-ratelimit-reset');
  if (reset !== null && headers.get('x-ratelimit-remaining') === '0') {
    const at = Number(reset) * 1000;
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  return undefined;
}

/** A non-2xx answer as a failure value with the provider's own message. */
export function failureOf(res: ApiResponse, label: string, what: string): Failure {
  const body = res.json as { message?: unknown; error?: unknown; errors?: unknown } | undefined;
  const message =
    typeof body?.message === 'string'
      ? body.message
      : typeof body?.error === 'string'
        ? body.error
        : res.text.slice(0, 200) || 'no message';
  const limited =
    res.status === 403 && (res.headers.get('x-ratelimit-remaining') === '0' || res.headers.has('retry-after'));
  const transient = limited || res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500;
  const hint =
    res.status === 401
      ? ' Check the write-back token (mc_set_source_token).'
      : res.status === 403 && !limited
        ? ' The token lacks the permission for this.'
        : res.status === 404
          ? ' Check the repository and that the token can see it.'
          : '';
  const wait = transient ? retryAfter(res.headers, Date.now()) : undefined;
  return {
    ok: false,
    transient,
    error: redact(`${label} answered ${res.status} to ${what}: ${message}.${hint}`),
    ...(wait !== undefined ? { retryAfterMs: wait } : {}),
  };
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
