import { randomUUID } from 'node:crypto';
import examples from '@octokit/webhooks-examples';
import { describe, expect, it } from 'vitest';
import { signGitHub, verifyGitHub } from './index';

const secret = 'It’s a Secret to Everybody';
const now = () => Date.now();

function delivery(name: string) {
  const definition = examples.find((d) => d.name === name);
  if (!definition) throw new Error(`no examples for ${name}`);
  return definition.examples;
}

describe.each(['pull_request', 'issues', 'issue_comment', 'push'])('GitHub %s deliveries', (event) => {
  it('accepts every real example signed with the secret, and names the delivery and event', () => {
    for (const payload of delivery(event)) {
      const rawBody = Buffer.from(JSON.stringify(payload));
      const id = randomUUID();
      const result = verifyGitHub(
        {
          headers: {
            'x-hub-signature-256': signGitHub(rawBody, secret),
            'x-github-event': event,
            'x-github-delivery': id,
          },
          rawBody,
        },
        secret,
        now,
      );
      expect(result).toEqual({ ok: true, deliveryId: id, event });
    }
  });

  it('rejects the same example when one byte of the body changed', () => {
    const payload = delivery(event)[0];
    const rawBody = Buffer.from(JSON.stringify(payload, null, 2));
    const signature = signGitHub(rawBody, secret);
    const tampered = Buffer.from(rawBody);
    tampered[tampered.length - 2] = tampered[tampered.length - 2]! ^ 1;
    const result = verifyGitHub(
      {
        headers: { 'x-hub-signature-256': signature, 'x-github-event': event, 'x-github-delivery': 'd' },
        rawBody: tampered,
      },
      secret,
      now,
    );
    expect(result).toMatchObject({ ok: false, status: 401 });
  });
});

describe('GitHub verifier failures', () => {
  const rawBody = Buffer.from(JSON.stringify(delivery('pull_request')[0]));
  const headers = {
    'x-hub-signature-256': signGitHub(rawBody, secret),
    'x-github-event': 'pull_request',
    'x-github-delivery': 'abc',
  };

  it('fails closed with 401 when no secret is configured', () => {
    const result = verifyGitHub({ headers, rawBody }, undefined, now);
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(!result.ok && result.reason).toMatch(/not configured/);
    expect(verifyGitHub({ headers, rawBody }, '', now)).toMatchObject({ ok: false, status: 401 });
  });

  it('rejects a missing signature, a wrong secret and a malformed header with 401', () => {
    const { 'x-hub-signature-256': _dropped, ...unsigned } = headers;
    expect(verifyGitHub({ headers: unsigned, rawBody }, secret, now)).toMatchObject({ ok: false, status: 401 });
    expect(verifyGitHub({ headers, rawBody }, 'another secret', now)).toMatchObject({ ok: false, status: 401 });
    for (const bad of ['sha1=abc', 'sha256=abc', `sha256=${'a'.repeat(66)}`, 'garbage', `sha256=${'z'.repeat(64)}`]) {
      expect(verifyGitHub({ headers: { ...headers, 'x-hub-signature-256': bad }, rawBody }, secret, now)).toMatchObject(
        {
          ok: false,
          status: 401,
        },
      );
    }
  });

  it('accepts header names in any case, an upper-case digest and a repeated header', () => {
    const signature = signGitHub(rawBody, secret);
    const result = verifyGitHub(
      {
        headers: {
          'X-Hub-Signature-256': [`sha256=${signature.slice(7).toUpperCase()}`, 'sha256=0'],
          'X-GitHub-Event': 'pull_request',
          'X-GitHub-Delivery': 'abc',
        },
        rawBody,
      },
      secret,
      now,
    );
    expect(result).toEqual({ ok: true, deliveryId: 'abc', event: 'pull_request' });
  });

  it('answers 400 for a verified delivery without event or delivery id', () => {
    expect(verifyGitHub({ headers: { ...headers, 'x-github-event': undefined }, rawBody }, secret, now)).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(
      verifyGitHub({ headers: { ...headers, 'x-github-delivery': undefined }, rawBody }, secret, now),
    ).toMatchObject({ ok: false, status: 400 });
  });
});
