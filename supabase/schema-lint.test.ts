// Catalog lint of the migrated schema on both backends, plus a self-test proving every rule fires.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { expect, it } from 'vitest';
import { describeBackends, formatViolations, lintSchema, type LintViolation } from '@meshcode/db/testing';

// Each entry names a function anon may execute and says why (a sentence a reviewer can check).
const allowlist = z
  .array(z.object({ function: z.string().min(1), why: z.string().min(40) }))
  .parse(JSON.parse(readFileSync(new URL('./anon-allowlist.json', import.meta.url), 'utf8')))
  .map((entry) => entry.function);

class Rollback extends Error {}

// Deliberately wrong objects (and correct twins that must pass), created in a transaction that is rolled back.
// Grants are explicit so that default privileges (Supabase grants new functions to the API roles) change nothing.
const BAD_SCHEMA = `
  create table public.zz_lint_norls (id int);
  create table mesh.zz_lint_norls_mesh (id int);
  create table public.zz_lint_good_table (id int);
  alter table public.zz_lint_good_table enable row level security;

  create function public.zz_lint_definer() returns int language sql security definer as 'select 1';
  revoke all on function public.zz_lint_definer() from authenticated, service_role;
  grant execute on function public.zz_lint_definer() to public;
  create function mesh.zz_lint_mesh_definer() returns int language sql security definer as 'select 1';
  grant execute on function mesh.zz_lint_mesh_definer() to public;
  create function public.zz_lint_anon() returns int language sql set search_path = '' as 'select 1';
  revoke all on function public.zz_lint_anon() from public;
  grant execute on function public.zz_lint_anon() to anon;
  create function public.zz_lint_allowed() returns int language sql set search_path = '' as 'select 1';
  grant execute on function public.zz_lint_allowed() to public;
  create function public.zz_lint_good_fn() returns int language sql security definer set search_path = '' as 'select 1';
  revoke all on function public.zz_lint_good_fn() from public, anon;
  grant execute on function public.zz_lint_good_fn() to authenticated;

  create table public.zz_lint_pol (owner uuid);
  alter table public.zz_lint_pol enable row level security;
  create policy "bad policy" on public.zz_lint_pol for select to authenticated using (owner = auth.uid());
  create policy "good policy" on public.zz_lint_pol for update to authenticated
    using (owner = (select auth.uid())) with check (owner = (select auth.uid()));

  create view public.zz_lint_view as select 1 as x;
  create view public.zz_lint_good_view with (security_invoker = true) as select 1 as x;
`;

const pairs = (vs: readonly LintViolation[]): string[] => vs.map((v) => `${v.rule} ${v.object}`);

describeBackends('schema lint', (getDb, backend) => {
  it('finds nothing wrong in the migrated schema', async () => {
    const violations = await lintSchema(getDb(), { anonAllowlist: allowlist });
    if (violations.length > 0) {
      expect.fail(`${violations.length} schema lint violation(s):\n${formatViolations(violations)}`);
    }
  });

  it('fires every rule on a deliberately bad schema (self-test, rolled back)', async () => {
    let found: LintViolation[] = [];
    await getDb()
      .transaction(async (tx) => {
        await tx.exec(BAD_SCHEMA);
        found = await lintSchema(tx, { anonAllowlist: [...allowlist, 'zz_lint_allowed'] });
        throw new Rollback();
      })
      .catch((e: unknown) => {
        if (!(e instanceof Rollback)) throw e;
      });
    const mine = pairs(found).filter((p) => p.includes('zz_lint'));
    expect(mine.sort()).toEqual(
      [
        'rls_disabled public.zz_lint_norls',
        'rls_disabled mesh.zz_lint_norls_mesh',
        'definer_mutable_search_path public.zz_lint_definer()',
        'definer_mutable_search_path mesh.zz_lint_mesh_definer()',
        'definer_public_execute public.zz_lint_definer()',
        'definer_public_execute mesh.zz_lint_mesh_definer()',
        'anon_executable public.zz_lint_definer()',
        'anon_executable public.zz_lint_anon()',
        'definer_not_granted public.zz_lint_definer()',
        'policy_bare_auth_call policy "bad policy" on public.zz_lint_pol',
        'view_security_definer public.zz_lint_view',
      ].sort(),
    );
    const left = await getDb().query(`select to_regclass('public.zz_lint_norls') as t`);
    expect(left.rows).toEqual([{ t: null }]);
  });

  if (backend === 'pglite') {
    // Roles are cluster-wide on PostgreSQL, so only the private PGlite instance renames one, and only inside a rollback.
    it('reports a missing API role', async () => {
      let found: LintViolation[] = [];
      await getDb()
        .transaction(async (tx) => {
          await tx.exec('alter role service_role rename to zz_lint_renamed');
          found = await lintSchema(tx, { anonAllowlist: allowlist });
          throw new Rollback();
        })
        .catch((e: unknown) => {
          if (!(e instanceof Rollback)) throw e;
        });
      expect(pairs(found)).toContain('missing_api_role role service_role');
    });
  }
});
