// The OS keychain behind one interface, so callers (and tests) can pass their own factory.
type MaybePromise<T> = T | Promise<T>;

export interface KeyringEntry {
  getPassword(): MaybePromise<string | null>;
  setPassword(password: string): MaybePromise<void>;
  deletePassword(): MaybePromise<boolean>;
}

/** Returns an entry, or throws when the keychain cannot be reached (the store then falls back to the file). */
export type KeyringFactory = (service: string, account: string) => MaybePromise<KeyringEntry>;

export const defaultKeyringFactory: KeyringFactory = async (service, account) => {
  // Loaded lazily: a platform without a prebuilt binding then means "keychain unavailable", not a crash at startup.
  const { AsyncEntry } = await import('@napi-rs/keyring');
  // On Linux the binding silently falls back to the kernel keyring, which forgets everything at reboot; pinning
  // the Secret Service makes a missing D-Bus session an error we can see and answer with the file fallback.
  return new AsyncEntry(service, account, process.platform === 'linux' ? { linux: { store: 'secret-service' } } : null);
};

/** The first line of a keychain error, without a stack: enough to tell the user why the keychain was skipped. */
export function describeKeyringError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split('\n')[0]?.trim() ?? '';
  return (line === '' ? 'unknown error' : line).slice(0, 200);
}
