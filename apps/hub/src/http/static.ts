// Serves the dashboard (apps/web's static export in apps/web/dist) on the hub's origin: content types, long caching for hashed
// assets, ETags and compression, the exported page for token paths (/login/<token>...), and a 404 page.
// API paths keep the API's own 404 envelope.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** apps/web/dist, found from this file so it works from any working directory. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** Paths that belong to the API: never answered with a dashboard page. */
const API_PREFIXES = ['/rest/', '/auth/', '/realtime/', '/hooks/', '/mcp', '/health'];

/** Pages whose path carries a token: /login/<token> is served login.html, which reads the token from the path. */
export const TOKEN_PAGES: Record<string, string> = {
  '/login/': 'login.html',
  '/join/': 'join.html',
  '/watch/': 'watch.html',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  // Next's exported RSC payloads; its client accepts text/plain for a static export.
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.txt', '.svg', '.webmanifest']);
const MAX_CACHED_BYTES = 4 * 1024 * 1024;

const PAGE_HEADERS = {
  'x-content-type-options': 'nosniff',
  // Login links carry a token in the path: never leak it in a Referer.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
};

interface Entry {
  body: Buffer;
  gzip?: Buffer;
  br?: Buffer;
  etag: string;
  mtimeMs: number;
}

function notBuiltPage(dir: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>MeshCode dashboard not built</title></head><body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5">
<h1>The dashboard is not built yet</h1>
<p>The hub is running and its API works, but <code>${dir}</code> is missing. Build the dashboard once (about a minute), then reload this page:</p>
<pre style="background:#f3f4f6;padding:1rem;border-radius:8px">npm run build:web</pre></body></html>`;
}

export interface StaticOptions {
  /** Compress with gzip/brotli when the browser accepts it. Default true. */
  compress?: boolean;
}

export function registerStatic(app: FastifyInstance, dir: string = DEFAULT_WEB_DIR, opts: StaticOptions = {}): void {
  const root = resolve(dir);
  const cache = new Map<string, Entry>();
  const compress = opts.compress ?? true;

  /** The file for a URL path, or null. Exact file, then `<path>.html`, then `<path>/index.html`. */
  function locate(urlPath: string): string | null {
    const rel = urlPath.replace(/^\/+/, '');
    const candidates = rel === '' ? ['index.html'] : [rel, `${rel}.html`, join(rel, 'index.html')];
    for (const c of candidates) {
      const full = resolve(root, c);
      if (full !== root && !full.startsWith(root + sep)) return null;
      try {
        if (statSync(full).isFile()) return full;
      } catch {
        // not this candidate
      }
    }
    return null;
  }

  async function load(file: string): Promise<Entry> {
    const st = statSync(file);
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs) return hit;
    const body = await readFile(file);
    const entry: Entry = {
      body,
      etag: `W/"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`,
      mtimeMs: st.mtimeMs,
    };
    if (compress && COMPRESSIBLE.has(extname(file)) && body.length > 1024) {
      entry.gzip = gzipSync(body, { level: 6 });
      entry.br = brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } });
    }
    if (body.length <= MAX_CACHED_BYTES) cache.set(file, entry);
    return entry;
  }

  async function sendFile(
    req: FastifyRequest,
    reply: FastifyReply,
    file: string,
    status: number,
    urlPath: string,
  ): Promise<FastifyReply> {
    const entry = await load(file);
    const ext = extname(file);
    const hashed = urlPath.startsWith('/_next/static/');
    reply.header('content-type', TYPES[ext] ?? 'application/octet-stream');
    reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    reply.header('etag', entry.etag);
    reply.header('x-content-type-options', 'nosniff');
    if (ext === '.html') reply.headers(PAGE_HEADERS);
    if (status === 200 && req.headers['if-none-match'] === entry.etag) return reply.code(304).send();
    let body = entry.body;
    if (entry.gzip && entry.br) {
      reply.header('vary', 'accept-encoding');
      const accept = String(req.headers['accept-encoding'] ?? '');
      if (/\bbr\b/.test(accept)) {
        body = entry.br;
        reply.header('content-encoding', 'br');
      } else if (/\bgzip\b/.test(accept)) {
        body = entry.gzip;
        reply.header('content-encoding', 'gzip');
      }
    }
    return reply.code(status).send(body);
  }

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent((req.url.split('?')[0] ?? '/').split('#')[0] ?? '/');
    } catch {
      urlPath = '';
    }
    if (API_PREFIXES.some((p) => urlPath.startsWith(p))) return reply.callNotFound();
    if (!existsSync(join(root, 'index.html'))) {
      return reply
        .code(503)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .headers(PAGE_HEADERS)
        .send(notBuiltPage(root));
    }
    if (urlPath === '' || urlPath.includes('\0') || urlPath.split('/').some((seg) => seg.startsWith('.'))) {
      return sendNotFound(req, reply);
    }
    const file = locate(urlPath);
    if (file) return sendFile(req, reply, file, 200, urlPath);
    for (const [prefix, page] of Object.entries(TOKEN_PAGES)) {
      if (urlPath.startsWith(prefix)) {
        const pageFile = locate(page);
        if (pageFile) return sendFile(req, reply, pageFile, 200, urlPath);
      }
    }
    return sendNotFound(req, reply);
  };

  async function sendNotFound(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const page = locate('404.html');
    if (page) return sendFile(req, reply, page, 404, '/404.html');
    return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('Not found');
  }

  app.get('/', handler);
  app.get('/*', handler);
}
