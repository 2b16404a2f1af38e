// Slack and Telegram write-back: a worker's answer to a Slack mention goes back into the message's thread, and its
// answer to a Telegram message goes back to the chat as a reply, under the policy, exactly once; observed on local
// stand-ins that speak Slack's Web API and Telegram's Bot API.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WorkerEnv } from '@meshcode/worker';
import { describeBackends, resetState } from '@meshcode/db/testing';
import { slackClient } from './providers/slack';
import { telegramClient } from './providers/telegram';
import type { DueEffect } from './providers/types';
import {
  startSlackStandIn,
  startTelegramStandIn,
  type SlackStandIn,
  type TelegramStandIn,
} from './testing/chat-standins';
import {
  addWorker,
  ownerWithProject,
  postHook,
  setSourceToken,
  setWebhookSecret,
  settled,
  slackDelivery,
  startPipelineHub,
  startWorker,
  workerMachine,
  type Owner,
  type PipelineHub,
  type RunningWorker,
} from './testing/fixture';

const SLACK_TOKEN = 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy';
const SLACK_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TELEGRAM_TOKEN = '110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const TELEGRAM_SECRET = 'telegram_token_0123456789';

/** A worker whose command prints `answer` as its structured result. */
function answering(name: string, source: string, on: string, answer: unknown, policy: Record<string, unknown>) {
  return {
    name,
    driver: 'exec',
    exec: {
      command: [
        'node',
        '-e',
        `process.stdin.resume();process.stdin.on('end',()=>process.stdout.write(${JSON.stringify(JSON.stringify(answer))}))`,
      ],
    },
    events: [{ source, on, prompt: 'Answer {{ summary }}' }],
    policy,
  };
}

const mention = (channel: string) => ({
  token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
  team_id: 'T061EG9RZ',
  api_app_id: 'A0FFV41KK',
  type: 'event_callback',
  event_id: `Ev${Date.now()}${Math.floor(Math.random() * 1000)}`,
  event_time: 1515449522,
  event: {
    type: 'app_mention',
    user: 'U061F7AUR',
    text: '<@U0LAN0Z89> is the build green?',
    ts: '1515449522.000016',
    channel,
    event_ts: '1515449522000016',
  },
});

describeBackends('Slack and Telegram write-back', (getDb) => {
  let hub: PipelineHub;
  let slack: SlackStandIn;
  let telegram: TelegramStandIn;
  let machine: { env: WorkerEnv; cleanup(): Promise<void> };
  let owner: Owner;
  let workers: RunningWorker[] = [];

  beforeAll(async () => {
    slack = await startSlackStandIn({ token: SLACK_TOKEN, channels: ['C0LAN2Q65'] });
    telegram = await startTelegramStandIn({ token: TELEGRAM_TOKEN, chats: [1111111] });
    machine = await workerMachine();
    hub = await startPipelineHub(getDb());
  });
  afterAll(async () => {
    await hub.close();
    await slack.close();
    await telegram.close();
    await machine.cleanup();
  });
  beforeEach(async () => {
    await resetState(getDb());
    for (const s of [slack, telegram]) {
      s.requests.length = 0;
      s.messages.length = 0;
      s.failNext.length = 0;
    }
    owner = await ownerWithProject(hub.url, 'chat');
  });
  afterEach(async () => {
    for (const w of workers) await w.stop();
    workers = [];
  });
  const start = async (name: string) => {
    const w = startWorker(owner, name, machine.env);
    workers.push(w);
    await w.ready;
  };

  describe('Slack', () => {
    let hookUrl: string;
    beforeEach(async () => {
      hookUrl = (await setWebhookSecret(owner, 'slack', SLACK_SECRET)).url;
      await setSourceToken(owner, 'slack', SLACK_TOKEN, slack.url);
      await addWorker(
        owner,
        answering(
          'slack-bot',
          'slack',
          'app_mention',
          { comment: { body: 'Yes: all 212 checks passed.' }, labels: { add: ['x'] } },
          {
            comment: { allow: true, max_length: 2000 },
            labels: true,
          },
        ),
      );
      await start('slack-bot');
    });
    const post = async (payload: unknown) => {
      const d = slackDelivery(payload, SLACK_SECRET, Math.floor(Date.now() / 1000));
      const res = await postHook(hookUrl, d.headers, d.body);
      expect(res.status).toBe(202);
      return res.body['event_id'] as string;
    };

    it('answers in the thread of the mention, once, and says what it could not do', async () => {
      // Rate limited first: the reply waits for Retry-After and is posted once.
      slack.failNext.push({ status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '0' } });
      const trace = await settled(owner, await post(mention('C0LAN2Q65')));
      expect(trace.event.state).toBe('completed');
      expect(slack.messages).toEqual([
        {
          channel: 'C0LAN2Q65',
          ts: expect.any(String),
          thread_ts: '1515449522.000016',
          text: 'Yes: all 212 checks passed.',
          metadata: { event_type: 'meshcode_effect', event_payload: { key: trace.effects[0]!.key } },
        },
      ]);
      const posts = slack.requests.filter((r) => r.path === '/chat.postMessage');
      expect(posts).toHaveLength(2);
      expect(posts[1]!.headers.authorization).toBe(`Bearer ${SLACK_TOKEN}`);
      expect(trace.effects).toEqual([
        expect.objectContaining({
          kind: 'comment',
          state: 'done',
          attempts: 2,
          response: { channel: 'C0LAN2Q65', ts: slack.messages[0]!.ts },
        }),
      ]);
      // Labels were allowed, but a Slack message has none: the decision says so instead of sending anything.
      expect(JSON.stringify(trace.tasks[0]!.decision)).toContain('no labels on a Slack message');
    });

    it('fails for good, with the fix, when the bot is not in the channel', async () => {
      const trace = await settled(owner, await post(mention('C0NOTHERE')));
      expect(slack.messages).toEqual([]);
      expect(trace.effects).toEqual([expect.objectContaining({ state: 'failed', attempts: 1 })]);
      expect(trace.effects[0]!.error).toMatch(/not_in_channel\. Invite the bot to the channel/);
    });
  });

  describe('Telegram', () => {
    it('replies to the message in its chat', async () => {
      const hookUrl = (await setWebhookSecret(owner, 'telegram', TELEGRAM_SECRET)).url;
      await setSourceToken(owner, 'telegram', TELEGRAM_TOKEN, telegram.url);
      await addWorker(
        owner,
        answering('tg-bot', 'telegram', 'message', { comment: { body: 'Deployed at 14:02.' } }, { comment: true }),
      );
      await start('tg-bot');
      const update = {
        update_id: 10000,
        message: {
          message_id: 1365,
          date: 1441645532,
          chat: { id: 1111111, type: 'private', first_name: 'Test' },
          from: { id: 1111111, is_bot: false, first_name: 'Test', username: 'tester' },
          text: 'when was the last deploy?',
        },
      };
      const res = await postHook(
        hookUrl,
        { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
        JSON.stringify(update),
      );
      expect(res.status).toBe(202);
      const trace = await settled(owner, res.body['event_id'] as string);
      expect(telegram.messages).toEqual([
        { chat_id: 1111111, message_id: 900, text: 'Deployed at 14:02.', reply_to: 1365 },
      ]);
      expect(trace.effects).toEqual([
        expect.objectContaining({ state: 'done', attempts: 1, response: { chat_id: 1111111, message_id: 900 } }),
      ]);
      // The token travels in the path only, never in what is stored.
      expect(JSON.stringify(trace)).not.toContain(TELEGRAM_TOKEN);
    });
  });
});

