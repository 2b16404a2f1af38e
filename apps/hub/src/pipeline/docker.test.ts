// A pipeline task run by the docker driver in a real container, when a Docker engine answers here; skipped (and
// said so) otherwise.
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openTestDb, type TestDb } from '@meshcode/db/testing';
import {
  addWorker,
  ownerWithProject,
  startPipelineHub,
  startWorker,
  workerMachine,
  type PipelineHub,
} from './testing/fixture';

const engine = new Dockerode({ timeout: 2_000 });
const answers = await engine.ping().then(
  () => true,
  () => false,
);
if (!answers) console.log('pipeline docker test SKIPPED: no Docker engine answered docker.ping() on this machine.');

describe.skipIf(!answers)('a worker with the docker driver', () => {
  let db: TestDb;
  let hub: PipelineHub;
  beforeAll(async () => {
    db = await openTestDb('pglite');
    hub = await startPipelineHub(db.db);
  });
  afterAll(async () => {
    await hub.close();
    await db.dispose();
  });

  it('runs a scheduled task in a one-shot container and stores its output', { timeout: 180_000 }, async () => {
    const owner = await ownerWithProject(hub.url, 'docker');
    await addWorker(owner, {
      name: 'boxed',
      driver: 'docker',
      docker: { image: 'alpine:3.20', command: ['sh', '-c', 'tr a-z A-Z'], network: 'none', memory: '256m', cpus: 1 },
      schedule: { cron: '* * * * * *', prompt: 'hello from a container', max_runs_per_day: 1 },
    });
    const machine = await workerMachine();
    const w = startWorker(owner, 'boxed', machine.env);
    try {
      await w.ready;
      await vi.waitFor(
        async () => {
          const [task] = await owner.client.listTasks('docker', { status: 'done' });
          if (!task) throw new Error('not done yet');
          expect(task.result).toContain('HELLO FROM A CONTAINER');
        },
        { timeout: 170_000, interval: 500 },
      );
    } finally {
      await w.stop();
      await machine.cleanup();
    }
  });
});
