// `meshcode login <key>`: check the key against the hub, then keep it (keychain, else a private file).
import type { Command } from 'commander';
import { createMeshClient, MeshError } from '@meshcode/client';
import { action, type Io } from '../common';
import { assertApiKey } from '../credentials';
import { CliError, EXIT } from '../errors';
import { printJson, progress } from '../output';
import { credentialStore } from '../session';

export function register(program: Command, io: Io): void {
  program
    .command('login')
    .description('check an API key against the hub and store it (OS keychain, else a private file)')
    .argument('<key>', 'your API key (mc_…)')
    .action(
      action(io, async (ctx, raw: string) => {
        // Shape first: an invite token or a pasted fragment gets its own sentence before any network call.
        const key = assertApiKey(raw);
        progress(ctx, `checking the key with ${ctx.hubUrl}…`);
        let me;
        try {
          me = await createMeshClient({ hubUrl: ctx.hubUrl, apiKey: key }).whoami();
        } catch (err) {
          if (err instanceof MeshError && err.status === 401) {
            throw new CliError(
              `the hub at ${ctx.hubUrl} rejected that key (it is invalid, revoked or expired)`,
              EXIT.auth,
              'copy a fresh key from the dashboard, or create an account with meshcode signup --email you@example.com',
            );
          }
          throw err;
        }
        const saved = await credentialStore(ctx).set(ctx.hubUrl, key);
        for (const w of saved.warnings) ctx.err(`warning: ${w}`);
        if (ctx.json) {
          printJson(ctx, {
            account: me.account,
            key: me.key,
            hub: ctx.hubUrl,
            stored_in: { source: saved.source, location: saved.location },
          });
          return;
        }
        const who = me.account.display_name ? `${me.account.display_name} <${me.account.email}>` : me.account.email;
        ctx.out(`Logged in as ${who} on ${ctx.hubUrl}.`);
        ctx.out(`API key stored in ${saved.location}.`);
        if (me.key.scope !== 'owner' && me.key.agent) {
          ctx.out(
            `This key is bound to agent '${me.key.agent}' in project '${me.key.meshwork ?? '?'}': run meshcode run ${me.key.agent}`,
          );
        } else {
          ctx.out('Next: meshcode go commander');
        }
      }),
    );
}
