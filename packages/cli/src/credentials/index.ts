export { createCredentialStore } from './store';
export type {
  Credential,
  CredentialSource,
  CredentialStore,
  CredentialStoreOptions,
  DeleteResult,
  GetResult,
  SetResult,
  WhereResult,
} from './store';
export { CredentialError, type CredentialErrorCode } from './errors';
export { defaultKeyringFactory, type KeyringEntry, type KeyringFactory } from './keyring';
export { assertApiKey, isApiKey, normalizeHubUrl } from './key';
