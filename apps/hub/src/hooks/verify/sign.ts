// Signing counterparts of the verifiers, for tests, benchmarks and tools that post deliveries.
import { hmacSha256 } from './shared';
import { standardWebhooksKey } from './standard';

export function signGitHub(body: Buffer | string, secret: string): string {
  return `sha256=${hmacSha256(secret, body).toString('hex')}`;
}

export const signGeneric = signGitHub;

export function signSlack(body: Buffer | string, secret: string, timestampSeconds: number): string {
  return `v0=${hmacSha256(secret, `v0:${timestampSeconds}:`, body).toString('hex')}`;
}

export function signStandardWebhooks(
  id: string,
  timestampSeconds: number,
  body: Buffer | string,
  secret: string,
): string {
  const key = standardWebhooksKey(secret);
  if (!key) throw new Error('The Standard Webhooks secret must be whsec_<base64>.');
  return `v1,${hmacSha256(key, `${id}.${timestampSeconds}.`, body).toString('base64')}`;
}
