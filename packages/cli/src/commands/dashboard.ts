// `meshcode dashboard`: a one-time login link for the web dashboard on this hub (valid 10 minutes, used once),
// opened in the browser when run in a terminal.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { MeshError } from '@meshcode/client';
import { action, type Context, type Io } from '../common';
import { CliError, EXIT } from '../errors';
import { printJson, progress } from '../output';
import { requireSession } from '../session';

interface LoginLink {
  url: string;
  expires_at: string;
}

async function loginLink(ctx: Context, key: string): Promise<LoginLink> {
  let res: Response;
  try {
    res = await fetch(new URL('/auth/v1/login-link', ctx.hubUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new CliError(
      `could not reach the hub at ${ctx.hubUrl} (${(err as Error).message})`,
      EXIT.unreachable,
      'is it running? start it with meshcode up, or pass --hub',
    );
  }
  const body = (await res.json().catch(() => null)) as
    (Partial<LoginLink> & { message?: string; hint?: string }) | null;
  if (res.status === 401) {
    throw new CliError(
      `the hub at ${ctx.hubUrl} rejected the stored key (${body?.message ?? 'invalid, revoked or expired'})`,
      EXIT.auth,
      'run meshcode login <key> with a current account key',
    );
  }
  if (!res.ok || typeof body?.url !== 'string') {
    throw new MeshError(res.status, {
      code: String(res.status),
      message: body?.message ?? `the hub answered HTTP ${res.status}`,
      details: null,
      hint: body?.hint ?? null,
    });
  }
  return { url: body.url, expires_at: body.expires_at ?? '' };
}

/** Best effort: a browser may not exist here (SSH, CI); the printed link is the real answer. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener: the link is printed
  }
}

export function register(program: Command, io: Io): void {
  program
    .command('dashboard')
    .description('print a one-time login link for the web dashboard (valid 10 minutes, works once)')
    .option('--no-open', 'do not open the link in a browser')
    .action(
      action(io, async (ctx, opts: { open: boolean }) => {
        const { credential } = await requireSession(ctx);
        progress(ctx, `asking ${ctx.hubUrl} for a login link…`);
        const link = await loginLink(ctx, credential.key);
        if (ctx.json) {
          printJson(ctx, link);
          return;
        }
        ctx.out(link.url);
        ctx.err('This link logs a browser in to your account once and expires in 10 minutes; do not share it.');
        if (opts.open && process.stdout.isTTY) openBrowser(link.url);
      }),
    );
}
