// Standard Webhooks (standardwebhooks.com): webhook-signature holds space-separated "v1,<base64>" HMAC-SHA256
// signatures of "<webhook-id>.<webhook-timestamp>.<raw body>" under the base64 key of a "whsec_" secret.
import {
  header,
  hmacSha256,
  parseJsonObject,
  safeEqual,
  secretNotConfigured,
  unauthorized,
  type VerifyFailure,
} from './shared';
import type { Verifier, VerifyRequest } from './types';

export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 5 * 60;

export function standardWebhooksKey(secret: string): Buffer | undefined {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const key = Buffer.from(encoded, 'base64');
  return key.length > 0 ? key : undefined;
}

/** Checks the signature and timestamp; on success returns the webhook-id as the delivery id (event left to caller). */
export function checkStandardWebhooksSignature(
  req: VerifyRequest,
  secret: string,
  now: () => number,
): { ok: true; deliveryId: string } | VerifyFailure {
  const key = standardWebhooksKey(secret);
  if (!key) {
    return unauthorized('The Standard Webhooks secret is not a whsec_<base64> value; copy the signing secret exactly.');
  }
  const id = header(req, 'webhook-id');
  const timestamp = header(req, 'webhook-timestamp');
  const signatures = header(req, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    return unauthorized(
      'Missing webhook-id, webhook-timestamp or webhook-signature header; the sender must sign deliveries.',
    );
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return unauthorized('webhook-timestamp is not a Unix time in seconds.');
  }
  const skew = Math.abs(now() / 1000 - Number(timestamp));
  if (skew > STANDARD_WEBHOOKS_TOLERANCE_SECONDS) {
    return unauthorized(
      'webhook-timestamp is more than 5 minutes away from our clock; check the sender clock or resend.',
    );
  }
  const expected = hmacSha256(key, `${id}.${timestamp}.`, req.rawBody).toString('base64');
  const matched = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .some((entry) => safeEqual(entry.slice(3), expected));
  if (!matched) {
    return unauthorized('No v1 signature in webhook-signature matches the body; check the signing secret.');
  }
  return { ok: true, deliveryId: id };
}

export const verifyStandardWebhooks: Verifier = (req, secret, now) => {
  if (!secret) return secretNotConfigured('Standard Webhooks');
  const checked = checkStandardWebhooksSignature(req, secret, now);
  if (!checked.ok) return checked;
  const type = parseJsonObject(req.rawBody)?.['type'];
  return { ok: true, deliveryId: checked.deliveryId, event: typeof type === 'string' && type ? type : 'webhook' };
};
