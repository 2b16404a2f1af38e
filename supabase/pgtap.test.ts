// Runs every supabase/tests/*.sql pgTAP file with psql against its own clone of the migrated template.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, databaseUrl, dropDatabase, pgCluster, runPgTapFile, uniqueName } from '@meshcode/db/testing';

const testsDir = fileURLToPath(new URL('./tests/', import.meta.url));
const files = readdirSync(testsDir)
  .filter((n) => n.endsWith('.sql'))
  .sort();

async function sql(database: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(database) });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

describe('pgTAP (supabase/tests)', () => {
  let base = '';

  beforeAll(async () => {
    base = await createDatabase({ name: uniqueName('pgtap_base') });
    try {
      await sql(
        base,
        `create schema if not exists extensions;
         create extension if not exists pgtap with schema extensions;
         grant usage on schema extensions to anon, authenticated, service_role;
         grant execute on all functions in schema extensions to anon, authenticated, service_role;`,
      );
    } catch (e) {
      if (
        /pgtap/i.test((e as Error).message) &&
        /control file|not available|could not open/i.test((e as Error).message)
      ) {
        throw new Error(
          'The pgTAP extension is not installed for the test cluster; apt-get install postgresql-15-pgtap.',
          {
            cause: e,
          },
        );
      }
      throw e;
    }
  });
  afterAll(async () => {
    if (base) await dropDatabase(base);
  });

  it('has pgTAP files to run', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(file, async () => {
      const database = await createDatabase({ template: base });
      try {
        // Like Supabase, where extensions sits on every session's search_path (settings are not cloned).
        await sql(database, `alter database "${database}" set search_path = "$user", public, extensions`);
        const result = await runPgTapFile(pgCluster(), database, join(testsDir, file));
        const problems = [...result.problems, ...result.failures];
        if (problems.length > 0) {
          expect.fail(
            `${file}: ${result.failures.length} of ${result.planned ?? '?'} assertions failed\n${problems.join('\n')}`,
          );
        }
        expect(result.passed).toBe(result.planned);
      } finally {
        await dropDatabase(database);
      }
    });
  }
});
