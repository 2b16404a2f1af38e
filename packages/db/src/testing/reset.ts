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
  await db.exec(`truncate table ${r.rows.map((row) => row.t).join(', ')} restart identity cascade`);
}
