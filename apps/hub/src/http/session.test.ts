// Dashboard login over real HTTP: one-time links consumed only by POST, the httpOnly cookie, cookie-authenticated
// RPC and SSE with the CSRF check, logout, and sessions dying with their key — on PGlite and PostgreSQL.
import { expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { newAccount, newMesh, useTestHub } from '../testing/hub-fixture';
import { CSRF_HEADER, SESSION_COOKIE } from './session';

describeBackends('dashboard sessions', (getDb) => {
  const hub = useTestHub(getDb);

  async function loginLink(key: string): Promise<Response> {
    return fetch(`${hub.url}/auth/v1/login-link`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
  }

  async function openSession(body: Record<string, string>, headers: Record<string, string> = { [CSRF_HEADER]: '1' }) {
    return fetch(`${hub.url}/auth/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  function cookieOf(res: Response): string {
    const set = res.headers.get('set-cookie') ?? '';
    const m = new RegExp(`${SESSION_COOKIE}=([^;]*)`).exec(set);
    if (!m?.[1]) throw new Error(`no session cookie in ${JSON.stringify(set)}`);
    return `${SESSION_COOKIE}=${m[1]}`;
  }

  async function rpcWithCookie(
    cookie: string,
    fn: string,
    args: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    return fetch(`${hub.url}/rest/v1/rpc/${fn}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, [CSRF_HEADER]: '1', ...headers },
      body: JSON.stringify(args),
    });
  }

  async function linkSession(key: string): Promise<string> {
    const link = (await (await loginLink(key)).json()) as { url: string };
    const token = link.url.split('/login/')[1] ?? '';
    return cookieOf(await openSession({ link_token: token }));
  }

  it('logs in once with a link: a GET of the link consumes nothing, the POST sets an httpOnly strict cookie', async () => {
    const a = await newAccount(hub.url, 'ada');
    const res = await loginLink(a.key);
    expect(res.status).toBe(201);
    const { url, expires_at } = (await res.json()) as { url: string; expires_at: string };
    expect(url).toMatch(new RegExp(`^${hub.url}/login/mcl_[A-Za-z0-9_-]{43}$`));
    const minutes = (Date.parse(expires_at) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(9);
    expect(minutes).toBeLessThanOrEqual(10);

    // A link previewer fetching the URL gets a page, and the link still works afterwards.
    await fetch(url);
    await fetch(url, { method: 'HEAD' });
    const token = url.split('/login/')[1] ?? '';
    const login = await openSession({ link_token: token });
    expect(login.status).toBe(200);
    expect(await login.json()).toMatchObject({ account: { email: a.email } });
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^mc_session=mcs_[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain('Secure');

    const again = await openSession({ link_token: token });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { message: string }).message).toBe('this login link was already used');

    const who = await fetch(`${hub.url}/auth/v1/session`, { headers: { cookie: cookieOf(login) } });
    expect(who.status).toBe(200);
    expect(await who.json()).toMatchObject({ account: { email: a.email }, key: { scope: 'owner' } });
  });

  it('refuses expired, unknown and scoped-key links with one sentence each', async () => {
    const owner = await newMesh(hub.url, 'demo', ['backend']);
    const link = (await (await loginLink(owner.key)).json()) as { url: string };
    await getDb().query(`update mesh.login_links set expires_at = now() - interval '1 second'`);
    const expired = await openSession({ link_token: link.url.split('/login/')[1] ?? '' });
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { message: string }).message).toBe(
      'this login link has expired (links last 10 minutes)',
    );

    const unknown = await openSession({ link_token: 'mcl_nothing' });
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { message: string }).message).toBe('this login link is not valid');

    const scoped = await owner.client.createKey('demo', 'backend');
    const refused = await loginLink(scoped.key);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toContain(
      'only an account key can open the dashboard',
    );
    const viaKey = await openSession({ api_key: scoped.key });
    expect(viaKey.status).toBe(403);

    const anonymous = await fetch(`${hub.url}/auth/v1/login-link`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
  });

  it('opens a session from an API key, and needs the CSRF header to do so', async () => {
    const a = await newAccount(hub.url);
    const withoutHeader = await openSession({ api_key: a.key }, {});
    expect(withoutHeader.status).toBe(403);
    const bad = await openSession({ api_key: 'mc_wrong' });
    expect(bad.status).toBe(401);
    const ok = await openSession({ api_key: a.key });
    expect(ok.status).toBe(200);
    const cookie = cookieOf(ok);
    const list = await rpcWithCookie(cookie, 'mc_list_meshworks');
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual([]);
  });

  it('authenticates RPC by cookie only with the CSRF header and a same-origin Origin; the overseer can post', async () => {
    const owner = await newMesh(hub.url, 'demo', ['backend']);
    const cookie = await linkSession(owner.key);

    const sent = await rpcWithCookie(cookie, 'mc_send', {
      p_meshwork: 'demo',
      p_to: 'backend',
      p_body: 'hello from the dashboard',
    });
    expect(sent.status).toBe(200);
    const history = await owner.client.history('demo');
    expect(history[0]).toMatchObject({ from: 'overseer', to: 'backend', body: 'hello from the dashboard' });

    const noHeader = await fetch(`${hub.url}/rest/v1/rpc/mc_list_meshworks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: '{}',
    });
    expect(noHeader.status).toBe(403);
    expect(((await noHeader.json()) as { code: string }).code).toBe('csrf_refused');

    const otherSite = await rpcWithCookie(cookie, 'mc_list_meshworks', {}, { origin: 'https://evil.example' });
    expect(otherSite.status).toBe(403);
    const crossSite = await rpcWithCookie(cookie, 'mc_list_meshworks', {}, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const sameOrigin = await rpcWithCookie(cookie, 'mc_list_meshworks', {}, { origin: hub.url });
    expect(sameOrigin.status).toBe(200);

    // GET (read-only functions) needs no custom header but still refuses another origin.
    const get = await fetch(`${hub.url}/rest/v1/rpc/mc_status?p_meshwork=demo`, { headers: { cookie } });
    expect(get.status).toBe(200);
    expect(await get.json()).toMatchObject({ meshwork: 'demo' });

    // An Authorization header wins over the cookie (the cookie is then not checked).
    const bearer = await fetch(`${hub.url}/rest/v1/rpc/mc_whoami`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: `${SESSION_COOKIE}=garbage`,
        authorization: `Bearer ${owner.key}`,
      },
      body: '{}',
    });
    expect(bearer.status).toBe(200);
  });

  it('streams the SSE feed to a cookie', async () => {
    const owner = await newMesh(hub.url, 'demo', ['backend']);
    const cookie = await linkSession(owner.key);
    const ac = new AbortController();
    const res = await fetch(`${hub.url}/realtime/v1/meshworks/demo/activity`, {
      headers: { cookie },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: status')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    expect(text).toContain('"meshwork":"demo"');

    const anonymous = await fetch(`${hub.url}/realtime/v1/meshworks/demo/activity`);
    expect(anonymous.status).toBe(401);
  });

  it('ends the session on logout and when its key is revoked', async () => {
    const a = await newAccount(hub.url);
    const cookie = await linkSession(a.key);
    const out = await fetch(`${hub.url}/auth/v1/logout`, { method: 'POST', headers: { cookie, [CSRF_HEADER]: '1' } });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ logged_out: true });
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    const after = await rpcWithCookie(cookie, 'mc_whoami');
    expect(after.status).toBe(401);
    expect(((await after.json()) as { message: string }).message).toContain('your dashboard session has ended');

    const second = await linkSession(a.key);
    expect((await rpcWithCookie(second, 'mc_whoami')).status).toBe(200);
    const who = (await a.client.whoami()) as { key: { id?: string | null } };
    await a.client.revokeKey(who.key.id ?? '');
    const revoked = await rpcWithCookie(second, 'mc_whoami');
    expect(revoked.status).toBe(401);
    const me = await fetch(`${hub.url}/auth/v1/session`, { headers: { cookie: second } });
    expect(me.status).toBe(401);
    expect(me.headers.get('set-cookie')).toContain('Max-Age=0');

    const none = await fetch(`${hub.url}/auth/v1/session`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { message: string }).message).toBe('you are not logged in to the dashboard');
  });

  it('marks the cookie Secure behind HTTPS and builds links on the forwarded origin', async () => {
    const a = await newAccount(hub.url);
    const link = await fetch(`${hub.url}/auth/v1/login-link`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${a.key}`,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'mesh.example.com',
      },
    });
    const { url } = (await link.json()) as { url: string };
    expect(url).toMatch(/^https:\/\/mesh\.example\.com\/login\/mcl_/);
    const res = await openSession(
      { link_token: url.split('/login/')[1] ?? '' },
      { [CSRF_HEADER]: '1', 'x-forwarded-proto': 'https' },
    );
    expect(res.headers.get('set-cookie')).toContain('Secure');
  });
});
