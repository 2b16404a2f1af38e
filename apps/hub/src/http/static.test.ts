// The dashboard's static files over real HTTP from a temporary export directory.
import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerStatic } from './static';

const BIG_JS = `console.log(${JSON.stringify('x'.repeat(5000))});`;

async function serve(dir: string): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ code: 'PGRST125', message: `no route ${req.method} ${req.url}` }),
  );
  app.get('/health', async () => ({ ok: true }));
  registerStatic(app, dir);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url };
}

describe('dashboard static files', () => {
  let dir: string;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshcode-static-'));
    await mkdir(join(dir, '_next/static/chunks'), { recursive: true });
    await mkdir(join(dir, 'projects'), { recursive: true });
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>home</title>');
    await writeFile(join(dir, 'login.html'), '<!doctype html><title>login</title>');
    await writeFile(join(dir, 'projects.html'), '<!doctype html><title>projects</title>');
    await writeFile(join(dir, 'projects/__next.segment.txt'), 'rsc payload');
    await writeFile(join(dir, 'project.txt'), 'rsc');
    await writeFile(join(dir, '404.html'), '<!doctype html><title>not found</title>');
    await writeFile(join(dir, '_next/static/chunks/app-0a1b2c.js'), BIG_JS);
    await writeFile(join(dir, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    ({ app, url } = await serve(dir));
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves pages with their type, no-cache and headers that keep tokens out of referrers and frames', async () => {
    const home = await fetch(`${url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(home.headers.get('cache-control')).toBe('no-cache');
    expect(home.headers.get('referrer-policy')).toBe('no-referrer');
    expect(home.headers.get('x-frame-options')).toBe('DENY');
    expect(await home.text()).toContain('<title>home</title>');

    const projects = await fetch(`${url}/projects?x=1`);
    expect(await projects.text()).toContain('<title>projects</title>');
    const segment = await fetch(`${url}/projects/__next.segment.txt`);
    expect(segment.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await segment.text()).toBe('rsc payload');
    const svg = await fetch(`${url}/icon.svg`);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
  });

  it('serves the login page for /login/<token> and leaves other prefixes without a page to 404', async () => {
    const res = await fetch(`${url}/login/mcl_abcDEF123`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>login</title>');
    const join = await fetch(`${url}/join/mc_inv_x`);
    expect(join.status).toBe(404);
  });

  it('caches hashed assets for a year, answers ETag revalidation with 304, and compresses', async () => {
    const plain = await request(`${url}/_next/static/chunks/app-0a1b2c.js`);
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(await plain.body.text()).toBe(BIG_JS);
    const etag = String(plain.headers.etag);

    const again = await request(`${url}/_next/static/chunks/app-0a1b2c.js`, { headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    await again.body.dump();

    const br = await request(`${url}/_next/static/chunks/app-0a1b2c.js`, {
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('accept-encoding');
    expect(brotliDecompressSync(Buffer.from(await br.body.arrayBuffer())).toString()).toBe(BIG_JS);
    const gz = await request(`${url}/_next/static/chunks/app-0a1b2c.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gz.body.arrayBuffer())).toString()).toBe(BIG_JS);
  });

  it('notices a rebuilt file', async () => {
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>home v2</title>');
    const later = new Date(Date.now() + 5000);
    await utimes(join(dir, 'index.html'), later, later);
    expect(await (await fetch(`${url}/`)).text()).toContain('home v2');
  });

  it('answers unknown pages with the 404 page, refuses traversal, and leaves API paths to the API', async () => {
    const missing = await fetch(`${url}/no/such/page`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('<title>not found</title>');
    const traversal = await request(`${url}/..%2f..%2f..%2fetc%2fpasswd`);
    expect(traversal.statusCode).toBe(404);
    expect(await traversal.body.text()).not.toContain('root:');
    const api = await fetch(`${url}/rest/v1/nothing`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ code: 'PGRST125' });
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('explains how to build the dashboard when the export is missing', async () => {
    const empty = await serve(join(dir, 'does-not-exist'));
    try {
      const res = await fetch(`${empty.url}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build:web');
      const api = await fetch(`${empty.url}/health`);
      expect(api.status).toBe(200);
    } finally {
      await empty.app.close();
    }
  });
});
