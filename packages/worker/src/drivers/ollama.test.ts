import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startServer, type TestServer } from '../testing/http-server';
import { createOllamaDriver } from './ollama';

let server: TestServer;

beforeAll(async () => {
  server = await startServer((req, res) => {
    if (req.method === 'GET' && req.url === '/api/tags') {
      sendJson(res, 200, { models: [{ name: 'llama3.2:latest', model: 'llama3.2:latest', size: 2019393189 }] });
      return;
    }
    if (req.method !== 'POST' || req.url !== '/api/chat') {
      res.writeHead(404).end('404 page not found');
      return;
    }
    const body = JSON.parse(req.body) as { model: string; messages: { content: string }[] };
    if (body.model !== 'llama3.2') {
      sendJson(res, 404, { error: `model "${body.model}" not found, try pulling it first` });
      return;
    }
    const prompt = body.messages.at(-1)?.content;
    if (prompt === 'busy') {
      sendJson(res, 503, { error: 'server busy, please try again.  maximum pending requests exceeded' });
      return;
    }
    sendJson(res, 200, {
      model: 'llama3.2',
      created_at: '2026-01-01T00:00:00.000000Z',
      message: { role: 'assistant', content: `LGTM: ${String(prompt)}` },
      done_reason: 'stop',
      done: true,
      total_duration: 4883583458,
      load_duration: 1334875,
      prompt_eval_count: 26,
      prompt_eval_duration: 342546000,
      eval_count: 282,
      eval_duration: 4535599000,
    });
  });
});

afterAll(async () => {
  await server.close();
});

const task = (prompt: string) => ({ prompt, timeoutMs: 10_000, signal: new AbortController().signal });

describe('ollama driver against a local /api/chat server', () => {
  it('posts a non-streaming chat and returns content and token counts', async () => {
    const result = await createOllamaDriver({ baseUrl: server.url, model: 'llama3.2', system: 'Be brief.' }).run(
      task('diff'),
    );
    expect(result).toEqual({
      ok: true,
      output: 'LGTM: diff',
      usage: { inputTokens: 26, outputTokens: 282, costUsd: 0 },
    });
    expect(JSON.parse(server.requests.at(-1)!.body)).toEqual({
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'diff' },
      ],
      stream: false,
    });
  });

  it('tells the user to pull a missing model, as a permanent failure', async () => {
    const result = await createOllamaDriver({ baseUrl: server.url, model: 'llama9' }).run(task('x'));
    expect(result).toMatchObject({ ok: false, transient: false });
    expect(!result.ok && result.error).toMatch(/not found, try pulling it first; run: ollama pull llama9/);
  });

  it('reports an overloaded server as transient and checks health with /api/tags', async () => {
    const driver = createOllamaDriver({ baseUrl: server.url, model: 'llama3.2' });
    expect(await driver.run(task('busy'))).toMatchObject({ ok: false, transient: true });
    expect(await driver.health!()).toEqual({ ok: true });
  });
});
