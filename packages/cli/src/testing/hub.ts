// A real hub for CLI tests: PGlite from the migrated snapshot, served on a loopback port for the whole file.
// (The hub's own suites cover PostgreSQL; the issue scenario test runs the CLI against both backends.)
import { afterAll, beforeAll } from 'vitest';
import { openTestDb, type TestDb } from '@meshcode/db/testing';
import { startTestHub, type HubFixture } from '../../../../apps/hub/src/testing/hub-fixture';

export function useTestHub(): { url(): string } {
  let testDb: TestDb | undefined;
  let hub: HubFixture | undefined;
  beforeAll(async () => {
    testDb = await openTestDb('pglite');
    hub = await startTestHub(testDb.db);
  });
  afterAll(async () => {
    await hub?.close();
    await testDb?.dispose();
  });
  return {
    url() {
      if (hub === undefined) throw new Error('the test hub is not running yet; call url() inside a hook or a test');
      return hub.url;
    },
  };
}
