// The hub's HTTP surface: PostgREST-compatible RPC, signup, SSE feeds, health. Every error is PostgREST's envelope.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Db } from '@meshcode/db';
import { keyHashFromHeaders } from '../auth';
import { longPoll, resultJson, WAIT_SPECS } from '../bus/long-poll';
import type { DeliveredMarks } from '../bus/delivered';
import type { WaitBatcher } from '../bus/wait-batcher';
import type { Waiters } from '../bus/waiters';
import type { Pipeline } from '../pipeline/service';
import type { Feeds } from '../realtime/feeds';
import { parseFeedCursor, rpcFeedSource } from '../realtime/feeds';
import type { RpcExecutor } from '../rpc';
import { drainBody } from './drain';
import { fromDbError, HttpError, httpError, jsonKind } from './errors';
import { MAX_JSON_DEPTH, nestsDeeperThan, tooDeepMessage } from './json-depth';
import { registerSessionRoutes } from './session';
import { registerStatic } from './static';

export const BODY_LIMIT = 2 * 1024 * 1024;

/** Extra route groups (invites, spectator, webhooks, dashboard sessions…) register themselves through this list. */
export type RouteModule = (app: FastifyInstance, deps: ServerDeps) => void;

export interface ServerDeps {
  db: Db;
  rpc: RpcExecutor;
  waiters: Waiters;
  batcher: WaitBatcher;
  /** Presence for long-polls answered from a delivery, written after the answer. */
  delivered: DeliveredMarks;
  feeds: Feeds;
  signup: 'open' | 'closed';
  version: string;
  /** Aborted when the hub shuts down: ends every held long-poll. */
  shutdown: AbortSignal;
  log: (line: string) => void;
  routes?: RouteModule[];
  /** The dashboard's origin for links the hub hands out (MESHCODE_PUBLIC_URL); default: the request's origin. */
  publicUrl?: string;
  /** The webhook pipeline (intake, secret and token encryption, report wake-ups); its routes answer 503 without it. */
  pipeline?: Pipeline;
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers':
    'authorization, apikey, content-type, x-client-info, prefer, accept-profile, content-profile, last-event-id',
  'access-control-max-age': '86400',
};

function argsFrom(req: FastifyRequest): Record<string, unknown> {
  if (req.method === 'GET') return { ...(req.query as Record<string, unknown>) };
  const body = req.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw httpError(
      400,
      'PGRST102',
      'RPC arguments must be a JSON object of named arguments',
      'send a body such as {"p_meshwork": "demo"}',
    );
  }
  return body as Record<string, unknown>;
}

function send(reply: FastifyReply, err: HttpError): FastifyReply {
  return reply.code(err.status).header('content-type', 'application/json; charset=utf-8').send(err.envelope);
}

/**
 * An AbortSignal that fires when the client goes away or the hub shuts down. Held long-polls end on shutdown through
 * `held` (one listener on the shutdown signal calls them all: adding a listener to an AbortSignal costs about 20 µs, a
 * Set entry a fraction of one). An answered long-poll is not aborted: nothing listens any more, and an abort costs a
 * DOMException with its stack (15 µs, paid 1,000 times over when a broadcast answers 1,000 waiters).
 */
function requestSignal(reply: FastifyReply, shutdown: AbortSignal, held: Set<() => void>): AbortSignal {
  const ac = new AbortController();
  if (shutdown.aborted) {
    ac.abort();
    return ac.signal;
  }
  const abort = () => ac.abort();
  held.add(abort);
  reply.raw.once('close', () => {
    held.delete(abort);
    if (!reply.raw.writableFinished) abort();
  });
  return ac.signal;
}

