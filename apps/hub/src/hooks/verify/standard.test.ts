import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signStandardWebhooks, verifyGitLab, verifyStandardWebhooks } from './index';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const nowMs = 1_767_225_600_000;
const now = () => nowMs;
const ts = nowMs / 1000;
const rawBody = Buffer.from('{"type":"invoice.paid","timestamp":"2026-01-01T00:00:00Z","data":{"id":"in_1"}}');

function headers(signature: string, at = ts, id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W') {
  return { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': signature };
}

describe('Standard Webhooks verifier', () => {
  it('accepts a valid v1 signature and takes the event from the verified body', () => {
    const signature = signStandardWebhooks('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', ts, rawBody, secret);
    expect(verifyStandardWebhooks({ headers: headers(signature), rawBody }, secret, now)).toEqual({
      ok: true,
      deliveryId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      event: 'invoice.paid',
    });
  });

  it('accepts when any of several space-separated signatures matches (key rotation)', () => {
    const good = signStandardWebhooks('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', ts, rawBody, secret);
    const list = `v1,c2hvcnQ= v1a,${good.slice(3)} ${good}`;
    expect(verifyStandardWebhooks({ headers: headers(list), rawBody }, secret, now).ok).toBe(true);
  });

  it('rejects wrong, short and asymmetric-only signatures with 401', () => {
    const good = signStandardWebhooks('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', ts, rawBody, secret);
    for (const signature of ['v1,c2hvcnQ=', `v1a,${good.slice(3)}`, good.replace('v1,', 'v2,'), '']) {
      expect(verifyStandardWebhooks({ headers: headers(signature), rawBody }, secret, now)).toMatchObject({
        ok: false,
        status: 401,
      });
    }
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    expect(verifyStandardWebhooks({ headers: headers(good), rawBody }, other, now)).toMatchObject({
      ok: false,
      status: 401,
    });
  });

  it('rejects timestamps more than five minutes away, and a signature replayed under another id', () => {
    for (const at of [ts - 301, ts + 301]) {
      const signature = signStandardWebhooks('msg_1', at, rawBody, secret);
      expect(verifyStandardWebhooks({ headers: headers(signature, at, 'msg_1'), rawBody }, secret, now)).toMatchObject({
        ok: false,
        status: 401,
      });
    }
    const signature = signStandardWebhooks('msg_1', ts, rawBody, secret);
    expect(verifyStandardWebhooks({ headers: headers(signature, ts, 'msg_2'), rawBody }, secret, now)).toMatchObject({
      ok: false,
      status: 401,
    });
  });

  it('fails closed without a secret and rejects a secret that is not base64', () => {
    const signature = signStandardWebhooks('msg_1', ts, rawBody, secret);
    expect(verifyStandardWebhooks({ headers: headers(signature), rawBody }, undefined, now)).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(verifyStandardWebhooks({ headers: headers(signature), rawBody }, 'whsec_!!!', now)).toMatchObject({
      ok: false,
      status: 401,
    });
  });
});

describe('GitLab verifier', () => {
  const mergeRequest = Buffer.from(
    JSON.stringify({
      object_kind: 'merge_request',
      event_type: 'merge_request',
      user: { id: 1, name: 'Administrator', username: 'root' },
      project: { id: 1, name: 'Gitlab Test', path_with_namespace: 'gitlabhq/gitlab-test' },
      object_attributes: { id: 99, iid: 1, title: 'MS-Viewport', state: 'opened', action: 'open' },
    }),
  );
  const token = 'gitlab-secret-token';

  it('accepts a matching X-Gitlab-Token and prefers Idempotency-Key as the delivery id', () => {
    const result = verifyGitLab(
      {
        headers: {
          'x-gitlab-token': token,
          'x-gitlab-event': 'Merge Request Hook',
          'x-gitlab-event-uuid': 'b8a4e1f2-event',
          'idempotency-key': 'f1d2c3b4-idem',
        },
        rawBody: mergeRequest,
      },
      token,
      now,
    );
    expect(result).toEqual({ ok: true, deliveryId: 'f1d2c3b4-idem', event: 'Merge Request Hook' });
  });

  it('falls back to X-Gitlab-Event-UUID on GitLab versions without Idempotency-Key', () => {
    const result = verifyGitLab(
      {
        headers: { 'x-gitlab-token': token, 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'b8a4e1f2-event' },
        rawBody: mergeRequest,
      },
      token,
      now,
    );
    expect(result).toEqual({ ok: true, deliveryId: 'b8a4e1f2-event', event: 'Push Hook' });
  });

  it('rejects a wrong, missing or length-mismatched token with 401 and fails closed without a secret', () => {
    for (const given of ['gitlab-secret-tokeN', 'short', `${token}-and-more`, undefined]) {
      expect(
        verifyGitLab(
          { headers: { 'x-gitlab-token': given, 'x-gitlab-event': 'Push Hook' }, rawBody: mergeRequest },
          token,
          now,
        ),
      ).toMatchObject({ ok: false, status: 401 });
    }
    const result = verifyGitLab({ headers: { 'x-gitlab-token': token }, rawBody: mergeRequest }, undefined, now);
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(!result.ok && result.reason).toMatch(/not configured/);
  });

  it('verifies the Standard Webhooks signature when the secret is a whsec_ signing token', () => {
    const signature = signStandardWebhooks('f1d2c3b4-idem', ts, mergeRequest, secret);
    const base = { ...headers(signature, ts, 'f1d2c3b4-idem'), 'x-gitlab-event': 'Merge Request Hook' };
    expect(verifyGitLab({ headers: base, rawBody: mergeRequest }, secret, now)).toEqual({
      ok: true,
      deliveryId: 'f1d2c3b4-idem',
      event: 'Merge Request Hook',
    });
    // The plain token header is no substitute for the signature once a signing token is configured.
    expect(
      verifyGitLab(
        { headers: { 'x-gitlab-token': secret, 'x-gitlab-event': 'Merge Request Hook' }, rawBody: mergeRequest },
        secret,
        now,
      ),
    ).toMatchObject({ ok: false, status: 401 });
  });
});
