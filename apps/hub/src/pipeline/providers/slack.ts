// Slack write-back: a worker's comment is posted as a reply in the thread of the message that made the task
// (chat.postMessage with a bot token), speaking the Web API's documented shapes: JSON in, {ok, error} out, HTTP 200
// even for most errors, 429 with Retry-After when rate limited.
import { apiCall, failureOf, hostOf, permanent, shorten, type Failure } from './http';
import type { DueEffect, Outcome, ProviderClient, ProviderOptions } from './types';

export const SLACK_API_URL = 'https://slack.com/api';

/** Slack cuts a message's text off past this many characters; longer comments are shortened, with a note. */
export const SLACK_MAX_TEXT = 40_000;

/** The metadata event type our replies carry, with the effect key, so a retry can find a reply already posted. */
const EVENT_TYPE = 'meshcode_effect';

/** Web API errors worth another try; the rest are permanent. */
const TRANSIENT = new Set(['ratelimited', 'service_unavailable', 'internal_error', 'fatal_error', 'request_timeout']);

const HINTS: Record<string, string> = {
  not_authed: ' Set the bot token (mc_set_source_token with p_source slack).',
  invalid_auth: ' Check the bot token (mc_set_source_token with p_source slack).',
  token_revoked: ' The bot token was revoked: set a new one (mc_set_source_token).',
  account_inactive: ' The bot token belongs to a deleted app or user: set a new one (mc_set_source_token).',
  missing_scope: ' The bot token needs the chat:write scope.',
  not_in_channel: ' Invite the bot to the channel (/invite @your-bot).',
  channel_not_found: ' The channel is gone, or the bot cannot see it: invite the bot to it.',
  is_archived: ' The channel is archived.',
};

export function slackClient(opts: ProviderOptions): ProviderClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const label = `Slack API at ${hostOf(base)}`;

  const call = (method: 'GET' | 'POST', api: string, body?: unknown) =>
    apiCall(opts.fetch, `${base}/${api}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      body,
      label,
      timeoutMs: opts.timeoutMs,
    });

  /** A Web API answer: HTTP errors and {ok: false} alike become failures that name Slack's error code. */
  async function webApi(
    method: 'GET' | 'POST',
    api: string,
    body?: unknown,
  ): Promise<{ ok: true; json: Record<string, unknown> } | Failure> {
    const got = await call(method, api, body);
    if (!got.ok) return got;
    if (got.res.status !== 200) return failureOf(got.res, label, api);
    const json = (got.res.json ?? {}) as Record<string, unknown>;
    if (json['ok'] === true) return { ok: true, json };
    const code = typeof json['error'] === 'string' ? json['error'] : 'no error code';
    return {
      ok: false,
      transient: TRANSIENT.has(code),
      error: `${label} refused ${api}: ${code}.${HINTS[code] ?? ''}`,
    };
  }

  /** After a crash mid-call the reply may exist already: look for our metadata in the thread before posting again. */
  async function alreadyPosted(channel: string, thread: string, key: string) {
    const q = new URLSearchParams({ channel, ts: thread, include_all_metadata: 'true', limit: '200' });
    const got = await webApi('GET', `conversations.replies?${q.toString()}`);
    if (!got.ok || !Array.isArray(got.json['messages'])) return undefined;
    const found = (
      got.json['messages'] as { ts?: unknown; metadata?: { event_type?: unknown; event_payload?: unknown } }[]
    ).find(
      (m) =>
        m.metadata?.event_type === EVENT_TYPE &&
        (m.metadata.event_payload as { key?: unknown } | undefined)?.key === key,
    );
    return found ? { channel, ts: found.ts, recovered: true } : undefined;
  }

  async function perform(effect: DueEffect): Promise<Outcome> {
    if (effect.kind !== 'comment') return permanent(`Slack takes a reply only, not ${effect.kind}.`);
    const channel = effect.target.channel;
    if (!channel) return permanent('The Slack event names no channel to reply in; nothing was written.');
    const thread = effect.target.thread;
    if (effect.attempts > 1 && thread) {
      const found = await alreadyPosted(channel, thread, effect.key);
      if (found) return { ok: true, response: found };
    }
    const got = await webApi('POST', 'chat.postMessage', {
      channel,
      text: shorten(String(effect.payload['body'] ?? ''), SLACK_MAX_TEXT),
      ...(thread ? { thread_ts: thread } : {}),
      unfurl_links: false,
      metadata: { event_type: EVENT_TYPE, event_payload: { key: effect.key } },
    });
    if (!got.ok) return got;
    return { ok: true, response: { channel: got.json['channel'], ts: got.json['ts'] } };
  }

  return {
    perform,
    hydrate: () => Promise.resolve(permanent('Slack events have no pull request to hydrate.')),
  };
}
