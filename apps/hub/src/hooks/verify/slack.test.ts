import { describe, expect, it } from 'vitest';
import { signSlack, slackUrlVerification, verifySlack } from './index';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const nowMs = 1_767_225_600_000;
const now = () => nowMs;
const ts = nowMs / 1000;

const appMention = Buffer.from(
  JSON.stringify({
    token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
    team_id: 'T061EG9R6',
    api_app_id: 'A0PNCHHK2',
    event: {
      type: 'app_mention',
      user: 'U061F7AUR',
      text: '<@U0LAN0Z89> review PR 42',
      ts: '1515449522.000016',
      channel: 'C123ABC456',
      event_ts: '1515449522000016',
    },
    type: 'event_callback',
    event_id: 'Ev0LAN670R',
    event_time: 1515449522000016,
    authed_users: ['U0LAN0Z89'],
  }),
);

function signed(rawBody: Buffer, at = ts) {
  return {
    headers: { 'x-slack-request-timestamp': String(at), 'x-slack-signature': signSlack(rawBody, secret, at) },
    rawBody,
  };
}

describe('Slack verifier', () => {
  it('accepts a signed Events API callback and names it by event_id and inner event type', () => {
    expect(verifySlack(signed(appMention), secret, now)).toEqual({
      ok: true,
      deliveryId: 'Ev0LAN670R',
      event: 'app_mention',
    });
  });

  it('rejects a timestamp outside the 300-second window in either direction, even when correctly signed', () => {
    for (const at of [ts - 301, ts + 301, ts - 3600]) {
      const result = verifySlack(signed(appMention, at), secret, now);
      expect(result).toMatchObject({ ok: false, status: 401 });
      expect(!result.ok && result.reason).toMatch(/300 seconds/);
    }
    expect(verifySlack(signed(appMention, ts - 299), secret, now).ok).toBe(true);
  });

  it('rejects bad, missing and length-mismatched signatures with 401', () => {
    const good = signed(appMention);
    for (const signature of [undefined, 'v0=abc', 'v1=' + 'a'.repeat(64), 'v0=' + '0'.repeat(64)]) {
      expect(
        verifySlack({ ...good, headers: { ...good.headers, 'x-slack-signature': signature } }, secret, now),
      ).toMatchObject({ ok: false, status: 401 });
    }
    expect(verifySlack(good, undefined, now)).toMatchObject({ ok: false, status: 401 });
    expect(
      verifySlack({ ...good, rawBody: Buffer.from(appMention.toString().replace('42', '43')) }, secret, now),
    ).toMatchObject({ ok: false, status: 401 });
  });

  it('hands the url_verification challenge out only for a verified request', () => {
    const rawBody = Buffer.from(
      JSON.stringify({
        token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
        challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
        type: 'url_verification',
      }),
    );
    const verified = verifySlack(signed(rawBody), secret, now);
    expect(verified).toMatchObject({ ok: true, event: 'url_verification' });
    expect(slackUrlVerification(verified, rawBody)).toEqual({
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    });
    const forged = verifySlack({ ...signed(rawBody), rawBody: Buffer.from(rawBody) }, 'wrong secret', now);
    expect(slackUrlVerification(forged, rawBody)).toBeUndefined();
    expect(slackUrlVerification(verifySlack(signed(appMention), secret, now), appMention)).toBeUndefined();
  });

  it('names form-encoded slash commands by trigger_id', () => {
    const rawBody = Buffer.from(
      'token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&channel_id=C2147483705&user_id=U2147483697&command=%2Freview&text=42&trigger_id=13345224609.738474920.8088930838d88f008e0',
    );
    expect(verifySlack(signed(rawBody), secret, now)).toEqual({
      ok: true,
      deliveryId: '13345224609.738474920.8088930838d88f008e0',
      event: 'slash_command',
    });
  });
});
