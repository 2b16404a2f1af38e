// Shapes of the strings the store handles: API keys and the hub URL that names a keychain account.
import { CredentialError } from './errors';

const API_KEY = /^mc_[A-Za-z0-9_]+$/;

export function isApiKey(value: string): boolean {
  return API_KEY.test(value) && !value.startsWith('mc_inv_');
}

export function assertApiKey(value: string): string {
  const key = value.trim();
  if (key.startsWith('mc_inv_')) {
    throw new CredentialError(
      'invalid_key',
      'That is an invite token, not an API key; redeem it with `meshcode join <invite>` instead.',
    );
  }
  if (!isApiKey(key)) {
    throw new CredentialError(
      'invalid_key',
      'That does not look like a MeshCode API key (it must start with mc_ and contain only letters, digits and _); copy it again from the dashboard.',
    );
  }
  return key;
}

/** The keychain account and file key for a hub: scheme, host, port and path, without a trailing slash. */
export function normalizeHubUrl(hubUrl: string): string {
  let url: URL;
  try {
    url = new URL(hubUrl);
  } catch {
    throw new CredentialError(
      'invalid_hub_url',
      `"${hubUrl}" is not a valid hub URL; pass one like http://localhost:7700.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CredentialError(
      'invalid_hub_url',
      `"${hubUrl}" is not an http(s) URL; pass one like http://localhost:7700.`,
    );
  }
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}
