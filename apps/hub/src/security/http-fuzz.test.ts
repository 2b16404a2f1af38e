// Every HTTP route the hub serves (read from Fastify's own route table, so a new route is fuzzed automatically) gets
// malformed paths, queries, headers and bodies from fast-check: the answer is never a 5xx, and a GET never uses up an
// invite.
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { createInvite, inviteInfo, spectate } from '@meshcode/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { routeModules } from '../http/routes';
import { newMesh, startTestHub, type HubFixture, type TestAccount } from '../testing/hub-fixture';

interface Route {
  path: string;
  methods: string[];
}

/** Parse `app.printRoutes({ commonPrefix: false })`: one route per line, indented by nesting. */
export function parseRouteTree(tree: string): Route[] {
  const out: Route[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[└├]── (\S+) \(([^)]+)\)/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    const prefix = stack.join('');
    const path = `${prefix}${m[2]}`;
    stack.push(m[2] === '/' ? '/' : `${m[2]}`);
    out.push({ path: path.startsWith('/') ? path : `/${path}`, methods: (m[3] ?? '').split(', ') });
  }
  return out;
}

// Capture the Fastify instance the hub builds (this file's module registry only).
let captured: FastifyInstance | undefined;
routeModules.push((app) => {
  captured = app;
});

describeBackends('HTTP routes under malformed input', (getDb) => {
  let hub: HubFixture;
  let owner: TestAccount;
  let routes: Route[];
  let inviteToken: string;
  let watchToken: string;

  beforeAll(async () => {
    hub = await startTestHub(getDb());
    routes = parseRouteTree(captured!.printRoutes({ commonPrefix: false }));
    owner = await newMesh(hub.url, 'fuzz', ['a', 'b']);
    inviteToken = (await createInvite(owner.client, { meshwork: 'fuzz', agent: 'guest' })).token;
    watchToken = (await spectate(owner.client, 'fuzz')).token!;
  });
  afterAll(async () => {
    await hub.close();
  });

  it('knows the routes: RPC, auth, realtime, watch and the dashboard pages (join, watch)', () => {
    const paths = routes.map((r) => r.path);
    for (const p of [
      '/rest/v1/rpc/:fn',
      '/auth/v1/signup',
      '/realtime/v1/meshworks/:meshwork/activity',
      '/realtime/v1/watch/:token',
      '/*',
    ]) {
      expect(paths).toContain(p);
    }
  });

  const segment = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom('..', '%2e%2e', '%00', '%ff', 'mc_inv_x', 'demo', 'fuzz', ' ', '%', '%25', 'a'.repeat(300)),
  );
  const headerValue = fc.oneof(
    fc.string({ maxLength: 80 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    fc.constantFrom('Bearer', 'Bearer ', 'Bearer mc_x', 'Basic Zm9vOmJhcg==', `Bearer ${'x'.repeat(600)}`, 'mc_'),
  );
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.constantFrom('{', '{"p_token":', '[]', 'null', '"x"', '{"email":1}', '{"p_meshwork":{"$ne":1}}', '\u0000'),
  );

  function fill(path: string, values: string[]): string {
    let i = 0;
    return path
      .replace(/\*$/, () => values[i++] ?? 'x')
      .replace(/:[a-z]+/gi, () => encodeURIComponent(values[i++] ?? 'x'));
  }

  it('never answers a 5xx (property-based, every route and method)', async () => {
    const targets = routes.flatMap((r) => r.methods.filter((m) => m !== 'HEAD').map((m) => ({ ...r, method: m })));
    // The dashboard's token pages are served by the catch-all; fuzz them by name too.
    targets.push({ path: '/join/:token', methods: ['GET'], method: 'GET' });
    targets.push({ path: '/watch/:token', methods: ['GET'], method: 'GET' });
    const failures: string[] = [];
    const answered = new Map<number, number>();
    let refusedLocally = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets),
        fc.array(segment, { minLength: 3, maxLength: 3 }),
        fc.dictionary(fc.constantFrom('after', 'p_token', 'p_meshwork', 'x'), fc.string({ maxLength: 30 })),
        fc.record(
          {
            authorization: fc.oneof(headerValue, fc.constant(`Bearer ${owner.key}`)),
            apikey: headerValue,
            'content-type': fc.oneof(
              { arbitrary: fc.constant('application/json'), weight: 4 },
              fc.constantFrom(
                'application/json; charset=latin1',
                'text/plain',
                'application/x-www-form-urlencoded',
                '',
              ),
            ),
            'last-event-id': headerValue,
            cookie: headerValue,
            origin: headerValue,
            'x-forwarded-host': headerValue,
          },
          { requiredKeys: [] },
        ),
        body,
        async (target, values, query, headers, payload) => {
          // Appended to the origin, not resolved against it: a path such as "//x" is a path here, not another host.
          const url = new URL(`${hub.url}${fill(target.path, values)}`);
          for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
          const ac = new AbortController();
          const init: RequestInit = {
            method: target.method,
            headers: headers as Record<string, string>,
            signal: ac.signal,
          };
          if (target.method !== 'GET') init.body = payload;
          let status: number;
          let text = '';
          try {
            const res = await fetch(url, init);
            status = res.status;
            // A stream that opened is live until closed: its status is all we need.
            if (res.headers.get('content-type')?.includes('text/event-stream')) ac.abort();
            else text = await res.text();
          } catch (err) {
            // fetch refuses some header values locally; that is not the hub's answer.
            if (err instanceof TypeError && !String(err.cause ?? '').includes('ECONN')) {
              refusedLocally += 1;
              return;
            }
            throw err;
          }
          answered.set(status, (answered.get(status) ?? 0) + 1);
          if (status >= 500)
            failures.push(`${target.method} ${url.pathname}${url.search} -> ${status} ${text.slice(0, 200)}`);
        },
      ),
      { numRuns: 400 },
    );
    expect(failures).toEqual([]);
    // The inputs reached the hub (fetch refuses only a few header values itself) and met more than one answer.
    expect(refusedLocally).toBeLessThan(100);
    expect(answered.size).toBeGreaterThan(3);
  }, 300_000);

  it('a GET on the join page, the join RPC or the watch stream never uses up an invite', async () => {
    await fetch(`${hub.url}/join/${inviteToken}`).then((r) => r.arrayBuffer());
    const viaGet = await fetch(`${hub.url}/rest/v1/rpc/mc_redeem_invite?p_token=${inviteToken}&p_display_name=x`);
    expect(viaGet.status).toBe(405);
    const watch = await fetch(`${hub.url}/realtime/v1/watch/${inviteToken}`);
    expect(watch.status).toBe(404);
    expect(await inviteInfo(hub.url, inviteToken)).toMatchObject({ state: 'active', uses_left: 1 });
    expect(watchToken).toMatch(/^mc_watch_/);
  });
});
