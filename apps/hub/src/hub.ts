// Assembles one hub: RPC executor, waiters, cross-hub signals, feeds, presence refresher and the HTTP server.
// Holds no state Postgres does not hold; any number of hubs may share one database.
import type { Db } from '@meshcode/db';
import type { AddressInfo } from 'node:net';
import { Signals } from './bus/signals';
import { DeliveredMarks } from './bus/delivered';
import { WaitBatcher } from './bus/wait-batcher';
import { Waiters } from './bus/waiters';
import { routeModules } from './http/routes';
import { buildServer } from './http/server';
import { Pipeline, type PipelineOptions } from './pipeline/service';
import { dbActivityMark, Feeds } from './realtime/feeds';
import { startPruner } from './retention';
import { RpcExecutor } from './rpc';

export const HUB_VERSION = '0.1.0';
const PRESENCE_REFRESH_MS = 30_000;
const PRUNE_MS = 10 * 60_000;

export interface HubOptions {
  db: Db;
  signup?: 'open' | 'closed';
  /** MESHCODE_PUBLIC_URL: the dashboard origin put in invite and spectator links. */
  publicUrl?: string;
  log?: (line: string) => void;
  /** Webhook pipeline settings (master key, loop interval, API URLs); default from the environment. */
  pipeline?: PipelineOptions;
  /**
   * How often the hub prunes what projects keep for a limited time (mc_retention); default every 10 minutes, and once
   * soon after start. null: never (another hub on the same database does it).
   */
  pruneIntervalMs?: number | null;
}

export interface Hub {
  readonly waiters: Waiters;
  readonly delivered: DeliveredMarks;
  readonly feeds: Feeds;
  readonly signals: Signals;
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export async function createHub(opts: HubOptions): Promise<Hub> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const waiters = new Waiters();
  const feeds = new Feeds(dbActivityMark(opts.db));
  // A credential may have ended (or, after missed notifications, may have): held waits and live feeds re-check theirs
  // now, not at their next read.
  const recheckAll = () => {
    waiters.revoke();
    feeds.pokeAll();
  };
  const signals = new Signals(
    opts.db,
    {
      wake: (ids, deliver) => waiters.wake(ids, deliver),
      changed: (ids) => feeds.changed(ids),
      revoked: recheckAll,
      // A revocation may have been among the missed notifications; so may a change a feed did not hear of.
      resync: recheckAll,
    },
    (err) => log(`hub: cross-hub signal failed: ${err instanceof Error ? err.message : String(err)}`),
  );
  await signals.start();
  const rpc = new RpcExecutor(opts.db, signals, log);
  const batcher = new WaitBatcher(opts.db, signals);
  const delivered = new DeliveredMarks(opts.db, signals, log);
  const shutdown = new AbortController();
  const pipeline = new Pipeline(
    { db: opts.db, publish: (notes) => signals.publish(notes), log, claims: waiters },
    opts.pipeline,
  );
  const app = buildServer({
    db: opts.db,
    rpc,
    waiters,
    batcher,
    delivered,
    feeds,
    signup: opts.signup ?? 'open',
    publicUrl: opts.publicUrl,
    version: HUB_VERSION,
    shutdown: shutdown.signal,
    log,
    routes: routeModules,
    pipeline,
  });

  const presence = setInterval(() => {
    const held = waiters.heldAgents();
    if (held.length === 0) return;
    opts.db.query('select mesh.touch_agents($1::uuid[])', [held]).catch((err: unknown) => {
      log(`hub: presence refresh failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }, PRESENCE_REFRESH_MS);
  presence.unref();
  const pruner = opts.pruneIntervalMs === null ? null : startPruner(opts.db, opts.pruneIntervalMs ?? PRUNE_MS, log);
  pipeline.start();

  return {
    waiters,
    delivered,
    feeds,
    signals,
    async listen(port, host = '127.0.0.1') {
      // Every agent reconnects at once after a hub restart: a deep accept queue keeps SYNs from being dropped.
      await app.listen({ port, host, backlog: 4096 });
      const addr = app.server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      return `http://${shownHost}:${addr.port}`;
    },
    async close() {
      clearInterval(presence);
      await pruner?.stop();
      await pipeline.stop();
      shutdown.abort();
      feeds.closeAll();
      // Long-polls answered during close, and sockets whose clients gave up mid-request, would hold close() until
      // keepAliveTimeout: reap idle sockets as they appear, and cut whatever is left after a short grace.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      const cut = setTimeout(() => app.server.closeAllConnections(), 2_000);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
        clearTimeout(cut);
      }
      await delivered.settled();
      await signals.stop();
    },
  };
}