describe('chat clients', () => {
  let slack: SlackStandIn;
  let telegram: TelegramStandIn;
  beforeAll(async () => {
    slack = await startSlackStandIn({ token: SLACK_TOKEN, channels: ['C1'] });
    telegram = await startTelegramStandIn({ token: TELEGRAM_TOKEN, chats: [42] });
  });
  afterAll(async () => {
    await slack.close();
    await telegram.close();
  });
  const effect = (target: DueEffect['target'], body: string, attempts = 1): DueEffect => ({
    id: 'e1',
    key: `task:${attempts}-${body.length}:comment`,
    meshwork_id: 'm',
    task_id: 't',
    event_id: null,
    provider: 'slack',
    kind: 'comment',
    target,
    payload: { body },
    attempts,
  });

  it('Slack: a retry after a crash mid-call finds the reply already in the thread instead of posting it again', async () => {
    const client = slackClient({ baseUrl: slack.url, token: SLACK_TOKEN, fetch });
    const e = effect({ channel: 'C1', thread: '1.000001' }, 'hello');
    expect(await client.perform(e)).toMatchObject({ ok: true });
    expect(await client.perform({ ...e, attempts: 2 })).toMatchObject({
      ok: true,
      response: { channel: 'C1', ts: slack.messages[0]!.ts, recovered: true },
    });
    expect(slack.messages).toHaveLength(1);
    // A wrong token is permanent, and says which setting to fix.
    const bad = slackClient({ baseUrl: slack.url, token: 'xoxb-wrong', fetch });
    expect(await bad.perform(effect({ channel: 'C1' }, 'x'))).toEqual({
      ok: false,
      transient: false,
      error: expect.stringMatching(/refused chat\.postMessage: invalid_auth\. Check the bot token/),
    });
  });

  it('Telegram: shortens a long reply to the 4,096-character limit, and waits as long as a 429 asks', async () => {
    const client = telegramClient({ baseUrl: telegram.url, token: TELEGRAM_TOKEN, fetch });
    telegram.failNext.push({
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 7',
        parameters: { retry_after: 7 },
      },
    });
    const long = effect({ channel: '42', thread: '7' }, 'y'.repeat(5000));
    expect(await client.perform(long)).toMatchObject({ ok: false, transient: true, retryAfterMs: 7000 });
    expect(await client.perform(long)).toMatchObject({ ok: true });
    const sent = telegram.messages.at(-1)!;
    expect(sent.text).toHaveLength(4096);
    expect(sent.text).toMatch(/\[shortened: \d+ more characters\]$/);
    // A chat the bot is not in is permanent; no token at all says how to set one.
    expect(await client.perform(effect({ channel: '43' }, 'x'))).toMatchObject({
      ok: false,
      transient: false,
      error: expect.stringContaining('answered 400 to sendMessage: Bad Request: chat not found'),
    });
    const none = telegramClient({ baseUrl: telegram.url, token: undefined, fetch });
    expect(await none.perform(effect({ channel: '42' }, 'x'))).toMatchObject({
      ok: false,
      error: expect.stringContaining('mc_set_source_token with p_source telegram'),
    });
  });
});
