// `meshcode logout`: forget the stored key for this hub (keychain and file).
import type { Command } from 'commander';
import { action, type Io } from '../common';
import { printJson } from '../output';
import { credentialStore } from '../session';

export function register(program: Command, io: Io): void {
  program
    .command('logout')
    .description('remove the stored API key for this hub from the keychain and the credentials file')
    .action(
      action(io, async (ctx) => {
        const result = await credentialStore(ctx).delete(ctx.hubUrl);
        for (const w of result.warnings) ctx.err(`warning: ${w}`);
        if (ctx.json) {
          printJson(ctx, { hub: ctx.hubUrl, removed: result.removed });
          return;
        }
        const where = result.removed.map((r) => (r === 'keychain' ? 'the OS keychain' : 'the credentials file'));
        ctx.out(
          where.length > 0
            ? `Logged out of ${ctx.hubUrl}: removed the key from ${where.join(' and ')}.`
            : `No key was stored for ${ctx.hubUrl}; nothing to remove.`,
        );
      }),
    );
}
