import type { Queryable } from '../types';

/**
 * Empty every table in schema `mesh` (restart identity, cascade) so tests sharing one database start clean.
 * Rows the migrations seeded are emptied too: list such tables in `keep`.
 */
export async function resetState(db: Queryable, opts: { keep?: string[] } = {}): Promise<void> {
  const r = await db.query<{ t: string }>(
    `select pg_catalog.format('%I.%I', n.nspname, c.relname) as t
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'mesh' and c.relkind in ('r', 'p') and not c.relispartition
        and c.relname <> 'ledger' and not (c.relname = any ($1::text[]))
      order by 1`,
    [opts.keep ?? []],
  );
  if (r.rows.length === 0) return;
  const sql = `truncate table ${r.rows.map((row) => row.t).join(', ')} restart identity cascade`;
  // A hub under test may have background work (presence refresh, the pipeline's loop) touching these tables; TRUNCATE
  // takes its locks table by table, so it can lose a deadlock to them. Postgres aborts one side: retry ours.
  for (let attempt = 1; ; attempt++) {
    try {
      await db.exec(sql);
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== '40P01' || attempt >= 5) throw e;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}
