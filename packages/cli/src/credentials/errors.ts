// Typed, expected failures of the credential store: each message is one sentence saying what is wrong and how to fix it.
export type CredentialErrorCode =
  'invalid_key' | 'invalid_env' | 'invalid_hub_url' | 'insecure_permissions' | 'corrupt_file' | 'io';

export class CredentialError extends Error {
  override readonly name = 'CredentialError';
  constructor(
    readonly code: CredentialErrorCode,
    message: string,
  ) {
    super(message);
  }
}
