// Before any test: make sure apps/web/dist matches the dashboard's sources (builds only when they changed).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './support/hub';

export default function globalSetup(): void {
  const r = spawnSync(process.execPath, [join(REPO, 'apps/web/scripts/build.mjs'), '--if-stale'], {
    cwd: REPO,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('the dashboard build failed (see above); fix it, then run the e2e tests again');
}
