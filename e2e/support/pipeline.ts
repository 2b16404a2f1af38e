// Pipeline helpers for the e2e stories: deliveries signed the way GitHub and generic senders sign them (the hub's
// own signing helpers), and a worker machine running the real worker runtime with the exec driver.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeshClient } from '@meshcode/client';
import { loadWorkerEnv, localDriver, runWorker } from '@meshcode/worker';
import { signGeneric, signGitHub } from '../../apps/hub/src/hooks/verify/sign';

export interface Delivery {
  headers: Record<string, string>;
  body: Buffer;
  delivery: string;
}

/** A GitHub delivery as GitHub sends it: JSON body, event, delivery id and X-Hub-Signature-256. */
export function githubDelivery(payload: unknown, event: string, secret: string): Delivery {
  const body = Buffer.from(JSON.stringify(payload));
  const delivery = randomUUID();
  return {
    body,
    delivery,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/e2e',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': signGitHub(body, secret),
    },
  };
}

/** A generic delivery: X-Meshcode-Signature over the raw body, a delivery id and an event name. */
export function genericDelivery(payload: unknown, event: string, secret: string): Delivery {
  const body = Buffer.from(JSON.stringify(payload));
  const delivery = randomUUID();
  return {
    body,
    delivery,
    headers: {
      'content-type': 'application/json',
      'x-meshcode-event': event,
      'x-meshcode-delivery': delivery,
      'x-meshcode-signature': signGeneric(body, secret),
    },
  };
}

export async function post(url: string, d: Delivery): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: d.headers, body: new Uint8Array(d.body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export interface WorkerMachine {
  logs: string[];
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** What `meshcode worker start <name>` runs: the worker runtime, on a machine with its own MESHCODE_HOME. */
export function startWorkerMachine(client: MeshClient, project: string, worker: string): WorkerMachine {
  const home = mkdtempSync(join(tmpdir(), 'meshcode-e2e-worker-'));
  const env = loadWorkerEnv({ HOME: home, MESHCODE_HOME: home, PATH: process.env.PATH });
  const logs: string[] = [];
  const ac = new AbortController();
  let ready!: () => void;
  const readyP = new Promise<void>((resolve) => (ready = resolve));
  const done = runWorker({
    client,
    project,
    worker,
    driver: (definition) => localDriver(definition, env),
    signal: ac.signal,
    log: (line) => logs.push(line),
    retry: { baseDelayMs: 200, maxDelayMs: 2_000 },
    waitSeconds: 5,
    heartbeatMs: 2_000,
    onReady: ready,
  });
  done.catch((err: unknown) => logs.push(`worker stopped: ${String(err)}`));
  return {
    logs,
    ready: Promise.race([readyP, done]),
    async stop() {
      ac.abort();
      await done.catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
