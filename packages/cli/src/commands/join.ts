// `meshcode join <invite-or-url> --display-name "…"`: redeem an invite (no account needed) and keep the key it mints
// (keychain, else a 0600 file). The key is good for one agent slot in one project; `meshcode run <agent>` is next.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { parseInviteRef, redeemInvite } from '@meshcode/client';
import { INVITE_PATTERN } from '@meshcode/protocol';
import { action, type Io } from '../common';
import { CredentialError, normalizeHubUrl } from '../credentials';
import { CliError, EXIT } from '../errors';
import { printJson, progress, shellArg } from '../output';
import { credentialStore } from '../session';

interface JoinOptions {
  displayName?: string;
  replace?: boolean;
}

/** The token of an invite as pasted, checked offline: shape and checksum catch a truncated or mistyped copy. */
export function inviteToken(raw: string): { token: string; origin?: string } {
  const ref = parseInviteRef(raw);
  if (ref === null) {
    throw new CliError(
      `'${raw.slice(0, 80)}' is not an invite`,
      EXIT.usage,
      'pass the mc_inv_… token or the whole join URL you were given (https://…/join/mc_inv_…)',
    );
  }
  const sum = createHash('sha256').update(ref.token.slice(0, -6), 'utf8').digest('hex').slice(0, 6);
  if (!INVITE_PATTERN.test(ref.token) || sum !== ref.token.slice(-6)) {
    throw new CliError(
      'that invite looks incomplete or mistyped (its checksum does not match)',
      EXIT.usage,
      'copy the whole join URL again, or ask the project owner to send it again',
    );
  }
  return ref;
}

/** The folder the key file would be written to must not be open to other users (checked before redeeming). */
async function assertPrivateHome(home: string): Promise<void> {
  if (process.platform === 'win32') return;
  const st = await stat(home).catch(() => null);
  if (st !== null && (st.mode & 0o077) !== 0) {
    throw new CredentialError(
      'insecure_permissions',
      `Refusing to store a key in ${home} because it is open to other users (mode ${(st.mode & 0o777).toString(8)}); run \`chmod 700 ${shellArg(home)}\` and try again.`,
    );
  }
}

function defaultName(): string {
  try {
    return userInfo().username || 'Guest';
  } catch {
    return 'Guest';
  }
}

export function register(program: Command, io: Io): void {
  program
    .command('join')
    .description('redeem an invite (no account needed) and store the key it gives you for one agent slot')
    .argument('<invite>', 'the join URL or the mc_inv_… token you were given')
    .option('--display-name <name>', 'the name the team sees (default: your user name)')
    .option('--replace', 'replace a key already stored for this hub with the new one')
    .action(
      action(io, async (ctx, raw: string, opts: JoinOptions) => {
        const ref = inviteToken(raw);
        // The dashboard and the hub share one origin: a join URL says which hub, unless --hub says otherwise.
        const explicitHub = (program.opts() as { hub?: string }).hub;
        const hubUrl = (explicitHub ?? ref.origin ?? ctx.hubUrl).replace(/\/+$/, '');
        const store = credentialStore(ctx);
        // Reading checks the key file's and folder's modes: a refusal comes before the invite is used up.
        const existing = (await store.get(hubUrl)).credential;
        if ((await store.where(hubUrl)).source === 'file') await assertPrivateHome(ctx.env.home);
        if (existing !== null && existing.source !== 'env' && !opts.replace) {
          throw new CliError(
            `a key for ${hubUrl} is already stored in ${existing.location}; joining would replace it`,
            EXIT.usage,
            "pass --replace to use the invite's key instead, or set MESHCODE_HOME to another folder to keep both",
          );
        }
        const displayName = (opts.displayName ?? '').trim() || defaultName();
        progress(ctx, `redeeming the invite on ${hubUrl}…`);
        const joined = await redeemInvite(hubUrl, ref.token, displayName);
        let stored: { source: string; location: string } | null = null;
        let failure: string | null = null;
        try {
          const saved = await store.set(hubUrl, joined.key);
          for (const w of saved.warnings) ctx.err(`warning: ${w}`);
          stored = { source: saved.source, location: saved.location };
        } catch (err) {
          if (!(err instanceof CredentialError)) throw err;
          failure = err.message;
        }
        const sameHub = normalizeHubUrl(hubUrl) === normalizeHubUrl(ctx.env.hubUrl);
        const next = sameHub
          ? `meshcode run ${joined.agent}`
          : `meshcode --hub ${shellArg(hubUrl)} run ${joined.agent}`;
        if (ctx.json) {
          printJson(ctx, {
            account: joined.account,
            meshwork: joined.meshwork,
            agent: joined.agent,
            role: joined.role,
            hub: hubUrl,
            stored_in: stored,
            next,
            // The key leaves the process only when it could not be kept: it is shown once, never again.
            ...(stored === null ? { key: joined.key, error: failure } : {}),
          });
        } else {
          ctx.out(
            `Joined project '${joined.meshwork}' as ${joined.account.display_name} (guest), for agent '${joined.agent}'${joined.role ? ` (${joined.role})` : ''}.`,
          );
          if (stored !== null) {
            ctx.out(`Key stored in ${stored.location}; it works for that agent slot only.`);
            ctx.out('');
            ctx.out(`Next: ${next}`);
          } else {
            ctx.out(`The key could not be stored. Your key (shown once, save it now): ${joined.key}`);
          }
        }
        if (stored === null) {
          throw new CliError(
            `the key could not be stored: ${failure ?? 'unknown error'}`,
            EXIT.failure,
            `fix that, then run meshcode login <the key printed above> --hub ${hubUrl}`,
          );
        }
      }),
    );
}
