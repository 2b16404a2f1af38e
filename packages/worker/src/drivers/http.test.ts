import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startServer, type TestServer } from '../testing/http-server';
import { createHttpDriver } from './http';

const KEY = 'worker-key-123';
let server: TestServer;
let busy = false;

beforeAll(async () => {
  server = await startServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(busy ? 503 : 200).end(busy ? 'busy' : 'ok');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/task') {
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== `Bearer ${KEY}`) {
      sendJson(res, 401, { error: 'unauthorized' });
      return;
    }
    const body = JSON.parse(req.body) as { id: string; prompt: string; context?: unknown };
    if (busy) {
      sendJson(res, 429, { error: 'worker busy' }, { 'retry-after': '2' });
      return;
    }
    if (body.prompt === 'crash') {
      sendJson(res, 500, { error: 'task failed' });
      return;
    }
    if (body.prompt === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('not json');
      return;
    }
    sendJson(res, 200, {
      output: `reviewed ${body.id}`,
      comment: { target: 'pr', body: 'Two issues found.' },
      labels: { add: ['security'] },
      status: { state: 'failure', description: '2 issues' },
      metadata: { model: 'claude-sonnet-4-6', duration_ms: 1200, input_tokens: 1500, output_tokens: 300, exit_code: 0 },
    });
  });
});

afterAll(async () => {
  await server.close();
});

const driver = () => createHttpDriver({ url: `${server.url}/`, apiKey: KEY });
const task = (prompt: string, extra: Record<string, unknown> = {}) => ({
  prompt,
  timeoutMs: 10_000,
  signal: new AbortController().signal,
  ...extra,
});

describe('http driver against a local worker speaking the /health + /task contract', () => {
  it('posts id, prompt and context with the bearer key, and returns the structured result', async () => {
    const result = await driver().run(task('review', { id: 'task-7', context: { repo: 'acme/api' } }));
    expect(result).toEqual({
      ok: true,
      output: 'reviewed task-7',
      result: {
        output: 'reviewed task-7',
        comment: { target: 'pr', body: 'Two issues found.' },
        labels: { add: ['security'] },
        status: { state: 'failure', description: '2 issues' },
        metadata: {
          model: 'claude-sonnet-4-6',
          duration_ms: 1200,
          input_tokens: 1500,
          output_tokens: 300,
          exit_code: 0,
        },
      },
      usage: { inputTokens: 1500, outputTokens: 300 },
    });
    expect(JSON.parse(server.requests.at(-1)!.body)).toEqual({
      id: 'task-7',
      prompt: 'review',
      context: { repo: 'acme/api' },
    });
  });

  it('treats a busy worker (429) as transient with its Retry-After, and reports health 503', async () => {
    busy = true;
    try {
      expect(await driver().run(task('review'))).toMatchObject({ ok: false, transient: true, retryAfterMs: 2_000 });
      expect(await driver().health!()).toMatchObject({ ok: false, error: expect.stringMatching(/503/) });
    } finally {
      busy = false;
    }
    expect(await driver().health!()).toEqual({ ok: true });
  });

  it('classifies 500 as transient, 401 and a non-result body as permanent', async () => {
    expect(await driver().run(task('crash'))).toMatchObject({
      ok: false,
      transient: true,
      error: expect.stringMatching(/task failed/),
    });
    expect(await createHttpDriver({ url: server.url }).run(task('review'))).toMatchObject({
      ok: false,
      transient: false,
    });
    expect(await driver().run(task('garbage'))).toMatchObject({ ok: false, transient: false });
  });
});
