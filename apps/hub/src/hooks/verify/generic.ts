// Generic webhooks: X-Meshcode-Signature = "sha256=" + hex HMAC-SHA256 of the raw body, X-Meshcode-Delivery names
// the delivery, X-Meshcode-Event (optional) the event.
import { badRequest, header, hmacSha256, isHex, safeEqual, secretNotConfigured, unauthorized } from './shared';
import type { Verifier } from './types';

export const verifyGeneric: Verifier = (req, secret) => {
  if (!secret) return secretNotConfigured('generic');
  const signature = header(req, 'x-meshcode-signature');
  if (!signature) return unauthorized('Missing X-Meshcode-Signature header; sign the body as sha256=<hex HMAC>.');
  const hex = signature.startsWith('sha256=') ? signature.slice('sha256='.length) : '';
  if (!isHex(hex, 64)) return unauthorized('X-Meshcode-Signature is not of the form sha256=<64 hex digits>.');
  const expected = hmacSha256(secret, req.rawBody).toString('hex');
  if (!safeEqual(hex.toLowerCase(), expected)) {
    return unauthorized('X-Meshcode-Signature does not match the body; check the webhook secret.');
  }
  const deliveryId = header(req, 'x-meshcode-delivery');
  if (!deliveryId) return badRequest('Missing X-Meshcode-Delivery header; give every delivery a unique id.');
  return { ok: true, deliveryId, event: header(req, 'x-meshcode-event') || 'webhook' };
};
