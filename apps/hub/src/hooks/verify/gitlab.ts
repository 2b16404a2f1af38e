// GitLab: the secret token is echoed in X-Gitlab-Token; a "whsec_" signing token switches to the Standard Webhooks
// signature GitLab sends alongside (webhook-id equals Idempotency-Key).
import { badRequest, header, safeEqual, secretNotConfigured, sha256Hex, unauthorized } from './shared';
import { checkStandardWebhooksSignature } from './standard';
import type { Verifier } from './types';

export const verifyGitLab: Verifier = (req, secret, now) => {
  if (!secret) return secretNotConfigured('GitLab');
  let signedId: string | undefined;
  if (secret.startsWith('whsec_')) {
    const checked = checkStandardWebhooksSignature(req, secret, now);
    if (!checked.ok) return checked;
    signedId = checked.deliveryId;
  } else {
    const token = header(req, 'x-gitlab-token');
    if (!token) return unauthorized('Missing X-Gitlab-Token header; set the secret token on the GitLab webhook.');
    if (!safeEqual(token, secret)) {
      return unauthorized('X-Gitlab-Token does not match; copy the same secret token into GitLab and MeshCode.');
    }
  }
  const event = header(req, 'x-gitlab-event');
  if (!event) return badRequest('Missing X-Gitlab-Event header; deliveries must name their event.');
  // Idempotency-Key is stable across GitLab's retries; older GitLab only has the event UUID, and before that nothing.
  const deliveryId =
    signedId ??
    header(req, 'idempotency-key') ??
    header(req, 'x-gitlab-event-uuid') ??
    `sha256:${sha256Hex(req.rawBody)}`;
  return { ok: true, deliveryId, event };
};
