// Runs one RPC as its caller through mesh.call_as (one statement, one round trip), then publishes what the
// transaction noted (wake-ups, deliveries, feed changes, revocations). Throws HttpError carrying PostgREST's envelope.
import type { Db } from '@meshcode/db';
import type { RawNotes } from './bus/notes';
import type { Signals } from './bus/signals';
import { fromDbError, httpError } from './http/errors';

interface CallAsRow {
  r: RawNotes & { result: unknown; exp?: number | null };
}

export interface CallOutcome {
  result: unknown;
  /** When the caller's credential expires (epoch ms), or null if it does not. */
  expiresAt: number | null;
}

export interface CallOptions {
  /** A GET may only run functions that change nothing. */
  get?: boolean;
}

export class RpcExecutor {
  constructor(
    private readonly db: Db,
    private readonly signals: Signals,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private async once(keyHash: string | null, fn: string, args: Record<string, unknown>, opts: CallOptions) {
    const params = [keyHash, fn, JSON.stringify(args), opts.get === true];
    const res = await this.db.query<CallAsRow>('select mesh.call_as($1, $2, $3::jsonb, $4) as r', params, {
      prepareAs: 'mesh_call_as',
    });
    return res.rows[0];
  }

  async call(
    keyHash: string | null,
    fn: string,
    args: Record<string, unknown>,
    opts: CallOptions = {},
  ): Promise<unknown> {
    return (await this.callWithOutcome(keyHash, fn, args, opts)).result;
  }

  async callWithOutcome(
    keyHash: string | null,
    fn: string,
    args: Record<string, unknown>,
    opts: CallOptions = {},
  ): Promise<CallOutcome> {
    let row: CallAsRow | undefined;
    try {
      row = await this.once(keyHash, fn, args, opts);
    } catch (err) {
      const mapped = fromDbError(err, keyHash === null);
      if (mapped.status >= 500) {
        const e = err as { code?: string; message?: string };
        this.log(`hub: unexpected error: ${fn} failed with ${e.code ?? '?'} ${e.message ?? String(err)}`);
      }
      throw mapped;
    }
    if (!row) throw httpError(500, 'XX000', 'internal error');
    const r = row.r;
    this.signals.publish(r);
    return { result: r.result, expiresAt: typeof r.exp === 'number' ? r.exp * 1000 : null };
  }
}
