// Helpers shared by the verifiers: header lookup, constant-time comparison, HMAC, failure values.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { VerifyRequest, VerifyResult } from './types';

/** Case-insensitive header lookup; a repeated header yields its first value. */
export function header(req: VerifyRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(req.headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : first.trim();
  }
  return undefined;
}

/** Constant-time equality; values of different lengths are simply unequal (timingSafeEqual would throw). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const right = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

export function hmacSha256(key: string | Buffer, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export type VerifyFailure = Extract<VerifyResult, { ok: false }>;

export function unauthorized(reason: string): VerifyFailure {
  return { ok: false, status: 401, reason };
}

export function badRequest(reason: string): VerifyFailure {
  return { ok: false, status: 400, reason };
}

export function secretNotConfigured(source: string): VerifyFailure {
  return unauthorized(
    `The ${source} webhook secret is not configured for this meshwork; set it before sending deliveries.`,
  );
}

/** Parses a JSON body after verification; undefined when it is not a JSON object. */
export function parseJsonObject(rawBody: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(rawBody.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function isHex(value: string, length: number): boolean {
  return value.length === length && /^[0-9a-fA-F]+$/.test(value);
}
