// The database's environment: DATABASE_URL (PostgreSQL / Supabase) and MESHCODE_HOME (where PGlite keeps its data).
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const emptyAsUnset = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

export const dbEnvSchema = z.object({
  DATABASE_URL: z.preprocess(
    emptyAsUnset,
    z
      .string()
      .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v) && URL.canParse(v), {
        message: 'must be a postgres:// or postgresql:// URL, e.g. postgres://user:pass@localhost:5432/meshcode',
      })
      .optional(),
  ),
  MESHCODE_HOME: z.preprocess(
    emptyAsUnset,
    z
      .string()
      .default('~/.meshcode')
      .transform((v) => (v === '~' || v.startsWith('~/') ? join(homedir(), v.slice(1)) : resolve(v))),
  ),
});

export type DbEnv = z.infer<typeof dbEnvSchema>;

/** Where embedded PGlite keeps its data under MESHCODE_HOME. */
export const pgliteDataDir = (env: DbEnv): string => join(env.MESHCODE_HOME, 'pglite');

/** Parse once at start. A bad value throws one sentence naming the variable. */
export function loadDbEnv(env: Record<string, string | undefined> = process.env): DbEnv {
  const parsed = dbEnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = String(issue?.path[0] ?? 'environment');
  // Never echo the value: a DATABASE_URL carries a password.
  throw new Error(`${name} ${issue?.message ?? 'is invalid'}.`);
}
