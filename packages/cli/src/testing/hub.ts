// A real hub for CLI tests: PGlite from the migrated snapshot, served on a loopback port for the whole file; and an
// owner with a CLI sandbox for each test.
// (The hub's own suites cover PostgreSQL; the issue scenario test runs the CLI against both backends.)
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createMeshClient, signup, type MeshClient } from '@meshcode/client';
import { openTestDb, type TestDb } from '@meshcode/db/testing';
import { startTestHub, type HubFixture } from '../../../../apps/hub/src/testing/hub-fixture';
import { cutOffKeychain, makeSandbox, uniqueEmail, type Sandbox } from './cli';

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

export interface OwnerSandbox {
  /** A fresh CLI sandbox for each test, logged in as the owner through MESHCODE_API_KEY. */
  env: Record<string, string>;
  /** The owner's SDK client, for setting up and checking what the CLI did. */
  owner: MeshClient;
  /** The sandbox's directory (its home and workspaces are inside). */
  root: string;
}

/**
 * For each test: a new owner account on the file's hub, `prepare` run with its client, and a CLI sandbox (keychain cut
 * off) whose environment carries the owner's key. Read the fields inside hooks and tests.
 */
export function useOwnerSandbox(
  hub: { url(): string },
  prepare: (owner: MeshClient) => Promise<unknown>,
): OwnerSandbox {
  const state = {} as OwnerSandbox;
  let sb: Sandbox | undefined;
  let restoreBus: () => void = () => undefined;
  beforeAll(() => {
    restoreBus = cutOffKeychain();
  });
  afterAll(() => restoreBus());
  beforeEach(async () => {
    sb = await makeSandbox(hub.url());
    const key = (await signup(hub.url(), uniqueEmail('owner'), 'Owner')).key;
    state.owner = createMeshClient({ hubUrl: hub.url(), apiKey: key });
    await prepare(state.owner);
    state.env = { ...sb.env, MESHCODE_API_KEY: key };
    state.root = sb.root;
  });
  afterEach(async () => {
    await sb?.cleanup();
  });
  return state;
}
