// PostgREST's error envelope and its SQLSTATE -> HTTP status mapping, so supabase-js clients see what they expect.
import type { Db } from '@meshcode/db';
import type { ErrorEnvelope } from '@meshcode/protocol';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly envelope: ErrorEnvelope,
  ) {
    super(envelope.message);
  }
}

export function httpError(status: number, code: string, message: string, hint: string | null = null): HttpError {
  return new HttpError(status, { code, message, details: null, hint });
}

interface PgLikeError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  hint?: unknown;
}

const blank = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** Map a Postgres error to PostgREST's status; unknown classes are bugs (500). */
export function statusForSqlState(code: string, anonymous: boolean): number {
  const pt = /^PT(\d{3})$/.exec(code);
  if (pt) return Number(pt[1]);
  if (code === '42501') return anonymous ? 401 : 403;
  if (code === '42883' || code === '42P01') return 404;
  if (code === '23503' || code === '23505') return 409;
  if (code === 'P0001') return 400;
  if (code === '25006') return 405;
  if (code === '57014') return 504;
  if (code === '40001' || code === '40P01') return 503;
  if (code.startsWith('22') || code.startsWith('23')) return 400;
  if (code.startsWith('08') || code.startsWith('53') || code.startsWith('57')) return 503;
  if (code.startsWith('54')) return 413;
  if (code.startsWith('28')) return 403;
  return 500;
}

const INTEGRITY_MESSAGES: Record<string, string> = {
  '23502': 'a required value is missing',
  '23503': 'something the request refers to does not exist (any more)',
  '23505': 'that already exists',
  '23514': 'a value is outside what is allowed for it (empty, too long or out of range)',
};

/** What a JSON value is, for an error about an argument of the wrong type ("got a number"). */
export function jsonKind(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function fromDbError(err: unknown, anonymous: boolean): HttpError {
  const e = err as PgLikeError;
  const code = typeof e?.code === 'string' ? e.code : 'XX000';
  const status = statusForSqlState(code, anonymous);
  const detail = blank(e?.detail);
  // call_as marks "no such function" with detail PGRST202, PostgREST's own code for it.
  const envelopeCode = detail === 'PGRST202' ? 'PGRST202' : code;
  if (status >= 500) {
    // Postgres' own text (process ids, lock details, query fragments) stays in the hub's log.
    return new HttpError(status, {
      code: envelopeCode,
      message: status === 503 ? 'the database is busy; try again' : 'internal error',
      details: null,
      hint: status === 503 ? 'retry the request' : null,
    });
  }
  const message = blank(e?.message) ?? 'request failed';
  let hint = blank(e?.hint);
  // PostgreSQL's own integrity errors name tables and constraints, and "Failing row contains (…)" shows the whole row,
  // ids and text the caller may not read included. The functions check their arguments first; one that reaches a
  // constraint says what kind of rule it broke, and no more.
  if (code.startsWith('23') && hint === null) {
    return new HttpError(status, {
      code,
      message: INTEGRITY_MESSAGES[code] ?? 'the request breaks a rule of the stored data',
      details: null,
      hint: 'check each argument against the RPC reference (lengths, ranges, required values)',
    });
  }
  // PostgreSQL's own refusals carry no hint: say what to do.
  if (hint === null && anonymous && code === '42501') {
    return new HttpError(status, {
      code,
      message: 'this request needs an API key',
      details: message,
      hint: 'send the header "Authorization: Bearer mc_…" with your key; meshcode signup or POST /auth/v1/signup gives one',
    });
  }
  if (hint === null && detail === 'PGRST202') {
    hint =
      'function names are lowercase letters, digits and "_", such as mc_whoami: check it against the RPC reference';
  }
  if (hint === null && code.startsWith('22')) {
    hint =
      'an argument has the wrong type or form: check each against the RPC reference (ids are UUIDs, times ISO 8601)';
  }
  return new HttpError(status, {
    code: envelopeCode,
    message,
    details: detail === 'PGRST202' ? null : detail,
    hint,
  });
}

/** What a value of each PostgreSQL type an argument can have looks like, for a hint. */
const TYPE_FORMS: [RegExp, string][] = [
  [/^(integer|bigint|smallint)$/, 'a whole number'],
  [/^(numeric|real|double precision)$/, 'a number'],
  [/^uuid$/, 'a UUID such as "0b9d3a52-8f0e-4c7a-9d41-6e2f1c5a7b30"'],
  [/^timestamp/, 'an ISO 8601 time such as "2026-11-23T09:30:00Z"'],
  [/^boolean$/, 'true or false'],
  [/^(json|jsonb)$/, 'JSON'],
];

/**
 * PostgreSQL refuses a value it cannot take as its argument's type (22P02 'invalid input syntax for type integer:
 * "1.5"', 22003 'value "9999999999" is out of range for type integer') without saying which argument it was. When
 * exactly one argument has that value, the error names it and says what it must look like.
 */
export function nameBadArgument(err: HttpError, args: Record<string, unknown>): HttpError {
  const { code, message } = err.envelope;
  if (!code.startsWith('22')) return err;
  const syntax = /^invalid input syntax for type ([a-z ]+): "(.*)"$/s.exec(message);
  const outOfRange = /^value "(.*)" is out of range for type ([a-z ]+)$/s.exec(message);
  const type = syntax?.[1] ?? outOfRange?.[2];
  const value = syntax?.[2] ?? outOfRange?.[1];
  if (type === undefined || value === undefined) return err;
  const asText = (v: unknown) =>
    typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  const named = Object.keys(args).filter((k) => asText(args[k]) === value);
  if (named.length !== 1) return err;
  const arg = named[0]!;
  const form = TYPE_FORMS.find(([re]) => re.test(type))?.[1] ?? `a ${type}`;
  const range = outOfRange ? ` within the range of ${type}` : '';
  return new HttpError(err.status, {
    ...err.envelope,
    message: `${arg}: ${message}`,
    hint: `${arg} must be ${form}${range}: check it against the RPC reference`,
  });
}

/** One hub-side SQL function call (`select mesh.x(...) as r`), with database errors as PostgREST envelopes. */
export async function hubCall<T>(db: Db, sql: string, params: unknown[]): Promise<T> {
  try {
    const res = await db.query<{ r: T }>(sql, params);
    return res.rows[0]?.r as T;
  } catch (err) {
    throw fromDbError(err, true);
  }
}
