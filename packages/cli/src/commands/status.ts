// `meshcode status`: who you are, which hub and whether it answers, where the key is kept, and the version.
// Works without a hub: what can be known locally is shown, with a note for the rest.
import type { Command } from 'commander';
import { createMeshClient, MeshError } from '@meshcode/client';
import type { Whoami } from '@meshcode/protocol';
import { action, type Context, type Io } from '../common';
import { printJson } from '../output';
import { credentialStore } from '../session';
import { VERSION } from '../version';

interface Health {
  reachable: boolean;
  version?: string;
  database?: string;
  error?: string;
}

async function health(hubUrl: string): Promise<Health> {
  try {
    const res = await fetch(new URL('/health', hubUrl), { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json().catch(() => ({}))) as { version?: unknown; database?: unknown };
    if (!res.ok) return { reachable: false, error: `it answered HTTP ${res.status}` };
    return {
      reachable: true,
      version: typeof body.version === 'string' ? body.version : undefined,
      database: typeof body.database === 'string' ? body.database : undefined,
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return { reachable: false, error: cause };
  }
}

async function report(ctx: Context) {
  const [hub, where] = await Promise.all([health(ctx.hubUrl), credentialStore(ctx).where(ctx.hubUrl)]);
  for (const w of where.warnings) ctx.err(`warning: ${w}`);
  let account: Whoami | null = null;
  let note: string | null = null;
  if (!where.found) {
    note = 'not logged in: run meshcode login <key> (or meshcode signup --email you@example.com)';
  } else if (!hub.reachable) {
    note = 'the hub is unreachable, so the account could not be checked; start it with meshcode up, or pass --hub';
  } else {
    const { credential } = await credentialStore(ctx).get(ctx.hubUrl);
    try {
      account = await createMeshClient({ hubUrl: ctx.hubUrl, apiKey: credential?.key ?? '' }).whoami();
    } catch (err) {
      if (!(err instanceof MeshError)) throw err;
      note =
        err.status === 401
          ? 'the stored key was rejected (invalid, revoked or expired): run meshcode login <key> with a fresh one'
          : `the account could not be checked: ${err.toSentence()}`;
    }
  }
  return { hub, where, account, note };
}

export function register(program: Command, io: Io): void {
  program
    .command('status')
    .description(
      'show the logged-in account, the hub and whether it is reachable, where the key is stored, and the version',
    )
    .action(
      action(io, async (ctx) => {
        const { hub, where, account, note } = await report(ctx);
        if (ctx.json) {
          printJson(ctx, {
            version: VERSION,
            hub: { url: ctx.hubUrl, ...hub },
            logged_in: account !== null,
            account: account?.account ?? null,
            key: {
              found: where.found,
              source: where.found ? where.source : null,
              location: where.found ? where.location : null,
              scope: account?.key.scope ?? null,
            },
            home: ctx.env.home,
            note,
          });
          return;
        }
        const hubLine = hub.reachable
          ? `${ctx.hubUrl} (reachable${hub.version ? `, hub ${hub.version}` : ''}${hub.database ? `, ${hub.database}` : ''})`
          : `${ctx.hubUrl} (unreachable: ${hub.error ?? 'no answer'})`;
        const who = account
          ? `${account.account.display_name ? `${account.account.display_name} <${account.account.email}>` : account.account.email} (${account.key.scope} key${account.key.agent ? ` for agent ${account.key.agent} in ${account.key.meshwork ?? '?'}` : ''})`
          : 'unknown';
        const keyLine = where.found
          ? where.source === 'env'
            ? 'from MESHCODE_API_KEY'
            : `stored in ${where.location}`
          : 'none stored';
        ctx.out(`meshcode ${VERSION}`);
        ctx.out(`Hub:      ${hubLine}`);
        ctx.out(`Account:  ${who}`);
        ctx.out(`Key:      ${keyLine}`);
        ctx.out(`Home:     ${ctx.env.home}`);
        if (note) ctx.out(`Note:     ${note}`);
      }),
    );
}
