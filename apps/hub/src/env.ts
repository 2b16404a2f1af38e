// The hub's configuration, parsed once at start. A bad value stops the process with one sentence naming it.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(7700),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  MESHCODE_HOME: z.string().min(1).optional(),
  MESHCODE_SIGNUP: z.enum(['open', 'closed']).default('open'),
  MESHCODE_PUBLIC_URL: z.string().url().optional(),
  MESHCODE_DB_POOL: z.coerce.number().int().min(1).max(200).default(10),
});

export interface HubEnv {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  home: string;
  signup: 'open' | 'closed';
  publicUrl: string | undefined;
  poolSize: number;
  /** Embedded database directory (default: MESHCODE_HOME/data). */
  dataDir?: string;
}

export class EnvError extends Error {}

export function loadHubEnv(env: NodeJS.ProcessEnv = process.env): HubEnv {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new EnvError(`${name} ${issue?.message ?? 'is invalid'} (got ${JSON.stringify(env[name] ?? '')})`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    home: e.MESHCODE_HOME ?? join(homedir(), '.meshcode'),
    signup: e.MESHCODE_SIGNUP,
    publicUrl: e.MESHCODE_PUBLIC_URL,
    poolSize: e.MESHCODE_DB_POOL,
  };
}
