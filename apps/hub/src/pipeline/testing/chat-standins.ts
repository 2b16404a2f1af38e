// Local stand-ins for Slack's Web API (chat.postMessage, conversations.replies) and Telegram's Bot API (sendMessage)
// on 127.0.0.1, with their real request and answer shapes: Slack's Bearer bot token and {ok, error} bodies (HTTP 200
// for most errors, 429 with Retry-After), Telegram's token in the path and {ok, error_code, description} bodies.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface StandIn {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }[];
  /** The next answers to give instead of the normal one, in order (status, body, headers). */
  failNext: { status: number; body: unknown; headers?: Record<string, string> }[];
  close(): Promise<void>;
}

async function serve(
  handle: (req: IncomingMessage, url: URL, body: Record<string, unknown>) => { status: number; body: unknown },
  self: Omit<StandIn, 'url' | 'close'>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
      self.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body });
      const failed = self.failNext.shift();
      const answer = failed ?? handle(req, url, body);
      res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...(failed?.headers ?? {}) });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface SlackStandIn extends StandIn {
  /** Messages posted, per channel, with their thread and metadata. */
  messages: { channel: string; ts: string; thread_ts?: string; text: string; metadata?: unknown }[];
  /** Channels the bot is a member of; posting elsewhere answers not_in_channel. */
  channels: Set<string>;
}

export async function startSlackStandIn(opts: { token: string; channels: string[] }): Promise<SlackStandIn> {
  const self: Omit<SlackStandIn, 'url' | 'close'> = {
    requests: [],
    failNext: [],
    messages: [],
    channels: new Set(opts.channels),
  };
  let clock = 1_700_000_000;
  const server = await serve((req, url, body) => {
    const ok = (fields: Record<string, unknown>) => ({ status: 200, body: { ok: true, ...fields } });
    const error = (code: string) => ({ status: 200, body: { ok: false, error: code } });
    if (req.headers.authorization === undefined) return error('not_authed');
    if (req.headers.authorization !== `Bearer ${opts.token}`) return error('invalid_auth');
    if (req.method === 'POST' && url.pathname === '/chat.postMessage') {
      const channel = String(body['channel'] ?? '');
      if (!self.channels.has(channel)) return error(channel.startsWith('C') ? 'not_in_channel' : 'channel_not_found');
      if (typeof body['text'] !== 'string' || body['text'] === '') return error('no_text');
      const ts = `${clock++}.000100`;
      const message = {
        channel,
        ts,
        ...(typeof body['thread_ts'] === 'string' ? { thread_ts: body['thread_ts'] } : {}),
        text: body['text'],
        ...(body['metadata'] !== undefined ? { metadata: body['metadata'] } : {}),
      };
      self.messages.push(message);
      return ok({ channel, ts, message: { type: 'message', subtype: 'bot_message', text: message.text, ts } });
    }
    if (req.method === 'GET' && url.pathname === '/conversations.replies') {
      const channel = url.searchParams.get('channel') ?? '';
      const ts = url.searchParams.get('ts') ?? '';
      if (!self.channels.has(channel)) return error('channel_not_found');
      const withMeta = url.searchParams.get('include_all_metadata') === 'true';
      const replies = self.messages
        .filter((m) => m.channel === channel && m.thread_ts === ts)
        .map((m) => ({
          type: 'message',
          ts: m.ts,
          thread_ts: m.thread_ts,
          text: m.text,
          ...(withMeta && m.metadata ? { metadata: m.metadata } : {}),
        }));
      return ok({ messages: [{ type: 'message', ts, text: '(parent)' }, ...replies], has_more: false });
    }
    return error('unknown_method');
  }, self);
  return Object.assign(self, server);
}

export interface TelegramStandIn extends StandIn {
  messages: { chat_id: number | string; message_id: number; text: string; reply_to?: number }[];
}

export async function startTelegramStandIn(opts: { token: string; chats: number[] }): Promise<TelegramStandIn> {
  const self: Omit<TelegramStandIn, 'url' | 'close'> = { requests: [], failNext: [], messages: [] };
  let nextId = 900;
  const server = await serve((req, url, body) => {
    const fail = (code: number, description: string) => ({
      status: code,
      body: { ok: false, error_code: code, description },
    });
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(url.pathname);
    if (!m || m[1] !== opts.token) return fail(m ? 401 : 404, m ? 'Unauthorized' : 'Not Found');
    if (req.method !== 'POST' || m[2] !== 'sendMessage') return fail(404, 'Not Found: method not found');
    const chat = body['chat_id'];
    if (typeof chat !== 'number' || !opts.chats.includes(chat)) return fail(400, 'Bad Request: chat not found');
    const text = body['text'];
    if (typeof text !== 'string' || text === '') return fail(400, 'Bad Request: message text is empty');
    if (text.length > 4096) return fail(400, 'Bad Request: message is too long');
    const reply = body['reply_parameters'] as { message_id?: unknown } | undefined;
    const message = {
      chat_id: chat,
      message_id: nextId++,
      text,
      ...(typeof reply?.message_id === 'number' ? { reply_to: reply.message_id } : {}),
    };
    self.messages.push(message);
    return {
      status: 200,
      body: {
        ok: true,
        result: {
          message_id: message.message_id,
          from: { id: 7000001, is_bot: true, first_name: 'Mesh', username: 'mesh_bot' },
          chat: { id: chat, type: 'private' },
          date: 1_700_000_000,
          text,
          ...(message.reply_to !== undefined ? { reply_to_message: { message_id: message.reply_to } } : {}),
        },
      },
    };
  }, self);
  return Object.assign(self, server);
}
