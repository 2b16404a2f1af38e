import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signGeneric, verifyGeneric, verifyTelegram } from './index';

const now = () => Date.now();

describe('Telegram verifier', () => {
  const secret = 'telegram_Secret-token_123';
  const update = Buffer.from(
    JSON.stringify({
      update_id: 10000,
      message: {
        message_id: 1365,
        date: 1441645532,
        chat: { id: 1111111, type: 'private', first_name: 'Test', username: 'Test' },
        from: { id: 1111111, is_bot: false, first_name: 'Test' },
        text: '/review 42',
      },
    }),
  );

  it('accepts the secret token and uses update_id as the delivery id', () => {
    expect(
      verifyTelegram({ headers: { 'x-telegram-bot-api-secret-token': secret }, rawBody: update }, secret, now),
    ).toEqual({ ok: true, deliveryId: '10000', event: 'message' });
  });

  it('rejects a wrong, missing or length-mismatched token with 401', () => {
    for (const given of ['telegram_Secret-token_124', 'x', `${secret}x`, undefined]) {
      expect(
        verifyTelegram({ headers: { 'x-telegram-bot-api-secret-token': given }, rawBody: update }, secret, now),
      ).toMatchObject({ ok: false, status: 401 });
    }
    expect(
      verifyTelegram({ headers: { 'x-telegram-bot-api-secret-token': secret }, rawBody: update }, undefined, now),
    ).toMatchObject({ ok: false, status: 401 });
  });

  it('answers 400 for a verified body that is not an Update', () => {
    for (const body of ['not json', '{"message":{}}', '{"update_id":"7"}', '[1]']) {
      expect(
        verifyTelegram(
          { headers: { 'x-telegram-bot-api-secret-token': secret }, rawBody: Buffer.from(body) },
          secret,
          now,
        ),
      ).toMatchObject({ ok: false, status: 400 });
    }
  });
});

describe('generic verifier', () => {
  const secret = randomBytes(24).toString('hex');
  const rawBody = Buffer.from('{"alert":"disk full","host":"db-1"}');

  it('accepts an HMAC-signed body with a delivery id, event defaulting to "webhook"', () => {
    const headers = { 'x-meshcode-signature': signGeneric(rawBody, secret), 'x-meshcode-delivery': 'd-1' };
    expect(verifyGeneric({ headers, rawBody }, secret, now)).toEqual({ ok: true, deliveryId: 'd-1', event: 'webhook' });
    expect(verifyGeneric({ headers: { ...headers, 'x-meshcode-event': 'alert.fired' }, rawBody }, secret, now)).toEqual(
      {
        ok: true,
        deliveryId: 'd-1',
        event: 'alert.fired',
      },
    );
  });

  it('rejects bad signatures with 401, a missing secret with 401, and a missing delivery id with 400', () => {
    const signature = signGeneric(rawBody, secret);
    for (const bad of [undefined, 'sha256=00', signature.replace(/.$/, (c) => (c === '0' ? '1' : '0'))]) {
      expect(
        verifyGeneric({ headers: { 'x-meshcode-signature': bad, 'x-meshcode-delivery': 'd' }, rawBody }, secret, now),
      ).toMatchObject({ ok: false, status: 401 });
    }
    expect(
      verifyGeneric(
        { headers: { 'x-meshcode-signature': signature, 'x-meshcode-delivery': 'd' }, rawBody },
        undefined,
        now,
      ),
    ).toMatchObject({ ok: false, status: 401 });
    expect(verifyGeneric({ headers: { 'x-meshcode-signature': signature }, rawBody }, secret, now)).toMatchObject({
      ok: false,
      status: 400,
    });
  });
});