/**
 * A request Node's parser refused before any route saw it (headers or URL over 16 KB, malformed HTTP): the envelope
 * every other error uses, where Fastify's default answers in a shape of its own.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, envelope] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          httpError(
            431,
            'PGRST100',
            'the request line and headers are larger than 16 KB',
            'send long arguments in a POST body instead of the URL',
          ).envelope,
        ]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, httpError(408, 'PGRST100', 'the request was not received in time', 'send it again').envelope]
        : [400, httpError(400, 'PGRST100', 'the request is not valid HTTP', 'send an HTTP/1.1 request').envelope];
  const body = JSON.stringify(envelope);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    requestTimeout: 0,
    keepAliveTimeout: 75_000,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
    clientErrorHandler,
  });

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return done(
        httpError(400, 'PGRST102', 'request body is not valid JSON', 'send a JSON object of named arguments'),
        undefined,
      );
    }
    // Nesting deeper than the limit takes at least two characters a level: short bodies need no walk.
    if (text.length > 2 * MAX_JSON_DEPTH && nestsDeeperThan(parsed)) {
      return done(
        httpError(
          400,
          'PGRST102',
          tooDeepMessage('request body'),
          `flatten the arguments: at most ${MAX_JSON_DEPTH} levels of objects and arrays, the body's own object included`,
        ),
        undefined,
      );
    }
    done(null, parsed);
  });

  // Hooks on every request are callback-style: an async hook costs a promise and a turn of the microtask queue.
  app.addHook('onRequest', (req, reply, done) => {
    reply.headers(CORS_HEADERS);
    if (req.method === 'OPTIONS') reply.code(204).send();
    else done();
  });

  // A body over its limit (here or in a route group with its own limit) is read to its end before the 413 goes out,
  // so the client still writing it reads the answer instead of a reset connection (see drain.ts).
  app.addHook('onError', (req, _reply, err, done) => {
    if ((err as { code?: string }).code !== 'FST_ERR_CTP_BODY_TOO_LARGE') return done();
    void drainBody(req.raw, deps.shutdown).then(() => done());
  });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof HttpError) return send(reply, err);
    const e = err as { statusCode?: number; code?: string; message?: string };
    const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
    if (status >= 400 && status < 500) {
      const message =
        e.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? `request body is larger than ${BODY_LIMIT / (1024 * 1024)} MB`
          : e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'content type must be application/json'
            : (e.message ?? 'bad request');
      const hint =
        status === 413
          ? 'send a smaller body'
          : status === 415
            ? 'send the arguments as a JSON object with the header "Content-Type: application/json"'
            : 'see the README for the API';
      return send(reply, httpError(status, 'PGRST100', message, hint));
    }
    deps.log(`hub: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return send(reply, httpError(500, 'XX000', 'internal error'));
  });

  app.setNotFoundHandler((req, reply) =>
    send(
      reply,
      httpError(404, 'PGRST125', `no route ${req.method} ${req.url.split('?')[0]}`, 'see the README for the API'),
    ),
  );

  registerSessionRoutes(app, deps);

  app.get('/health', async () => ({
    ok: true,
    database: deps.db.kind,
    version: deps.version,
    waiters: deps.waiters.size,
    waiting: deps.waiters.asleep,
    feeds: deps.feeds.size,
  }));

  const held = new Set<() => void>();
  deps.shutdown.addEventListener('abort', () => [...held].forEach((abort) => abort()), { once: true });
  const rpcHandler = async (req: FastifyRequest<{ Params: { fn: string } }>, reply: FastifyReply) => {
    const keyHash = keyHashFromHeaders(req.headers);
    const args = argsFrom(req);
    const fn = req.params.fn;
    const spec = req.method === 'POST' ? WAIT_SPECS[fn] : undefined;
    const result = spec
      ? await longPoll(deps, spec, keyHash, args, requestSignal(reply, deps.shutdown, held))
      : await deps.rpc.call(keyHash, fn, args, { get: req.method === 'GET' });
    return reply.header('content-type', 'application/json; charset=utf-8').send(resultJson(result));
  };
  app.post('/rest/v1/rpc/:fn', rpcHandler);
  app.get('/rest/v1/rpc/:fn', rpcHandler);

  app.post('/auth/v1/signup', async (req, reply) => {
    if (deps.signup === 'closed') {
      throw httpError(403, 'signup_disabled', 'signup is closed on this hub', 'ask the hub operator for an invite');
    }
    const body = (req.body ?? {}) as { email?: unknown; display_name?: unknown };
    const example = 'send {"email": "ada@example.com", "display_name": "Ada"}';
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw httpError(400, 'validation_failed', 'body must be a JSON object', example);
    }
    if (body.email === undefined || body.email === null || body.email === '') {
      throw httpError(400, 'validation_failed', 'email is required', example);
    }
    for (const field of ['email', 'display_name'] as const) {
      const value = body[field];
      if (value === undefined || (field === 'display_name' && value === null)) continue;
      if (typeof value !== 'string') {
        throw httpError(400, 'validation_failed', `${field} must be a string (got ${jsonKind(value)})`, example);
      }
      if (value.includes('\0')) {
        throw httpError(400, 'validation_failed', `${field} contains a NUL character (\\u0000)`, example);
      }
    }
    try {
      const res = await deps.db.query<{ r: unknown }>('select mesh.signup($1, $2) as r', [
        body.email,
        body.display_name ?? '',
      ]);
      return reply.code(201).send(res.rows[0]?.r);
    } catch (err) {
      throw fromDbError(err, true);
    }
  });

  app.get(
    '/realtime/v1/meshworks/:meshwork/activity',
    async (req: FastifyRequest<{ Params: { meshwork: string } }>, reply) => {
      const keyHash = keyHashFromHeaders(req.headers);
      const after = parseFeedCursor(req.headers, req.query);
      const source = rpcFeedSource(deps.rpc, keyHash, req.params.meshwork);
      reply.hijack();
      try {
        await deps.feeds.open(reply.raw, source, after);
      } catch (err) {
        const e = err instanceof HttpError ? err : httpError(500, 'XX000', 'internal error');
        reply.raw.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', ...CORS_HEADERS });
        reply.raw.end(JSON.stringify(e.envelope));
      }
    },
  );

  registerStatic(app);

  for (const register of deps.routes ?? []) register(app, deps);

  return app;
}
