// A real hub started exactly as `npm start` starts it (embedded PGlite in a throwaway MESHCODE_HOME, a free
// loopback port), which tests can stop and start again on the same port and data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(REPO, 'apps/hub/src/main.ts');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestHub {
  url: string;
  home: string;
  port: number;
  output(): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stop and remove the data directory. */
  dispose(): Promise<void>;
}

export async function startHub(opts: { home?: string; port?: number } = {}): Promise<TestHub> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'meshcode-e2e-'));
  const port = opts.port ?? (await freePort());
  let child: ChildProcess | null = null;
  let out = '';

  const start = async () => {
    out = '';
    // Always the embedded database in a throwaway home: these tests never touch a configured database.
    const env: NodeJS.ProcessEnv = { ...process.env, MESHCODE_HOME: home, PORT: String(port), HOST: '127.0.0.1' };
    delete env.DATABASE_URL;
    const c = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the hub did not start in 90 s:\n${out}`)), 90_000);
      const check = () => {
        if (out.includes('listening on')) {
          clearTimeout(timer);
          c.stderr!.off('data', check);
          c.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`the hub exited with ${code}:\n${out}`));
      };
      c.stderr!.on('data', check);
      c.once('exit', onExit);
    });
  };

  const stop = () =>
    new Promise<void>((resolve) => {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      const kill = setTimeout(() => c.kill('SIGKILL'), 10_000);
      c.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      c.kill('SIGTERM');
    });

  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    home,
    port,
    output: () => out,
    stop,
    start,
    async dispose() {
      await stop();
      if (!opts.home) rmSync(home, { recursive: true, force: true });
    },
  };
}
