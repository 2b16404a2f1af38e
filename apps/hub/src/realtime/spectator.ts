// The public spectator stream: GET /realtime/v1/watch/<token> sends a meshwork's board, activity and chat to anyone
// holding the share link, without login, read-only, redacted in SQL. Every refresh re-checks the token, and a sweep
// every second ends the streams of a link that was turned off even if its change signal was missed.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '@meshcode/db';
import { hashKey } from '../auth';
import { HttpError, httpError, hubCall } from '../http/errors';
import type { RouteModule, ServerDeps } from '../http/server';
import { parseFeedCursor, type FeedSource, type Feeds } from './feeds';

export const WATCH_SWEEP_MS = 1_000;
const MAX_TOKEN_LENGTH = 200;

const STREAM_HEADERS = {
  'access-control-allow-origin': '*',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/** A feed source reading through the hub-only mesh.watch_* functions: each call re-checks the token. */
export function watchFeedSource(db: Db, tokenHash: string): FeedSource {
  return {
    async snapshot() {
      const r = await hubCall<{ meshwork_id: string; status: unknown }>(db, 'select mesh.watch_state($1) as r', [
        tokenHash,
      ]);
      return { meshworkId: r.meshwork_id, status: r.status };
    },
    async activity(afterId, limit) {
      return await hubCall<{ id: number; kind: string }[]>(db, 'select mesh.watch_activity($1, $2, $3) as r', [
        tokenHash,
        afterId,
        limit,
      ]);
    },
    async latestId() {
      return Number(await hubCall<number | string>(db, 'select mesh.watch_latest($1) as r', [tokenHash]));
    },
  };
}

/** Which spectator links have open streams, and a sweep that notices links turned off. */
export class WatchGuard {
  private readonly open = new Map<string, Set<ServerResponse>>();
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(
    private readonly db: Db,
    private readonly feeds: Feeds,
    private readonly log: (line: string) => void,
    private readonly intervalMs = WATCH_SWEEP_MS,
  ) {}

  add(tokenHash: string, res: ServerResponse): void {
    let set = this.open.get(tokenHash);
    if (!set) {
      set = new Set();
      this.open.set(tokenHash, set);
    }
    set.add(res);
    res.once('close', () => this.remove(tokenHash, res));
    if (!this.timer) {
      this.timer = setInterval(() => void this.sweep(), this.intervalMs);
      this.timer.unref();
    }
  }

  get size(): number {
    let n = 0;
    for (const s of this.open.values()) n += s.size;
    return n;
  }

  private remove(tokenHash: string, res: ServerResponse): void {
    const set = this.open.get(tokenHash);
    set?.delete(res);
    if (set && set.size === 0) this.open.delete(tokenHash);
    if (this.open.size === 0) this.stop();
  }

  /** A link that no longer opens its meshwork: poke every feed, so its streams re-read, get the 404 and end. */
  async sweep(): Promise<void> {
    if (this.sweeping || this.open.size === 0) return;
    this.sweeping = true;
    try {
      const hashes = [...this.open.keys()];
      const live = new Set(await hubCall<string[]>(this.db, 'select mesh.watch_live($1::text[]) as r', [hashes]));
      if (hashes.some((h) => !live.has(h))) this.feeds.pokeAll();
    } catch (err) {
      this.log(`hub: spectator sweep failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.sweeping = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

export const spectatorRoutes: RouteModule = (app: FastifyInstance, deps: ServerDeps) => {
  const guard = new WatchGuard(deps.db, deps.feeds, deps.log);
  app.addHook('onClose', async () => guard.stop());

  app.get(
    '/realtime/v1/watch/:token',
    async (req: FastifyRequest<{ Params: { token: string } }>, reply: FastifyReply) => {
      const token = req.params.token;
      if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw httpError(
          404,
          'PT404',
          'this spectator link is not valid or was turned off',
          'ask the project owner for a current link',
        );
      }
      const after = parseFeedCursor(req.headers, req.query);
      const tokenHash = hashKey(token);
      reply.hijack();
      const res = reply.raw;
      for (const [k, v] of Object.entries(STREAM_HEADERS)) res.setHeader(k, v);
      try {
        await deps.feeds.open(res, watchFeedSource(deps.db, tokenHash), after);
        guard.add(tokenHash, res);
      } catch (err) {
        const e = err instanceof HttpError ? err : httpError(500, 'XX000', 'internal error');
        if (e.status >= 500) deps.log(`hub: unexpected error: spectator stream failed: ${String(err)}`);
        if (!res.headersSent) res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(e.envelope));
      }
    },
  );
};
