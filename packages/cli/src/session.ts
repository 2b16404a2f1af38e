// The caller's key for commands that talk to the hub (MESHCODE_API_KEY, then the keychain, then the 0600 file),
// and a client built from it.
import { createMeshClient, type MeshClient } from '@meshcode/client';
import type { Context } from './common';
import { createCredentialStore, type Credential, type CredentialStore } from './credentials';
import { CliError, EXIT } from './errors';

export function credentialStore(ctx: Context): CredentialStore {
  return createCredentialStore({ home: ctx.env.home, env: ctx.env.raw });
}

/**
 * The stored key for this hub, or null. Reading from the fallback file is not repeated as a warning on every command:
 * signup and login say it when the key is saved, and `meshcode status` shows it (--debug shows it everywhere).
 */
export async function findCredential(ctx: Context): Promise<Credential | null> {
  const { credential, warnings } = await credentialStore(ctx).get(ctx.hubUrl);
  if (ctx.debug) for (const w of warnings) ctx.err(`warning: ${w}`);
  return credential;
}

export function noCredentials(ctx: Context): CliError {
  return new CliError(
    'No credentials found. Run meshcode login first.',
    EXIT.auth,
    `meshcode login mc_… stores your key for ${ctx.hubUrl} (no account yet? meshcode signup --email you@example.com)`,
  );
}

export interface Session {
  client: MeshClient;
  credential: Credential;
}

export async function requireSession(ctx: Context): Promise<Session> {
  const credential = await findCredential(ctx);
  if (credential === null) throw noCredentials(ctx);
  return { credential, client: createMeshClient({ hubUrl: ctx.hubUrl, apiKey: credential.key }) };
}

/** A session when a key is stored, else null (for commands that can do part of their job offline). */
export async function optionalSession(ctx: Context): Promise<Session | null> {
  const credential = await findCredential(ctx);
  return credential === null
    ? null
    : { credential, client: createMeshClient({ hubUrl: ctx.hubUrl, apiKey: credential.key }) };
}
