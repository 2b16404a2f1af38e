// One error type for both backends: pg's DatabaseError and PGlite's DatabaseError share the wire protocol's
// ErrorResponse fields; connection failures become SQLSTATE class 08 so callers can map them to 503.

/** A failure reported by Postgres (or the connection to it), with its SQLSTATE. */
export class DbError extends Error {
  /** SQLSTATE, e.g. '23505', 'P0001', 'PT401'; class '08' for connection failures. */
  readonly code: string;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly severity: string | undefined;
  readonly schema: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;
  readonly constraint: string | undefined;
  readonly where: string | undefined;
  /** 1-based character offset of the error in the statement text, when Postgres reports one. */
  readonly position: number | undefined;

  constructor(
    fields: {
      code: string;
      message: string;
      detail?: string | undefined;
      hint?: string | undefined;
      severity?: string | undefined;
      schema?: string | undefined;
      table?: string | undefined;
      column?: string | undefined;
      constraint?: string | undefined;
      where?: string | undefined;
      position?: number | undefined;
    },
    options?: { cause?: unknown },
  ) {
    super(fields.message, options);
    this.name = 'DbError';
    this.code = fields.code;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.severity = fields.severity;
    this.schema = fields.schema;
    this.table = fields.table;
    this.column = fields.column;
    this.constraint = fields.constraint;
    this.where = fields.where;
    this.position = fields.position;
  }
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** True when `e` is an ErrorResponse from a server (either driver's DatabaseError shape). */
function isServerError(e: unknown): e is Record<string, unknown> & Error {
  if (!(e instanceof Error)) return false;
  const r = e as unknown as Record<string, unknown>;
  return typeof r.code === 'string' && SQLSTATE.test(r.code) && typeof r.severity === 'string';
}

const CONNECTION_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** Turn whatever a driver threw into a DbError when it came from Postgres or the connection; else return it as is. */
export function toDbError(e: unknown): unknown {
  if (e instanceof DbError) return e;
  if (isServerError(e)) {
    return new DbError(
      {
        code: e.code as string,
        message: e.message,
        detail: str(e.detail),
        hint: str(e.hint),
        severity: str(e.severity),
        schema: str(e.schema),
        table: str(e.table),
        column: str(e.column),
        constraint: str(e.constraint),
        where: str(e.where),
        position: Number(e.position) || undefined,
      },
      { cause: e },
    );
  }
  if (e instanceof Error) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (
      (errno && CONNECTION_ERRNO.has(errno)) ||
      /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error/i.test(
        e.message,
      )
    ) {
      return new DbError(
        {
          code: '08006',
          message: `Lost or could not open the connection to Postgres (${errno ?? e.message}); check DATABASE_URL and that the server is running.`,
        },
        { cause: e },
      );
    }
  }
  return e;
}

/** Await `p`, rethrowing driver errors as DbError. */
export async function wrapDbErrors<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw toDbError(e);
  }
}
