// GitHub: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256 of the raw body under the webhook secret.
import { badRequest, header, hmacSha256, isHex, safeEqual, secretNotConfigured, unauthorized } from './shared';
import type { Verifier } from './types';

export const verifyGitHub: Verifier = (req, secret) => {
  if (!secret) return secretNotConfigured('GitHub');
  const signature = header(req, 'x-hub-signature-256');
  if (!signature) {
    return unauthorized('Missing X-Hub-Signature-256 header; set a secret on the GitHub webhook.');
  }
  const hex = signature.startsWith('sha256=') ? signature.slice('sha256='.length) : '';
  if (!isHex(hex, 64)) {
    return unauthorized(
      'X-Hub-Signature-256 is not of the form sha256=<64 hex digits>; send the header GitHub computes.',
    );
  }
  const expected = hmacSha256(secret, req.rawBody).toString('hex');
  if (!safeEqual(hex.toLowerCase(), expected)) {
    return unauthorized(
      'X-Hub-Signature-256 does not match the body; check that both sides use the same webhook secret.',
    );
  }
  const event = header(req, 'x-github-event');
  if (!event) return badRequest('Missing X-GitHub-Event header; deliveries must name their event.');
  const deliveryId = header(req, 'x-github-delivery');
  if (!deliveryId) return badRequest('Missing X-GitHub-Delivery header; deliveries must carry their id.');
  return { ok: true, deliveryId, event };
};
