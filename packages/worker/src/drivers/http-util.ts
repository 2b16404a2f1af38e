// HTTP plumbing shared by the openai, ollama and http drivers: timeouts, capped bodies, failure classification.
import { redact } from '../redact';
import type { DriverResult } from './types';

export type HttpOutcome =
  | { kind: 'response'; status: number; headers: Headers; text: string; tooLarge: boolean }
  | { kind: 'failed'; result: Extract<DriverResult, { ok: false }> };

export interface HttpCall {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  maxBytes: number;
  /** Names the backend in error sentences, e.g. "OpenAI-compatible API at 127.0.0.1:8000". */
  label: string;
}

export async function call(request: HttpCall): Promise<HttpOutcome> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: {
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
        accept: 'application/json',
        ...request.headers,
      },
      body: request.body !== undefined ? JSON.stringify(request.body) : undefined,
      signal,
    });
    const { text, tooLarge } = await readCapped(response, request.maxBytes);
    return { kind: 'response', status: response.status, headers: response.headers, text, tooLarge };
  } catch (error) {
    if (request.signal?.aborted) {
      return {
        kind: 'failed',
        result: { ok: false, transient: true, error: `${request.label}: the task was cancelled.` },
      };
    }
    if (timeout.aborted) {
      return {
        kind: 'failed',
        result: {
          ok: false,
          transient: true,
          error: `${request.label} did not answer within ${request.timeoutMs} ms.`,
        },
      };
    }
    return {
      kind: 'failed',
      result: { ok: false, transient: true, error: `${request.label} is unreachable: ${describeNetworkError(error)}.` },
    };
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<{ text: string; tooLarge: boolean }> {
  if (!response.body) return { text: '', tooLarge: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return { text: '', tooLarge: true };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), tooLarge: false };
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return redact(cause?.code ?? cause?.message ?? error.message);
  }
  return redact(String(error));
}

/** Retry-After as seconds or an HTTP date, or OpenAI's retry-after-ms; undefined when absent or unparsable. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms));
  const value = headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Request timeout, conflict, too early, rate limit and server errors are worth retrying; other 4xx are not. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export function failure(transient: boolean, error: string, retryAfter?: number): Extract<DriverResult, { ok: false }> {
  return retryAfter === undefined
    ? { ok: false, transient, error: redact(error) }
    : { ok: false, transient, error: redact(error), retryAfterMs: retryAfter };
}
