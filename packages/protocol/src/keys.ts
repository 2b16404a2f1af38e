// Key and token formats. A key is `mc_` + 32 base62 chars + 6 hex chars of sha256 checksum; invite tokens use `mc_inv_`.
export const KEY_PATTERN = /^mc_[0-9A-Za-z]{32}[0-9a-f]{6}$/;
export const INVITE_PATTERN = /^mc_inv_[0-9A-Za-z]{32}[0-9a-f]{6}$/;

export function looksLikeKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

export function looksLikeInvite(value: string): boolean {
  return INVITE_PATTERN.test(value);
}
