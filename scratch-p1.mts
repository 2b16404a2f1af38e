import { PGlite } from '@electric-sql/pglite';
let t = Date.now();
const pg = await PGlite.create();
console.log('boot', Date.now() - t);
const r = await pg.query(`select 1::int8 as a, 9007199254740993::int8 as b, now() as c, now()::timestamp as d, 1.5::numeric as e, '{"x":1}'::jsonb as f, current_date as g, current_user as u`);
console.log(r.rows, r.fields);
try { await pg.query('select 1/0'); } catch (e: any) { console.log(e.constructor.name, Object.keys(e), e.code, e.message, e.detail, e.hint, e.severity); }
try { await pg.query('select raise_it()'); } catch (e: any) { console.log(e.code, e.message); }
try { await pg.exec(`do $$ begin raise exception using errcode='PT401', message='nope', detail='d', hint='h'; end $$`); } catch (e: any) { console.log(e.code, e.message, e.detail, e.hint); }
await pg.exec('create role anon nologin; create role authenticated nologin; grant anon to postgres');
const r2 = await pg.transaction(async (tx) => { await tx.query('set local role authenticated'); await tx.query(`select set_config('request.jwt.claims', $1, true)`, ['{"sub":"x"}']); return (await tx.query(`select current_user, current_setting('request.jwt.claims', true) c`)).rows; });
console.log(r2, (await pg.query('select current_user')).rows);
const got: string[] = [];
const un = await pg.listen('chan', (p) => got.push(p));
await pg.query(`select pg_notify('chan', 'hello')`);
await new Promise(r => setTimeout(r, 50));
console.log('got', got);
await un();
t = Date.now();
const dump = await pg.dumpDataDir('gzip');
console.log('dump', Date.now() - t, dump.size);
t = Date.now();
const pg2 = await PGlite.create({ loadDataDir: dump });
console.log('boot from dump', Date.now() - t, (await pg2.query(`select rolname from pg_roles where rolname='anon'`)).rows);
// deadlock check: query inside transaction from outside
const p = pg.transaction(async (tx) => { await tx.query('select 1'); const inner = await Promise.race([pg.query('select 2').then(()=> 'ok'), new Promise(r => setTimeout(() => r('timeout'), 500))]); return inner; });
console.log('inner query within tx', await p);
console.log(process.memoryUsage().rss/1e6);
