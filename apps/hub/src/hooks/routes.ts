// Webhook intake at POST /hooks/v1/<meshwork id>/<source> (raw body, 5 MB), and the few RPCs the hub must see before
// the database does: secrets and tokens are encrypted with the master key, worker definitions are validated and
// normalised, and a worker's report wakes the pipeline at once.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findCredentials, formatValuePath, parseDefinition, workerSpec } from '@meshcode/worker/core';
import { keyHashFromHeaders } from '../auth';
import { HttpError, httpError, jsonKind } from '../http/errors';
import type { ServerDeps } from '../http/server';
import type { Pipeline } from '../pipeline/service';
import { HOOK_BODY_LIMIT, receiveDelivery } from './intake';

function argsOf(req: FastifyRequest): Record<string, unknown> {
  const body = req.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw httpError(400, 'PGRST102', 'RPC arguments must be a JSON object of named arguments');
  }
  return { ...(body as Record<string, unknown>) };
}

function json(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

/** A fresh webhook secret in the form the source expects (Standard Webhooks wants whsec_<base64>). */
export function newWebhookSecret(source: string): string {
  return source === 'standard' ? `whsec_${randomBytes(24).toString('base64')}` : randomBytes(32).toString('hex');
}

/**
 * The largest plain webhook secret and write-back token. Sealed, a value grows to 5 + 4/3 × (28 + its bytes)
 * characters ("mck1:", IV and tag, base64url), and mesh.check_envelope takes at most 8,000: 1,024 bytes seal to 1,408
 * characters, 4,096 to 5,504.
 */
export const SECRET_MAX_BYTES = 1024;
export const TOKEN_MAX_BYTES = 4096;

/**
 * A secret or token as the caller sent it, checked before it is sealed (SQL sees only the envelope): a string, or
 * null or "" to remove it; no NUL character (no text argument takes one); at most `maxBytes` bytes of UTF-8.
 */
function checkPlain(args: Record<string, unknown>, arg: string, what: string, maxBytes: number, hint: string): void {
  const value = args[arg];
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') {
    throw httpError(
      400,
      'PT400',
      `${arg} must be a string: the ${what} (got ${jsonKind(value)})`,
      `pass ${arg} as a JSON string`,
    );
  }
  if (value.includes('\0')) {
    throw httpError(
      400,
      'PT400',
      `${arg} contains a NUL character (\\u0000)`,
      `pass the ${what} exactly as it was issued: no ${what} contains NUL`,
    );
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) {
    throw httpError(400, 'PT400', `${arg} is ${bytes} bytes; the limit is ${maxBytes}`, `shorten ${arg}: ${hint}`);
  }
}

function requirePipeline(deps: ServerDeps): Pipeline {
  const pipeline = deps.pipeline;
  if (!pipeline) throw httpError(503, 'PGRST503', 'the pipeline is not running on this hub', 'start it with createHub');
  return pipeline;
}

