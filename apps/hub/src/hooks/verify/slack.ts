// Slack v0 signing: X-Slack-Signature = "v0=" + hex HMAC-SHA256 of "v0:<X-Slack-Request-Timestamp>:<raw body>",
// timestamp within 300 s. The url_verification challenge is answered by the caller, only after verification.
import {
  header,
  hmacSha256,
  isHex,
  parseJsonObject,
  safeEqual,
  secretNotConfigured,
  sha256Hex,
  unauthorized,
} from './shared';
import type { Verifier, VerifyResult } from './types';

export const SLACK_WINDOW_SECONDS = 300;

export const verifySlack: Verifier = (req, secret, now) => {
  if (!secret) return secretNotConfigured('Slack');
  const timestamp = header(req, 'x-slack-request-timestamp');
  const signature = header(req, 'x-slack-signature');
  if (!timestamp || !signature) {
    return unauthorized('Missing X-Slack-Signature or X-Slack-Request-Timestamp header; only Slack may call this URL.');
  }
  if (!/^\d{1,12}$/.test(timestamp)) return unauthorized('X-Slack-Request-Timestamp is not a Unix time in seconds.');
  if (Math.abs(now() / 1000 - Number(timestamp)) > SLACK_WINDOW_SECONDS) {
    return unauthorized(
      'X-Slack-Request-Timestamp is more than 300 seconds from our clock; the request may be a replay.',
    );
  }
  const hex = signature.startsWith('v0=') ? signature.slice(3) : '';
  if (!isHex(hex, 64)) return unauthorized('X-Slack-Signature is not of the form v0=<64 hex digits>.');
  const expected = hmacSha256(secret, `v0:${timestamp}:`, req.rawBody).toString('hex');
  if (!safeEqual(hex.toLowerCase(), expected)) {
    return unauthorized('X-Slack-Signature does not match the body; check the Slack app signing secret.');
  }
  return { ok: true, ...slackIdentity(req.rawBody) };
};

/** Delivery id and event name of a verified Slack request (Events API JSON, or form-encoded commands/interactions). */
function slackIdentity(rawBody: Buffer): { deliveryId: string; event: string } {
  const fallback = `sha256:${sha256Hex(rawBody)}`;
  const json = parseJsonObject(rawBody);
  if (json) {
    const type = typeof json['type'] === 'string' ? json['type'] : 'unknown';
    const inner = json['event'];
    const innerType =
      inner && typeof inner === 'object' && typeof (inner as Record<string, unknown>)['type'] === 'string'
        ? ((inner as Record<string, unknown>)['type'] as string)
        : undefined;
    const eventId = typeof json['event_id'] === 'string' ? json['event_id'] : undefined;
    return { deliveryId: eventId ?? fallback, event: type === 'event_callback' && innerType ? innerType : type };
  }
  const form = new URLSearchParams(rawBody.toString('utf8'));
  const payload = form.get('payload');
  if (payload) {
    const parsed = parseJsonObject(Buffer.from(payload, 'utf8')) ?? {};
    const triggerId = parsed['trigger_id'];
    return {
      deliveryId: typeof triggerId === 'string' ? triggerId : fallback,
      event: typeof parsed['type'] === 'string' ? parsed['type'] : 'interaction',
    };
  }
  if (form.get('command')) return { deliveryId: form.get('trigger_id') ?? fallback, event: 'slash_command' };
  return { deliveryId: fallback, event: 'unknown' };
}

/**
 * The challenge to echo for Slack's url_verification handshake. Takes the verification result so it cannot be asked
 * before the signature was checked: an unverified request never gets an echo.
 */
export function slackUrlVerification(verified: VerifyResult, rawBody: Buffer): { challenge: string } | undefined {
  if (!verified.ok || verified.event !== 'url_verification') return undefined;
  const challenge = parseJsonObject(rawBody)?.['challenge'];
  return typeof challenge === 'string' ? { challenge } : undefined;
}
