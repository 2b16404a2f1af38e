// Woken long-polls re-read their inbox through one shared statement per event-loop turn (mesh.wait_batch), not one
// round trip each: a broadcast to 1,000 waiting agents costs a handful of queries instead of a thousand.
import type { Db } from '@meshcode/db';
import type { Signals } from './signals';
import { HttpError, fromDbError } from '../http/errors';

export interface BatchItem {
  keyHash: string;
  agentId: string;
  after: number;
  limit: number | undefined;
}

interface Pending {
  item: BatchItem;
  resolve(result: unknown): void;
  reject(err: unknown): void;
}

interface BatchRow {
  r: {
    results: ({ result: unknown } | { error: { status: number; code: string; message: string; hint?: string } })[];
    changed: string | null;
  };
}

const CHUNK = 250;

export class WaitBatcher {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly signals: Signals,
  ) {}

  read(item: BatchItem): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (let i = 0; i < batch.length; i += CHUNK) void this.run(batch.slice(i, i + CHUNK));
  }

  private async run(chunk: Pending[]): Promise<void> {
    let row: BatchRow | undefined;
    try {
      const payload = chunk.map((p) => ({
        key_hash: p.item.keyHash,
        agent_id: p.item.agentId,
        after: p.item.after,
        limit: p.item.limit ?? null,
      }));
      const res = await this.db.query<BatchRow>('select mesh.wait_batch($1::jsonb) as r', [JSON.stringify(payload)], {
        prepareAs: 'mesh_wait_batch',
      });
      row = res.rows[0];
    } catch (err) {
      const mapped = fromDbError(err, false);
      for (const p of chunk) p.reject(mapped);
      return;
    }
    const results = row?.r.results ?? [];
    chunk.forEach((p, i) => {
      const out = results[i];
      if (!out) p.reject(new HttpError(500, { code: 'XX000', message: 'internal error', details: null, hint: null }));
      else if ('error' in out) {
        const e = out.error;
        p.reject(
          new HttpError(e.status >= 400 && e.status < 600 ? e.status : 500, {
            code: e.code,
            message: e.message,
            details: null,
            hint: e.hint ?? null,
          }),
        );
      } else p.resolve(out.result);
    });
    this.signals.publish({ changed: row?.r.changed });
  }
}
