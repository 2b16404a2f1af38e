// Runs one RPC as its caller through mesh.call_as (one statement, one round trip), then publishes what the
// transaction noted (wake-ups, deliveries, feed changes, revocations). Throws HttpError carrying PostgREST's envelope.
import type { Db } from '@meshcode/db';
import type { RawNotes } from './bus/notes';
import type { Signals } from './bus/signals';
import { fromDbError, httpError, nameBadArgument } from './http/errors';

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

interface QueuedSend {
  keyHash: string;
  args: Record<string, unknown>;
  resolve: (row: CallAsRow | undefined) => void;
  reject: (err: unknown) => void;
}

interface SendManyRow {
  r: RawNotes & { results: { result: unknown; exp?: number | null }[] };
}

/** At most this many sends share one transaction. */
const MAX_BATCH = 64;

/** A second send transaction starts alongside the first only once this many sends wait for it. */
const SECOND_BATCH_MIN = 8;

/**
 * Sends go through mesh.send_many. A send that finds no send transaction running goes at once (a batch of one), and
 * sends that arrive while one runs are queued and written together: on a busy mesh that is one commit and one round
 * trip for many messages. A second transaction runs alongside the first only when at least SECOND_BATCH_MIN sends
 * wait, so the database works on one batch while the other commits or the hub answers it, and batches stay large
 * (a second one started for a single send made batches small, and measured slower than one at a time). If anything in
 * a batch of several fails, nothing of it was written and each of its sends runs again on its own through
 * mesh.call_as, so every caller gets exactly the answer (or error) it would have got alone.
 */
export class RpcExecutor {
  private readonly queue: QueuedSend[] = [];
  /** Send transactions running (at most two). */
  private sending = 0;

  constructor(
    private readonly db: Db,
    private readonly signals: Signals,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private async once(keyHash: string | null, fn: string, args: Record<string, unknown>, opts: CallOptions) {
    if (fn !== 'mc_send' || opts.get || keyHash === null) return this.single(keyHash, fn, args, opts);
    return new Promise<CallAsRow | undefined>((resolve, reject) => {
      this.queue.push({ keyHash, args, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (
      this.queue.length > 0 &&
      (this.sending === 0 || (this.sending === 1 && this.queue.length >= SECOND_BATCH_MIN))
    ) {
      this.sending++;
      void this.sendBatch(this.queue.splice(0, MAX_BATCH)).finally(() => {
        this.sending--;
        this.drain();
      });
    }
  }

  private async sendBatch(batch: QueuedSend[]): Promise<void> {
    let row: SendManyRow | undefined;
    try {
      const calls = JSON.stringify(batch.map((q) => [q.keyHash, q.args]));
      const res = await this.db.query<SendManyRow>('select mesh.send_many($1::jsonb) as r', [calls], {
        prepareAs: 'mesh_send_many',
      });
      row = res.rows[0];
    } catch (err) {
      const status = fromDbError(err, false).status;
      // A lone send's own error (not a shape mesh.call_as would have refused first, nor a fault that may pass) is
      // exactly what mc_send gives it: answered without running it again.
      if (batch.length === 1 && status < 500 && (err as { detail?: string }).detail !== 'not batchable') {
        batch[0]!.reject(err);
        return;
      }
      // Otherwise nothing was written, and each runs on its own below, through mesh.call_as, and meets its own fate.
      // Only a fault of ours (a 500) is logged.
      if (status === 500) this.logUnexpected('mesh.send_many', err);
    }
    if (row) {
      // The transaction's notes are published once, with the first answer; the others carry none.
      const { results, ...notes } = row.r;
      batch.forEach((q, i) => q.resolve({ r: { ...(i === 0 ? notes : {}), ...results[i]! } }));
      return;
    }
    await Promise.all(batch.map((q) => this.single(q.keyHash, 'mc_send', q.args, {}).then(q.resolve, q.reject)));
  }

  private logUnexpected(fn: string, err: unknown): void {
    const e = err as { code?: string; message?: string };
    this.log(`hub: unexpected error: ${fn} failed with ${e.code ?? '?'} ${e.message ?? String(err)}`);
  }

  private async single(keyHash: string | null, fn: string, args: Record<string, unknown>, opts: CallOptions) {
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

  /**
   * The functions check that what they write to exists; a foreign key that still fails means it was deleted (a
   * project, an agent) after that check. Nothing was written: the call, a send too, runs once more and gets the answer
   * it gets now that it is gone (a 404 naming what), not the 409 of a constraint.
   */
  private async onceAgainIfGone(keyHash: string | null, fn: string, args: Record<string, unknown>, opts: CallOptions) {
    try {
      return await this.once(keyHash, fn, args, opts);
    } catch (err) {
      if ((err as { code?: string }).code !== '23503') throw err;
      return await this.once(keyHash, fn, args, opts);
    }
  }

  async callWithOutcome(
    keyHash: string | null,
    fn: string,
    args: Record<string, unknown>,
    opts: CallOptions = {},
  ): Promise<CallOutcome> {
    let row: CallAsRow | undefined;
    try {
      row = await this.onceAgainIfGone(keyHash, fn, args, opts);
    } catch (err) {
      const mapped = nameBadArgument(fromDbError(err, keyHash === null), args);
      if (mapped.status >= 500) this.logUnexpected(fn, err);
      throw mapped;
    }
    if (!row) throw httpError(500, 'XX000', 'internal error');
    const r = row.r;
    this.signals.publish(r);
    return { result: r.result, expiresAt: typeof r.exp === 'number' ? r.exp * 1000 : null };
  }
}
