import { describe, expect, it } from 'vitest';
import { findCredentials, formatValuePath, looksLikeCredential, redact, redactDeep } from './redact';

const samples: [string, string][] = [
  ['meshcode key', 'mc_4fJk2LmN9pQrS7tUvWxYz0aBcDeF'],
  ['invite token', 'mc_inv_8Hd72kLmQpZx91Ab'],
  ['GitHub classic token', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'],
  ['GitHub OAuth token', 'gho_16C7e42F292c6912E7710c838347Ae178B4a'],
  ['GitHub fine-grained token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV'],
  ['OpenAI key', 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ'],
  ['Anthropic key', 'sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ'],
  ['Slack bot token', 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp'],
  ['AWS access key', 'AKIAIOSFODNN7EXAMPLE'],
  [
    'JWT',
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwicm9sZSI6ImF1dGhlbnRpY2F0ZWQifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  ],
  ['GitLab token', 'glpat-xxxxxxxxxxxxxxxxxxxx'],
];

describe('redact', () => {
  it.each(samples)('masks a %s inside surrounding text', (_name, secret) => {
    const out = redact(`request failed with key ${secret}, retrying`);
    expect(out).not.toContain(secret);
    expect(out).toMatch(/^request failed with key \[REDACTED:[a-z-]+\], retrying$/);
  });

  it('masks bearer credentials and password assignments but keeps their labels', () => {
    expect(redact('Authorization: Bearer abc.def-123_456')).toBe('Authorization: Bearer [REDACTED:credential]');
    expect(redact('connect password=hunter2&user=bob')).toBe('connect password=[REDACTED:secret]&user=bob');
    expect(redact('{"api_key": "s3cr3t-value"}')).toBe('{"api_key": [REDACTED:secret]}');
    expect(redact('postgres://app:pa55word@db:5432/mesh')).toBe('postgres://app:[REDACTED:password]@db:5432/mesh');
  });

  it('masks Authorization header values of every scheme, but not prose', () => {
    expect(redact('Authorization: token 0123456789abcdef')).toBe('Authorization: token [REDACTED:credential]');
    expect(redact('authorization: Basic dXNlcjpwYXNzd29yZA==')).toBe('authorization: Basic [REDACTED:credential]');
    expect(redact('Basic authentication failed; token exceeded budget')).toBe(
      'Basic authentication failed; token exceeded budget',
    );
  });

  it('masks a PEM private key block', () => {
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
    expect(redact(`key:\n${pem}\nend`)).toBe('key:\n[REDACTED:private-key]\nend');
  });

  it('leaves ordinary text, RPC names and short identifiers alone', () => {
    const text = 'called mc_wait and mc_task_update for agent sk-1 in task 42; token count 1200';
    expect(redact(text)).toBe(text);
    expect(looksLikeCredential('anthropic.default')).toBe(false);
    expect(looksLikeCredential('ghp_16C7e42F292c6912E7710c838347Ae178B4a')).toBe(true);
  });

  it('redacts every string of a nested value', () => {
    expect(redactDeep({ a: ['x', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'], n: 1, b: { c: null } })).toEqual({
      a: ['x', '[REDACTED:github-token]'],
      n: 1,
      b: { c: null },
    });
  });

  it('finds the path of every string redactDeep would change, and writes it as a reader would', () => {
    const value = {
      name: 'w',
      events: [{ prompt: 'hello' }, { prompt: 'use password: hunter22', filter: { 'a.b': 'Bearer abcdefgh1234' } }],
      env: { GITHUB_TOKEN: 'ghp_16C7e42F292c6912E7710c838347Ae178B4a', N: 3 },
    };
    const found = findCredentials(value);
    expect(found).toEqual([
      ['events', 1, 'prompt'],
      ['events', 1, 'filter', 'a.b'],
      ['env', 'GITHUB_TOKEN'],
    ]);
    expect(found.length > 0).toBe(JSON.stringify(redactDeep(value)) !== JSON.stringify(value));
    expect(found.map(formatValuePath)).toEqual(['events[1].prompt', 'events[1].filter["a.b"]', 'env.GITHUB_TOKEN']);
    expect(findCredentials({ events: [{ prompt: 'hello' }] })).toEqual([]);
  });
});
