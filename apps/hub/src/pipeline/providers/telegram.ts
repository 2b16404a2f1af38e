// Telegram write-back: a worker's comment is sent to the chat the update came from, as a reply to its message
// (sendMessage with the bot token in the path), speaking the Bot API's documented shapes: {ok, result} or
// {ok: false, error_code, description, parameters: {retry_after}}.
import { apiCall, hostOf, permanent, shorten } from './http';
import type { DueEffect, Outcome, ProviderClient, ProviderOptions } from './types';

export const TELEGRAM_API_URL = 'https://api.telegram.org';

/** The Bot API refuses a message longer than this; longer comments are shortened, with a note. */
export const TELEGRAM_MAX_TEXT = 4096;

export function telegramClient(opts: ProviderOptions): ProviderClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const label = `Telegram Bot API at ${hostOf(base)}`;

  async function perform(effect: DueEffect): Promise<Outcome> {
    if (effect.kind !== 'comment') return permanent(`Telegram takes a reply only, not ${effect.kind}.`);
    if (!opts.token)
      return permanent('No Telegram bot token is set: set one (mc_set_source_token with p_source telegram).');
    const chat = effect.target.channel;
    if (!chat) return permanent('The Telegram update names no chat to reply in; nothing was written.');
    const replyTo = Number(effect.target.thread);
    // The token is part of the path, so it never appears in what is logged: errors name the host only.
    const got = await apiCall(opts.fetch, `${base}/bot${opts.token}/sendMessage`, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: {
        chat_id: /^-?\d+$/.test(chat) ? Number(chat) : chat,
        text: shorten(String(effect.payload['body'] ?? ''), TELEGRAM_MAX_TEXT),
        ...(Number.isSafeInteger(replyTo)
          ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }
          : {}),
        link_preview_options: { is_disabled: true },
      },
      label,
      timeoutMs: opts.timeoutMs,
    });
    if (!got.ok) return got;
    const json = (got.res.json ?? {}) as {
      ok?: unknown;
      result?: { message_id?: unknown; chat?: { id?: unknown } };
      error_code?: unknown;
      description?: unknown;
      parameters?: { retry_after?: unknown };
    };
    if (got.res.status === 200 && json.ok === true) {
      return { ok: true, response: { chat_id: json.result?.chat?.id, message_id: json.result?.message_id } };
    }
    const status = typeof json.error_code === 'number' ? json.error_code : got.res.status;
    const description = typeof json.description === 'string' ? json.description : got.res.text.slice(0, 200);
    const retryAfter = typeof json.parameters?.retry_after === 'number' ? json.parameters.retry_after : undefined;
    const transient = status === 429 || status >= 500;
    const hint =
      status === 401 || status === 404
        ? ' Check the bot token (mc_set_source_token with p_source telegram).'
        : status === 403
          ? ' The bot cannot write to this chat (blocked, or removed from it).'
          : '';
    return {
      ok: false,
      transient,
      error: `${label} answered ${status} to sendMessage: ${description || 'no description'}.${hint}`,
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter * 1000 } : {}),
    };
  }

  return {
    perform,
    hydrate: () => Promise.resolve(permanent('Telegram updates have no pull request to hydrate.')),
  };
}
