import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, sendJson, startServer, type TestServer } from '../testing/http-server';
import { apiRoot, createOpenAIDriver } from './openai';

const KEY = 'sk-test-0123456789abcdefghij';
let server: TestServer;

function completion(content: string) {
  return {
    id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
    object: 'chat.completion',
    created: 1741569952,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: {
      prompt_tokens: 19,
      completion_tokens: 10,
      total_tokens: 29,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_06737a9306',
  };
}

const apiError = (message: string, type: string, code: string | null) => ({
  error: { message, type, param: null, code },
});

beforeAll(async () => {
  server = await startServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' }],
      });
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      sendJson(res, 404, apiError(`Invalid URL (${req.method} ${req.url})`, 'invalid_request_error', null));
      return;
    }
    if (req.headers.authorization !== `Bearer ${KEY}`) {
      sendJson(
        res,
        401,
        apiError(
          `Incorrect API key provided: ${String(req.headers.authorization).slice(7)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          'invalid_request_error',
          'invalid_api_key',
        ),
      );
      return;
    }
    const body = JSON.parse(req.body) as { messages: { role: string; content: string }[] };
    const prompt = body.messages.at(-1)?.content ?? '';
    switch (prompt) {
      case 'rate':
        sendJson(
          res,
          429,
          apiError(
            'Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1.',
            'requests',
            'rate_limit_exceeded',
          ),
          { 'retry-after': '7' },
        );
        return;
      case 'quota':
        sendJson(
          res,
          429,
          apiError(
            'You exceeded your current quota, please check your plan and billing details.',
            'insufficient_quota',
            'insufficient_quota',
          ),
        );
        return;
      case 'boom':
        sendJson(
          res,
          500,
          apiError('The server had an error while processing your request. Sorry about that!', 'server_error', null),
        );
        return;
      case 'long':
        sendJson(
          res,
          400,
          apiError(
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
            'invalid_request_error',
            'context_length_exceeded',
          ),
        );
        return;
      case 'refuse':
        sendJson(res, 200, {
          ...completion(''),
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: null, refusal: "I'm sorry, I can't help with that." },
              finish_reason: 'stop',
            },
          ],
        });
        return;
      case 'slow':
        return; // never answers
      default:
        sendJson(res, 200, completion(`echo: ${prompt}`));
    }
  });
});

afterAll(async () => {
  await server.close();
});

function driver(overrides: Partial<Parameters<typeof createOpenAIDriver>[0]> = {}) {
  return createOpenAIDriver({
    baseUrl: `${server.url}/v1`,
    model: 'gpt-4o-mini',
    apiKey: KEY,
    prices: { 'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 } },
    ...overrides,
  });
}

const task = (prompt: string, timeoutMs = 10_000) => ({ prompt, timeoutMs, signal: new AbortController().signal });

describe('openai driver against a local chat-completions server', () => {
  it('sends the chat-completions request and returns content, usage and cost', async () => {
    const result = await driver({ system: 'You review code.', temperature: 0 }).run(task('hello'));
    expect(result).toEqual({
      ok: true,
      output: 'echo: hello',
      usage: { inputTokens: 19, outputTokens: 10, costUsd: (19 * 0.15 + 10 * 0.6) / 1_000_000 },
    });
    const sent = server.requests.at(-1)!;
    expect(sent.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sent.body)).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You review code.' },
        { role: 'user', content: 'hello' },
      ],
      stream: false,
      temperature: 0,
    });
  });

  it('leaves cost out when the model has no price', async () => {
    const result = await driver({ prices: {} }).run(task('hi'));
    expect(result).toEqual({ ok: true, output: 'echo: hi', usage: { inputTokens: 19, outputTokens: 10 } });
  });

  it('reports a 429 as transient with the Retry-After delay', async () => {
    const result = await driver().run(task('rate'));
    expect(result).toMatchObject({ ok: false, transient: true, retryAfterMs: 7_000 });
    expect(!result.ok && result.error).toMatch(/answered 429 \(rate_limit_exceeded\): Rate limit reached/);
  });

  it('reports an exhausted quota as permanent even though it is a 429', async () => {
    expect(await driver().run(task('quota'))).toMatchObject({ ok: false, transient: false });
  });

  it('reports 5xx as transient and other 4xx as permanent, with the error body message', async () => {
    expect(await driver().run(task('boom'))).toMatchObject({ ok: false, transient: true });
    const long = await driver().run(task('long'));
    expect(long).toMatchObject({ ok: false, transient: false });
    expect(!long.ok && long.error).toMatch(/400 \(context_length_exceeded\): This model's maximum context length/);
  });

  it('reports a bad key as permanent and never echoes the key', async () => {
    const result = await driver({ apiKey: 'sk-wrong-0123456789abcdefghijkl' }).run(task('hello'));
    expect(result).toMatchObject({ ok: false, transient: false });
    expect(!result.ok && result.error).toMatch(/401 \(invalid_api_key\)/);
    expect(!result.ok && result.error).not.toContain('sk-wrong-0123456789abcdefghijkl');
  });

  it('reports a refusal as permanent', async () => {
    expect(await driver().run(task('refuse'))).toMatchObject({
      ok: false,
      transient: false,
      error: expect.stringMatching(/refused/),
    });
  });

  it('times out as a transient failure, and cancellation is reported as such', async () => {
    const timedOut = await driver().run(task('slow', 300));
    expect(timedOut).toMatchObject({
      ok: false,
      transient: true,
      error: expect.stringMatching(/did not answer within 300 ms/),
    });
    const controller = new AbortController();
    const running = driver().run({ prompt: 'slow', timeoutMs: 10_000, signal: controller.signal });
    controller.abort();
    expect(await running).toMatchObject({ ok: false, transient: true, error: expect.stringMatching(/cancelled/) });
  });

  it('reports an unreachable endpoint as transient', async () => {
    const port = await closedPort();
    const result = await createOpenAIDriver({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm' }).run(task('x'));
    expect(result).toMatchObject({
      ok: false,
      transient: true,
      error: expect.stringMatching(/unreachable: ECONNREFUSED/),
    });
  });

  it('checks health with GET /models and appends /v1 to a bare origin', async () => {
    expect(await createOpenAIDriver({ baseUrl: server.url, model: 'gpt-4o-mini', apiKey: KEY }).health!()).toEqual({
      ok: true,
    });
    expect(apiRoot('http://localhost:1234')).toBe('http://localhost:1234/v1');
    expect(apiRoot('https://openrouter.ai/api/v1/')).toBe('https://openrouter.ai/api/v1');
  });
});
