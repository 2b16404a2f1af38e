// Where MeshCode keeps API keys: MESHCODE_API_KEY, then the OS keychain, then a private file when no keychain exists.
import { CredentialError } from './errors';
import { parseCredentialEnv } from './env';
import { CredentialFile } from './file';
import { defaultKeyringFactory, describeKeyringError, type KeyringEntry, type KeyringFactory } from './keyring';
import { assertApiKey, normalizeHubUrl } from './key';

export type CredentialSource = 'env' | 'keychain' | 'file';

export interface CredentialStoreOptions {
  /** MESHCODE_HOME: the fallback file lives at `${home}/credentials.json`. */
  home: string;
  /** The raw environment; only MESHCODE_API_KEY is read. */
  env: Record<string, string | undefined>;
  service?: string;
  keyringFactory?: KeyringFactory;
}

export interface Credential {
  key: string;
  source: CredentialSource;
  /** Human-readable place: the variable name, the keychain entry, or the file path. */
  location: string;
}

export interface GetResult {
  credential: Credential | null;
  /** Things the CLI should print on stderr (keychain unavailable, key read from a file...). */
  warnings: string[];
}

export interface SetResult {
  source: 'keychain' | 'file';
  location: string;
  warnings: string[];
}

export interface DeleteResult {
  removed: ('keychain' | 'file')[];
  warnings: string[];
}

export interface WhereResult {
  /** Where the key `get` returns comes from, or where `set` would store one when none is found. */
  source: CredentialSource;
  location: string;
  found: boolean;
  warnings: string[];
}

export interface CredentialStore {
  get(hubUrl: string): Promise<GetResult>;
  set(hubUrl: string, key: string): Promise<SetResult>;
  delete(hubUrl: string): Promise<DeleteResult>;
  where(hubUrl: string): Promise<WhereResult>;
  /** The fallback file's path, for messages. */
  readonly filePath: string;
}

type KeychainAttempt<T> = { ok: true; value: T } | { ok: false; reason: string };

export function createCredentialStore(options: CredentialStoreOptions): CredentialStore {
  const env = parseCredentialEnv(options.env);
  const service = options.service ?? 'meshcode';
  const factory = options.keyringFactory ?? defaultKeyringFactory;
  const file = new CredentialFile(options.home);

  const keychainLocation = (account: string) => `OS keychain (service "${service}", account "${account}")`;
  const envOverrideWarning =
    'MESHCODE_API_KEY is set in your environment and overrides any stored key; unset it to use the stored one.';

  async function withKeychain<T>(
    account: string,
    run: (entry: KeyringEntry) => Promise<T>,
  ): Promise<KeychainAttempt<T>> {
    try {
      const entry = await factory(service, account);
      return { ok: true, value: await run(entry) };
    } catch (err) {
      return { ok: false, reason: describeKeyringError(err) };
    }
  }

  function fallbackWarning(reason: string, action: 'saved in' | 'read from'): string {
    const hint =
      process.platform === 'linux'
        ? 'install and unlock a Secret Service provider (gnome-keyring or KWallet) to keep keys out of files'
        : 'unlock the OS keychain to keep keys out of files';
    return `The OS keychain is unavailable (${reason}), so the API key was ${action} ${file.path}, readable only by you; ${hint}.`;
  }

  async function lookup(hubUrl: string): Promise<GetResult & { keychainReason: string | null }> {
    const account = normalizeHubUrl(hubUrl);
    if (env.apiKey !== undefined) {
      return {
        credential: { key: env.apiKey, source: 'env', location: 'MESHCODE_API_KEY' },
        warnings: [],
        keychainReason: null,
      };
    }
    const fromKeychain = await withKeychain(account, async (entry) => await entry.getPassword());
    if (fromKeychain.ok && fromKeychain.value !== null) {
      return {
        credential: { key: fromKeychain.value, source: 'keychain', location: keychainLocation(account) },
        warnings: [],
        keychainReason: null,
      };
    }
    const keychainReason = fromKeychain.ok ? null : fromKeychain.reason;
    const stored = (await file.read())[account];
    if (stored === undefined) return { credential: null, warnings: [], keychainReason };
    const warnings =
      keychainReason === null
        ? [
            `The API key for ${account} was read from ${file.path} although the OS keychain now works; run \`meshcode login <key>\` again to move it into the keychain.`,
          ]
        : [fallbackWarning(keychainReason, 'read from')];
    return { credential: { key: stored, source: 'file', location: file.path }, warnings, keychainReason };
  }

  return {
    filePath: file.path,

    async get(hubUrl) {
      const { credential, warnings } = await lookup(hubUrl);
      return { credential, warnings };
    },

    async where(hubUrl) {
      const { credential, warnings, keychainReason } = await lookup(hubUrl);
      if (credential !== null)
        return { source: credential.source, location: credential.location, found: true, warnings };
      const account = normalizeHubUrl(hubUrl);
      if (keychainReason === null)
        return { source: 'keychain', location: keychainLocation(account), found: false, warnings };
      return { source: 'file', location: file.path, found: false, warnings };
    },

    async set(hubUrl, rawKey) {
      const account = normalizeHubUrl(hubUrl);
      const key = assertApiKey(rawKey);
      const warnings = env.apiKey !== undefined ? [envOverrideWarning] : [];
      const saved = await withKeychain(account, async (entry) => {
        await entry.setPassword(key);
      });
      if (saved.ok) {
        // A copy left in the file from a time without keychain would be plaintext on disk for no reason.
        try {
          const keys = await file.read();
          if (account in keys) {
            delete keys[account];
            await file.write(keys);
          }
        } catch (err) {
          if (!(err instanceof CredentialError)) throw err;
          warnings.push(`The key is now in the OS keychain, but an older copy could not be removed: ${err.message}`);
        }
        return { source: 'keychain', location: keychainLocation(account), warnings };
      }
      const keys = await file.read();
      keys[account] = key;
      await file.write(keys);
      warnings.push(fallbackWarning(saved.reason, 'saved in'));
      return { source: 'file', location: file.path, warnings };
    },

    async delete(hubUrl) {
      const account = normalizeHubUrl(hubUrl);
      const removed: DeleteResult['removed'] = [];
      const warnings: string[] = [];
      const fromKeychain = await withKeychain(account, async (entry) => await entry.deletePassword());
      if (fromKeychain.ok && fromKeychain.value) removed.push('keychain');
      if (!fromKeychain.ok)
        warnings.push(`The OS keychain is unavailable (${fromKeychain.reason}); only ${file.path} was checked.`);
      const keys = await file.read();
      if (account in keys) {
        delete keys[account];
        await file.write(keys);
        removed.push('file');
      }
      if (env.apiKey !== undefined) {
        warnings.push(
          'MESHCODE_API_KEY is still set in your environment and keeps providing a key; unset it to log out completely.',
        );
      }
      return { removed, warnings };
    },
  };
}
