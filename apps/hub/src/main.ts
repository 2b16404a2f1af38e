// `npm start` / `meshcode hub`: one hub on http://localhost:7700, embedded PGlite unless DATABASE_URL is set.
import { EnvError, loadHubEnv } from './env';
import { startHub } from './start';

async function main(): Promise<void> {
  const env = loadHubEnv();
  const started = Date.now();
  const running = await startHub(env);
  const where = running.database === 'pglite' ? `embedded PGlite in ${env.home}/data` : 'PostgreSQL (DATABASE_URL)';
  process.stderr.write(`MeshCode hub listening on ${running.url} (${where}, ready in ${Date.now() - started} ms)\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`MeshCode hub stopping (${signal})\n`);
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof EnvError) {
    process.stderr.write(`meshcode hub: ${err.message}\n`);
  } else {
    const e = err as { code?: string; message?: string };
    const msg =
      e.code === 'EADDRINUSE'
        ? 'the port is already in use: stop the other process or set PORT to another port'
        : (e.message ?? String(err));
    process.stderr.write(`meshcode hub: ${msg}\n`);
    if (process.env.MESHCODE_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
  }
  process.exit(1);
});
