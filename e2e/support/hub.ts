// A real hub started exactly as `npm start` starts it (embedded PGlite in a throwaway MESHCODE_HOME, a free
// loopback port), which tests can stop and start again on the same port and data.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnHub, type HubProcess } from '../../apps/hub/src/testing/hub-process';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

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
  let running: HubProcess | null = null;
  let last: HubProcess | null = null;

  const start = async () => {
    // Always the embedded database in a throwaway home: these tests never touch a configured database.
    running = await spawnHub({ MESHCODE_HOME: home }, port, {
      unset: ['DATABASE_URL'],
      cwd: REPO,
      startTimeoutMs: 90_000,
    });
    last = running;
  };

  const stop = async () => {
    const hub = running;
    running = null;
    if (!hub) return;
    const force = setTimeout(() => hub.child.kill('SIGKILL'), 10_000);
    try {
      await hub.kill('SIGTERM');
    } finally {
      clearTimeout(force);
    }
  };

  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    home,
    port,
    output: () => last?.output() ?? '',
    stop,
    start,
    async dispose() {
      await stop();
      if (!opts.home) rmSync(home, { recursive: true, force: true });
    },
  };
}
