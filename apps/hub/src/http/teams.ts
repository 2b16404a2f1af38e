// Invites and spectator links: the SQL returns a path (/join/<token>, /watch/<token>); the hub adds the full `url` on
// the dashboard's origin (MESHCODE_PUBLIC_URL, else the origin the request came to), since only it knows that origin.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteModule, ServerDeps } from './server';

/** RPCs whose result carries a `path` the user shares. */
const LINK_RPCS = new Set(['mc_create_invite', 'mc_spectate']);

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The origin the client reached, honouring a proxy's X-Forwarded-* headers. */
export function requestOrigin(req: FastifyRequest): string {
  const proto = first(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim() === 'https' ? 'https' : req.protocol;
  const host = first(req.headers['x-forwarded-host'])?.split(',')[0]?.trim() || req.headers.host || 'localhost';
  return `${proto === 'https' ? 'https' : 'http'}://${host}`;
}

export function publicOrigin(req: FastifyRequest, publicUrl: string | undefined): string {
  return (publicUrl ?? requestOrigin(req)).replace(/\/+$/, '');
}

function rpcName(req: FastifyRequest): string | undefined {
  if (req.routeOptions.url !== '/rest/v1/rpc/:fn') return undefined;
  return (req.params as { fn?: string }).fn;
}

export const teamRoutes: RouteModule = (app: FastifyInstance, deps: ServerDeps) => {
  // Callback-style: it runs on every reply, and an async hook would cost each a promise.
  app.addHook('onSend', (req, reply, payload, done) => {
    if (reply.statusCode !== 200 || typeof payload !== 'string') return done(null, payload);
    const fn = rpcName(req);
    if (fn === undefined || !LINK_RPCS.has(fn)) return done(null, payload);
    const body = JSON.parse(payload) as unknown;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return done(null, payload);
    const path = (body as { path?: unknown }).path;
    if (typeof path !== 'string' || !path.startsWith('/')) return done(null, payload);
    done(null, JSON.stringify({ ...body, url: `${publicOrigin(req, deps.publicUrl)}${path}` }));
  });
};
