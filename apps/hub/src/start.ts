// Opens the database (embedded PGlite under MESHCODE_HOME, or DATABASE_URL), applies migrations, starts a hub.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, openDb } from '@meshcode/db';
import type { HubEnv } from './env';
import { createHub, type Hub } from './hub';

export interface RunningHub {
  url: string;
  hub: Hub;
  database: 'pglite' | 'postgres';
  close(): Promise<void>;
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