export function registerHookRoutes(app: FastifyInstance, deps: ServerDeps): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: HOOK_BODY_LIMIT }, (_req, body, done) => {
      done(null, body);
    });
    scope.setErrorHandler((err, _req, reply) => {
      if (err instanceof HttpError) return json(reply, err.status, err.envelope);
      const e = err as { statusCode?: number; code?: string; message?: string };
      if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return json(reply, 413, {
          code: 'hook_413',
          message: `the delivery is larger than ${HOOK_BODY_LIMIT / (1024 * 1024)} MB`,
          details: null,
          hint: 'webhook bodies are capped at 5 MB',
        });
      }
      if (typeof e.statusCode === 'number' && e.statusCode < 500) {
        return json(reply, e.statusCode, {
          code: `hook_${e.statusCode}`,
          message: e.message ?? 'bad request',
          details: null,
          hint: null,
        });
      }
      deps.log(
        `hub: unexpected error: webhook intake failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      return json(reply, 500, { code: 'XX000', message: 'internal error', details: null, hint: null });
    });
    scope.post(
      '/hooks/v1/:meshwork/:source',
      { bodyLimit: HOOK_BODY_LIMIT },
      async (req: FastifyRequest<{ Params: { meshwork: string; source: string } }>, reply) => {
        const pipeline = requirePipeline(deps);
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const out = await receiveDelivery(pipeline, req.params, req.headers, raw);
        return json(reply, out.status, out.body);
      },
    );
  });

  // These overrides do work before the RPC (encrypting, validating): authenticate first, exactly as the RPC would,
  // so an anonymous or revoked caller learns nothing from a validation error.
  const authenticated = async (req: FastifyRequest): Promise<string | null> => {
    const keyHash = keyHashFromHeaders(req.headers);
    await deps.rpc.call(keyHash, 'mc_whoami', {});
    return keyHash;
  };

  app.post('/rest/v1/rpc/mc_set_webhook_secret', async (req, reply) => {
    const keyHash = await authenticated(req);
    const pipeline = requirePipeline(deps);
    const args = argsOf(req);
    checkPlain(
      args,
      'p_secret',
      'webhook secret',
      SECRET_MAX_BYTES,
      `a webhook secret is at most ${SECRET_MAX_BYTES} bytes; leave p_secret out and the hub generates one`,
    );
    const source = typeof args['p_source'] === 'string' ? args['p_source'] : '';
    let generated: string | undefined;
    if (!('p_secret' in args)) {
      generated = newWebhookSecret(source);
      args['p_secret'] = generated;
    }
    const secret = args['p_secret'];
    if (typeof secret === 'string' && secret !== '')
      args['p_secret'] = pipeline.keys.encrypt(secret, `${source}:secret`);
    const result = (await deps.rpc.call(keyHash, 'mc_set_webhook_secret', args)) as {
      path?: string;
    };
    return json(reply, 200, {
      ...result,
      url: `${req.protocol}://${req.host}${result.path ?? ''}`,
      ...(generated ? { secret: generated } : {}),
    });
  });

  app.post('/rest/v1/rpc/mc_set_source_token', async (req, reply) => {
    const keyHash = await authenticated(req);
    const pipeline = requirePipeline(deps);
    const args = argsOf(req);
    checkPlain(
      args,
      'p_token',
      'write-back token',
      TOKEN_MAX_BYTES,
      `a write-back token is at most ${TOKEN_MAX_BYTES} bytes; pass only the token the provider issued`,
    );
    const source = typeof args['p_source'] === 'string' ? args['p_source'] : '';
    const token = args['p_token'];
    if (typeof token === 'string' && token !== '') args['p_token'] = pipeline.keys.encrypt(token, `${source}:token`);
    return json(reply, 200, await deps.rpc.call(keyHash, 'mc_set_source_token', args));
  });

  app.post('/rest/v1/rpc/mc_worker_upsert', async (req, reply) => {
    const keyHash = await authenticated(req);
    const args = argsOf(req);
    const definition = args['p_definition'];
    if (jsonKind(definition) !== 'an object') {
      throw httpError(
        400,
        'PGRST100',
        `p_definition must be the worker file as a JSON object (got ${jsonKind(definition)})`,
        'pass the parsed worker YAML as p_definition (docs/workers.md), or add it with meshcode worker add <file>',
      );
    }
    const parsed = parseDefinition(definition);
    if (!parsed.ok) {
      throw httpError(
        400,
        'PGRST100',
        parsed.error,
        'fix the worker file; meshcode worker add names the line of each problem',
      );
    }
    const credentials = findCredentials(definition).map(formatValuePath);
    if (credentials.length > 0) {
      const more = credentials.length > 3 ? ` and ${credentials.length - 3} more` : '';
      throw httpError(
        400,
        'PGRST100',
        `the worker definition contains something that looks like a credential at ${credentials.slice(0, 3).join(', ')}${more}`,
        'keep secrets in MESHCODE_HOME/secrets.yml on the worker machine and refer to them by name',
      );
    }
    args['p_spec'] = workerSpec(parsed.worker);
    return json(reply, 200, await deps.rpc.call(keyHash, 'mc_worker_upsert', args));
  });

  app.post('/rest/v1/rpc/mc_worker_report', async (req, reply) => {
    const result = await deps.rpc.call(keyHashFromHeaders(req.headers), 'mc_worker_report', argsOf(req));
    deps.pipeline?.poke('results');
    return json(reply, 200, result);
  });
}
