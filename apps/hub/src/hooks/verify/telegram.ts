// Telegram Bot API: the secret_token given to setWebhook comes back in X-Telegram-Bot-Api-Secret-Token;
// the delivery id is the Update's update_id.
import { badRequest, header, parseJsonObject, safeEqual, secretNotConfigured, unauthorized } from './shared';
import type { Verifier } from './types';

export const verifyTelegram: Verifier = (req, secret) => {
  if (!secret) return secretNotConfigured('Telegram');
  const token = header(req, 'x-telegram-bot-api-secret-token');
  if (!token) {
    return unauthorized('Missing X-Telegram-Bot-Api-Secret-Token header; pass secret_token to setWebhook.');
  }
  if (!safeEqual(token, secret)) {
    return unauthorized('X-Telegram-Bot-Api-Secret-Token does not match; use the same secret_token as in setWebhook.');
  }
  const update = parseJsonObject(req.rawBody);
  const updateId = update?.['update_id'];
  if (!update || typeof updateId !== 'number' || !Number.isSafeInteger(updateId)) {
    return badRequest('The body is not a Telegram Update with an integer update_id.');
  }
  const event = Object.keys(update).find((key) => key !== 'update_id') ?? 'update';
  return { ok: true, deliveryId: String(updateId), event };
};
