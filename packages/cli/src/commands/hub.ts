// `meshcode hub`: the server only (embedded PGlite, or DATABASE_URL), until Ctrl-C.
import type { Command } from 'commander';
import { action, type Context, type Io } from '../common';
import { CliError, EXIT } from '../errors';

export interface ServeOptions {
  port?: string;
  host?: string;
  data?: string;
}

export async function serve(
  ctx: Context,
  io: Io,
  opts: ServeOptions,
  banner: (url: string, where: string) => string[],
): Promise<void> {
  // Loaded here, not at the top: every other command (notably `meshcode mcp`, started by editors) stays light.
  const { loadHubEnv, startHub } = await import('@meshcode/hub');
  let env;
  try {
    env = loadHubEnv({
      ...io.env,
      ...(opts.port ? { PORT: opts.port } : {}),
      ...(opts.host ? { HOST: opts.host } : {}),
    });
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
  if (opts.data) env.dataDir = opts.data;
  let running;
  try {
    running = await startHub(env, (line) => ctx.err(line));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'EADDRINUSE') {
      throw new CliError(`port ${env.port} is already in use`, EXIT.failure, 'stop the other hub, or pass --port <n>');
    }
    throw err;
  }
  const where =
    running.database === 'pglite'
      ? `embedded PGlite in ${env.dataDir ?? `${env.home}/data`}`
      : 'PostgreSQL from DATABASE_URL';
  for (const line of banner(running.url, where)) ctx.err(line);
  await new Promise<void>((resolve) => {
    const stop = () => {
      ctx.err('stopping…');
      running.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function register(program: Command, io: Io): void {
  program
    .command('hub')
    .description('run the MeshCode hub server only (embedded database unless DATABASE_URL is set)')
    .option('-p, --port <port>', 'port to listen on (default 7700, or PORT)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--data <dir>', 'embedded database directory (default MESHCODE_HOME/data)')
    .action(
      action(io, async (ctx, opts: ServeOptions) => {
        await serve(ctx, io, opts, (url, where) => [`MeshCode hub listening on ${url} (${where})`]);
      }),
    );
}
