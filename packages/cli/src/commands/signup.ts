// `meshcode signup --email E`: create an account on the hub and keep its key in the credential store.
import type { Command } from 'commander';
import { signup } from '@meshcode/client';
import { action, type Io } from '../common';
import { CredentialError } from '../credentials';
import { CliError, EXIT } from '../errors';
import { printJson, progress } from '../output';
import { credentialStore } from '../session';

interface SignupOptions {
  email: string;
  displayName?: string;
}

export function register(program: Command, io: Io): void {
  program
    .command('signup')
    .description('create an account on the hub and store its API key (keychain, else a private file)')
    .requiredOption('--email <email>', 'your email address')
    .option('--display-name <name>', 'the name others see (default: the part of the email before @)')
    .action(
      action(io, async (ctx, opts: SignupOptions) => {
        const email = opts.email.trim();
        if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
          throw new CliError(`'${opts.email}' is not an email address`, EXIT.usage, 'pass --email you@example.com');
        }
        const displayName = opts.displayName?.trim() || email.split('@')[0] || '';
        progress(ctx, `signing up ${email} on ${ctx.hubUrl}…`);
        const res = await signup(ctx.hubUrl, email, displayName);
        const store = credentialStore(ctx);
        let stored: { source: string; location: string } | null = null;
        let failure: string | null = null;
        try {
          const saved = await store.set(ctx.hubUrl, res.key);
          for (const w of saved.warnings) ctx.err(`warning: ${w}`);
          stored = { source: saved.source, location: saved.location };
        } catch (err) {
          if (!(err instanceof CredentialError)) throw err;
          failure = err.message;
        }
        if (ctx.json) {
          printJson(ctx, {
            account: res.account,
            hub: ctx.hubUrl,
            stored_in: stored,
            // The key leaves the process only when it could not be kept anywhere: it is shown once, never again.
            ...(stored === null ? { key: res.key, error: failure } : {}),
          });
        } else if (stored !== null) {
          ctx.out(`Signed up as ${res.account.email} on ${ctx.hubUrl}.`);
          ctx.out(`API key stored in ${stored.location}.`);
          ctx.out('');
          ctx.out('Next: meshcode go commander');
        } else {
          ctx.out(`Signed up as ${res.account.email} on ${ctx.hubUrl}, but the API key could not be stored.`);
          ctx.out(`Your API key (shown once, save it now): ${res.key}`);
        }
        if (stored === null) {
          throw new CliError(
            `the API key could not be stored: ${failure ?? 'unknown error'}`,
            EXIT.failure,
            'fix that, then run meshcode login <the key printed above>',
          );
        }
      }),
    );
}
