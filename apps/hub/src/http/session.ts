// Dashboard login: one-time login links, httpOnly session cookies, logout, "who am I", and cookie authentication
// (with a CSRF check) for the RPC and SSE routes when a browser sends no Authorization header.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '@meshcode/db';
import { hashKey, keyHashFromHeaders } from '../auth';
import type { RpcExecutor } from '../rpc';
import { HttpError, httpError, hubCall } from './errors';

export const SESSION_COOKIE = 'mc_session';
/** The browser app sends this on every request; a cross-site page cannot without a CORS preflight we refuse. */
export const CSRF_HEADER = 'x-meshcode-csrf';
export const SESSION_TTL_SECONDS = 14 * 24 * 3600;

export interface SessionDeps {
  db: Db;
  rpc: RpcExecutor;
  /** Origin put in login links; by default the one the request came to. */
  publicUrl?: string;
  sessionTtlSeconds?: number;
}

/** Routes where a session cookie stands in for `Authorization: Bearer`. */
const COOKIE_AUTH_PREFIXES = ['/rest/v1/rpc/', '/realtime/v1/'];

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function isHttps(req: FastifyRequest): boolean {
  return req.protocol === 'https' || first(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim() === 'https';
}

function requestOrigin(req: FastifyRequest): string {
  const host = first(req.headers['x-forwarded-host'])?.split(',')[0]?.trim() || req.headers.host || 'localhost';
  return `${isHttps(req) ? 'https' : 'http'}://${host}`;
}

/**
 * Refuse cross-site use of the cookie: an Origin (or Sec-Fetch-Site) naming another site is refused on every method,
 * and state-changing methods must carry the custom header, which only same-origin scripts can send here.
 */
export function checkCsrf(req: FastifyRequest): void {
  const refuse = (message: string) =>
    httpError(
      403,
      'csrf_refused',
      message,
      'use the dashboard on its own address, or call the API with Authorization: Bearer mc_...',
    );
  const origin = first(req.headers.origin);
  if (origin !== undefined && origin !== '') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      host = '';
    }
    const allowed = [req.headers.host, first(req.headers['x-forwarded-host'])?.split(',')[0]?.trim()];
    if (host === '' || !allowed.includes(host))
      throw refuse(`a request from ${origin.slice(0, 100)} may not use the dashboard session`);
  }
  if (first(req.headers['sec-fetch-site']) === 'cross-site')
    throw refuse('a cross-site request may not use the dashboard session');
  if (req.method !== 'GET' && req.method !== 'HEAD' && first(req.headers[CSRF_HEADER]) !== '1') {
    throw refuse(`a request authenticated by the session cookie must send the ${CSRF_HEADER} header`);
  }
}

function newToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

function sessionCookie(req: FastifyRequest, token: string, maxAge: number): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAge}`,
    ...(isHttps(req) ? ['Secure'] : []),
  ].join('; ');
}

function bodyObject(req: FastifyRequest): Record<string, unknown> {
  const body = req.body ?? {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw httpError(400, 'validation_failed', 'body must be a JSON object');
  return body as Record<string, unknown>;
}

export function registerSessionRoutes(app: FastifyInstance, deps: SessionDeps): void {
  const ttl = deps.sessionTtlSeconds ?? SESSION_TTL_SECONDS;

  // A browser sends the cookie, never a key: hand it to the RPC and SSE handlers as the caller's credential.
  app.addHook('onRequest', (req, _reply, done) => {
    if (!COOKIE_AUTH_PREFIXES.some((p) => req.url.startsWith(p))) return done();
    if (req.headers.authorization || req.headers.apikey) return done();
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (token === undefined) return done();
    checkCsrf(req); // a refusal thrown here reaches the error handler, as from any hook
    req.headers.authorization = `Bearer ${token}`;
    done();
  });

  app.post('/auth/v1/login-link', async (req, reply) => {
    const keyHash = keyHashFromHeaders(req.headers);
    if (keyHash === null) {
      throw httpError(
        401,
        'PGRST301',
        'this call needs your account key',
        'send Authorization: Bearer mc_... (meshcode dashboard does)',
      );
    }
    const token = newToken('mcl_');
    const r = await hubCall<{ expires_at: string }>(deps.db, 'select mesh.create_login_link($1, $2) as r', [
      keyHash,
      hashKey(token),
    ]);
    const origin = (deps.publicUrl ?? requestOrigin(req)).replace(/\/+$/, '');
    return reply.code(201).send({ url: `${origin}/login/${token}`, expires_at: r.expires_at });
  });

  app.post('/auth/v1/session', async (req, reply) => {
    checkCsrf(req);
    const body = bodyObject(req);
    const token = newToken('mcs_');
    let r: unknown;
    if (typeof body.link_token === 'string' && body.link_token !== '') {
      if (body.link_token.length > 200)
        throw httpError(401, 'PGRST301', 'this login link is not valid', 'run meshcode dashboard for a new link');
      r = await hubCall(deps.db, 'select mesh.consume_login_link($1, $2, $3) as r', [
        hashKey(body.link_token),
        hashKey(token),
        ttl,
      ]);
    } else if (typeof body.api_key === 'string' && body.api_key.trim() !== '') {
      const key = body.api_key.trim();
      if (key.length > 512)
        throw httpError(401, 'PGRST301', 'API key is malformed', 'paste the mc_... key meshcode signup gave you');
      r = await hubCall(deps.db, 'select mesh.create_session($1, $2, $3) as r', [hashKey(key), hashKey(token), ttl]);
    } else {
      throw httpError(
        400,
        'validation_failed',
        'send a login link token or an API key',
        'send {"link_token": "mcl_..."} or {"api_key": "mc_..."}',
      );
    }
    return reply
      .header('set-cookie', sessionCookie(req, token, ttl))
      .header('cache-control', 'no-store')
      .send(r);
  });

  app.post('/auth/v1/logout', async (req, reply) => {
    checkCsrf(req);
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    const ended =
      token === undefined
        ? false
        : await hubCall<boolean>(deps.db, 'select mesh.end_session($1) as r', [hashKey(token)]);
    return reply.header('set-cookie', sessionCookie(req, '', 0)).send({ logged_out: ended });
  });

  app.get('/auth/v1/session', async (req: FastifyRequest, reply: FastifyReply) => {
    const keyHash = keyHashFromHeaders(req.headers);
    if (keyHash !== null)
      return reply.header('cache-control', 'no-store').send(await deps.rpc.call(keyHash, 'mc_whoami', {}));
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (token === undefined) {
      throw httpError(
        401,
        'PGRST301',
        'you are not logged in to the dashboard',
        'run meshcode dashboard for a one-time login link',
      );
    }
    checkCsrf(req);
    try {
      return reply.header('cache-control', 'no-store').send(await deps.rpc.call(hashKey(token), 'mc_whoami', {}));
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 401) throw err;
      // The cookie names no live session (ended, expired, or from another database): forget it.
      reply.header('set-cookie', sessionCookie(req, '', 0));
      const ended = err.envelope.message.startsWith('your dashboard session');
      throw ended
        ? err
        : httpError(
            401,
            'PGRST301',
            'your dashboard session is not valid',
            'run meshcode dashboard for a one-time login link',
          );
    }
  });
}
