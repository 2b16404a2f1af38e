// Opens the database (embedded PGlite under MESHCODE_HOME, or DATABASE_URL), applies migrations, starts a hub.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, openDb, type Db } from '@meshcode/db';
import type { HubEnv } from './env';
import { createHub, type Hub } from './hub';

export interface RunningHub {
  url: string;
  hub: Hub;
  database: 'pglite' | 'postgres';
  close(): Promise<void>;
}

/**
 * Activity ids a feed may have sent that a crash then lost. With the embedded database the hub's crash is the
 * database's, and commits made with synchronous_commit off (acknowledgements, presence, notes) in the moment before it
 * are lost with it (@meshcode/db flushes them every 200 ms, as PostgreSQL's WAL writer does); the activity rows they
 * wrote go, and their ids would be handed out again. A live feed had already sent them, and a client resuming from
 * such an id would skip the new rows under it. So every embedded start moves the ids on by far more than a moment's
 * rows. In a transaction with an id, so that its commit flushes the move at once.
 */
export const ACTIVITY_ID_SKIP = 10_000;

async function skipActivityIds(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `select pg_catalog.txid_current(),
              pg_catalog.setval(s.seq, pg_catalog.nextval(s.seq) + $1)
         from (select pg_catalog.pg_get_serial_sequence('mesh.activity', 'id') as seq) s`,
      [ACTIVITY_ID_SKIP],
    );
  });
}

export async function startHub(
  env: HubEnv,
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): Promise<RunningHub> {
  let dataDir: string | undefined;
  if (!env.databaseUrl) {
    dataDir = env.dataDir ?? join(env.home, 'data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  }
  const db = await openDb({ databaseUrl: env.databaseUrl, dataDir, poolSize: env.poolSize });
  try {
    await migrate(db);
    if (db.kind === 'pglite') await skipActivityIds(db);
    const hub = await createHub({ db, signup: env.signup, publicUrl: env.publicUrl, log });
    const url = await hub.listen(env.port, env.host);
    return {
      url,
      hub,
      database: db.kind,
      async close() {
        await hub.close();
        await db.close();
      },
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
