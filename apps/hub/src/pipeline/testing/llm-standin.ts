// A local server speaking OpenAI's chat-completions wire format, for driving the openai driver end to end.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
}

export type ChatReply = { status: number; body: unknown; headers?: Record<string, string> };

export interface LlmStandIn {
  url: string;
  requests: ChatRequest[];
  /** Decides each answer; default: a completion whose content is `content`. */
  reply: (req: ChatRequest, n: number) => ChatReply;
  close(): Promise<void>;
}

export function completion(content: string, model = 'gpt-4o-mini-2024-07-18'): unknown {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2, 12)}`,
    object: 'chat.completion',
    created: 1763769600,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 },
    service_tier: 'default',
    system_fingerprint: 'fp_06737a9306',
  };
}

export function apiError(message: string, type: string, code: string | null): unknown {
  return { error: { message, type, param: null, code } };
}

export async function startLlmStandIn(content = 'LGTM'): Promise<LlmStandIn> {
  const requests: ChatRequest[] = [];
  const self: LlmStandIn = {
    url: '',
    requests,
    reply: () => ({ status: 200, body: completion(content) }),
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            data: [{ id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' }],
          }),
        );
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(apiError(`Invalid URL (${req.method} ${req.url})`, 'invalid_request_error', null)));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
      requests.push(body);
      const out = self.reply(body, requests.length);
      res.writeHead(out.status, { 'content-type': 'application/json', ...(out.headers ?? {}) });
      res.end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  self.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return self;
}
