// Catalog checks for the security model (ARCHITECTURE §3, §5): what splinter would flag, made strict.
import type { Queryable } from '../types';

export type LintRule =
  | 'rls_disabled'
  | 'definer_mutable_search_path'
  | 'policy_bare_auth_call'
  | 'anon_executable'
  | 'definer_public_execute'
  | 'definer_not_granted'
  | 'view_security_definer'
  | 'missing_api_role';

export interface LintViolation {
  rule: LintRule;
  /** The offending object, e.g. `public.mc_send(uuid, text)` or `policy "x" on mesh.agents`. */
  object: string;
  message: string;
}

const EXPOSED = ['public', 'mesh'];
const DEFINER_SCHEMAS = ['public', 'mesh', 'auth'];
const API_ROLES = ['anon', 'authenticated', 'service_role'];

/** Replace the text of SQL string literals with spaces so that only code is searched. */
function blankLiterals(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, (m) => `'${' '.repeat(m.length - 2)}'`);
}

/**
 * Calls in a policy expression that Postgres would run once per row: auth.uid()/jwt()/role()/email() or
 * current_setting() not directly under a `SELECT` (PG prints the wrapped form as `( SELECT auth.uid() AS uid)`).
 */
export function bareAuthCalls(expr: string): string[] {
  const code = blankLiterals(expr);
  const found: string[] = [];
  for (const m of code.matchAll(/\b(auth\s*\.\s*(?:uid|jwt|role|email)|current_setting)\s*\(/gi)) {
    const before = code.slice(0, m.index);
    if (!/\bSELECT\s+(?:\(\s*)*$/i.test(before)) found.push(`${m[1]?.replace(/\s+/g, '')}()`);
  }
  return found;
}

interface FnRow {
  schema: string;
  name: string;
  signature: string;
  definer: boolean;
  config: string[] | null;
  public_exec: boolean;
  anon_exec: boolean | null;
  granted_to_api: boolean;
}

/** Every violation in the current database; `anonAllowlist` holds `name` or `name(identity args)` entries. */
export async function lintSchema(
  q: Queryable,
  opts: { anonAllowlist?: readonly string[] } = {},
): Promise<LintViolation[]> {
  const out: LintViolation[] = [];
  const allow = new Set(opts.anonAllowlist ?? []);

  const roles = await q.query<{ rolname: string }>('select rolname from pg_catalog.pg_roles where rolname = any ($1)', [
    API_ROLES,
  ]);
  const present = new Set(roles.rows.map((r) => r.rolname));
  for (const role of API_ROLES) {
    if (!present.has(role)) {
      out.push({
        rule: 'missing_api_role',
        object: `role ${role}`,
        message: `role ${role} does not exist (the shim creates it)`,
      });
    }
  }

  const tables = await q.query<{ t: string }>(
    `select pg_catalog.format('%I.%I', n.nspname, c.relname) as t
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any ($1) and c.relkind in ('r', 'p') and not c.relrowsecurity
        and not exists (select 1 from pg_catalog.pg_depend d
                         where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
      order by 1`,
    [EXPOSED],
  );
  for (const { t } of tables.rows) {
    out.push({ rule: 'rls_disabled', object: t, message: `table ${t} does not have row level security enabled` });
  }

  const views = await q.query<{ v: string }>(
    `select pg_catalog.format('%I.%I', n.nspname, c.relname) as v
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('v', 'm')
        and not coalesce(c.reloptions && array['security_invoker=true', 'security_invoker=on', 'security_invoker=1'], false)
        and not exists (select 1 from pg_catalog.pg_depend d
                         where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
      order by 1`,
  );
  for (const { v } of views.rows) {
    out.push({
      rule: 'view_security_definer',
      object: v,
      message: `view ${v} runs with its owner's rights and bypasses RLS (create it with security_invoker = true)`,
    });
  }

  const fns = await q.query<FnRow>(
    `select n.nspname as schema, p.proname as name,
            pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) as signature,
            p.prosecdef as definer, p.proconfig as config,
            (p.proacl is null or exists (select 1 from pg_catalog.aclexplode(p.proacl) a
                                          where a.grantee = 0 and a.privilege_type = 'EXECUTE')) as public_exec,
            case when exists (select 1 from pg_catalog.pg_roles where rolname = 'anon')
                 then pg_catalog.has_function_privilege('anon', p.oid, 'EXECUTE') end as anon_exec,
            exists (select 1 from pg_catalog.aclexplode(p.proacl) a join pg_catalog.pg_roles r on r.oid = a.grantee
                     where r.rolname in ('authenticated', 'service_role') and a.privilege_type = 'EXECUTE') as granted_to_api
       from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname = any ($1) and p.prokind in ('f', 'p')
        and not exists (select 1 from pg_catalog.pg_depend d
                         where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
      order by 3`,
    [DEFINER_SCHEMAS],
  );
  for (const f of fns.rows) {
    const shortSig = f.signature.slice(f.schema.length + 1);
    if (f.definer && !(f.config ?? []).some((c) => c.startsWith('search_path='))) {
      out.push({
        rule: 'definer_mutable_search_path',
        object: f.signature,
        message: `SECURITY DEFINER function ${f.signature} has no fixed search_path (add set search_path = '')`,
      });
    }
    if (f.definer && f.public_exec) {
      out.push({
        rule: 'definer_public_execute',
        object: f.signature,
        message: `SECURITY DEFINER function ${f.signature} is executable by PUBLIC (revoke execute ... from public)`,
      });
    }
    if (f.schema !== 'public') continue;
    if ((f.public_exec || f.anon_exec) && !allow.has(f.name) && !allow.has(shortSig)) {
      out.push({
        rule: 'anon_executable',
        object: f.signature,
        message: `function ${f.signature} is executable by ${f.public_exec ? 'PUBLIC' : 'anon'} but is not in supabase/anon-allowlist.json`,
      });
    }
    if (f.definer && !f.granted_to_api) {
      out.push({
        rule: 'definer_not_granted',
        object: f.signature,
        message: `SECURITY DEFINER function ${f.signature} is granted to neither authenticated nor service_role`,
      });
    }
  }

  const policies = await q.query<{
    schemaname: string;
    tablename: string;
    policyname: string;
    qual: string | null;
    with_check: string | null;
  }>(
    `select schemaname, tablename, policyname, qual, with_check from pg_catalog.pg_policies
      where schemaname not in ('pg_catalog', 'information_schema') order by 1, 2, 3`,
  );
  for (const p of policies.rows) {
    const bare = [...bareAuthCalls(p.qual ?? ''), ...bareAuthCalls(p.with_check ?? '')];
    if (bare.length === 0) continue;
    const object = `policy "${p.policyname}" on ${p.schemaname}.${p.tablename}`;
    out.push({
      rule: 'policy_bare_auth_call',
      object,
      message: `${object} calls ${[...new Set(bare)].join(', ')} once per row; wrap it as (select ${bare[0]})`,
    });
  }
  return out;
}

/** One line per violation, for a test failure message. */
export function formatViolations(violations: readonly LintViolation[]): string {
  return violations.map((v) => `  [${v.rule}] ${v.message}`).join('\n');
}
