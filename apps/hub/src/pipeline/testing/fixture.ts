// Test helpers for the pipeline: a real hub with its pipeline loop on a fast clock, a project with webhook secrets,
// workers added through the RPC the CLI uses, and signed deliveries posted over real HTTP.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, vi } from 'vitest';
import { createMeshClient, signup, type MeshClient } from '@meshcode/client';
import type { Db } from '@meshcode/db';
import { resetState } from '@meshcode/db/testing';
import { loadWorkerEnv, localDriver, runWorker, writeSecret, type WorkerEnv } from '@meshcode/worker';
import { createHub, type Hub } from '../../hub';
import { signGitHub, signSlack } from '../../hooks/verify/index';
import type { PipelineOptions } from '../service';

export interface PipelineHub {
  url: string;
  hub: Hub;
  home: string;
  logs: string[];
  close(): Promise<void>;
}

export async function startPipelineHub(db: Db, options: PipelineOptions = {}): Promise<PipelineHub> {
  const home = await mkdtemp(join(tmpdir(), 'meshcode-pipeline-'));
  const logs: string[] = [];
  const hub = await createHub({
    db,
    log: (line) => {
      logs.push(line);
      if (line.includes('unexpected error') || line.startsWith('pipeline:')) process.stderr.write(`${line}\n`);
    },
    pipeline: { home, intervalMs: 50, retryBaseMs: 300, writebackBaseMs: 100, ...options },
  });
  const url = await hub.listen(0, '127.0.0.1');
  return {
    url,
    hub,
    home,
    logs,
    async close() {
      await hub.close();
      await rm(home, { recursive: true, force: true });
      // A step may lose a deadlock to the harness' TRUNCATE between tests; anything else is a bug.
      const unexpected = logs.filter(
        (l) => l.includes('unexpected error') || (l.startsWith('pipeline:') && !/deadlock|could not serialize/.test(l)),
      );
      if (unexpected.length) throw new Error(`hub logged errors:\n${unexpected.join('\n')}`);
    },
  };
}

let counter = 0;

export interface Owner {
  key: string;
  client: MeshClient;
  project: string;
  meshworkId: string;
}

export async function ownerWithProject(url: string, project: string): Promise<Owner> {
  const email = `pipeline-${process.pid}-${Date.now()}-${counter++}@example.test`;
  const { key } = await signup(url, email, 'owner');
  const client = createMeshClient({ hubUrl: url, apiKey: key });
  const mw = await client.createMeshwork(project);
  return { key, client, project, meshworkId: mw.id };
}

export interface SecretSet {
  url: string;
  path: string;
  secret?: string;
  has_secret: boolean;
}

export async function setWebhookSecret(owner: Owner, source: string, secret?: string): Promise<SecretSet> {
  return owner.client.rpc<SecretSet>('mc_set_webhook_secret', {
    p_meshwork: owner.project,
    p_source: source,
    ...(secret !== undefined ? { p_secret: secret } : {}),
  });
}

export async function setSourceToken(owner: Owner, source: string, token: string, apiUrl: string): Promise<unknown> {
  return owner.client.rpc('mc_set_source_token', {
    p_meshwork: owner.project,
    p_source: source,
    p_token: token,
    p_api_url: apiUrl,
  });
}

export async function addWorker(owner: Owner, definition: Record<string, unknown>): Promise<Record<string, unknown>> {
  return owner.client.rpc('mc_worker_upsert', { p_meshwork: owner.project, p_definition: definition });
}

export interface HookProject {
  hub: PipelineHub;
  owner: Owner;
  secret: string;
  hookUrl: string;
}

/**
 * For a suite: one paused pipeline hub, and before each test an empty database with a new project that has a GitHub
 * webhook secret and one worker. Read the fields inside tests (they change per test).
 */
export function useHookProject(getDb: () => Db, project: string, worker: Record<string, unknown>): HookProject {
  const ctx = {} as HookProject;
  beforeAll(async () => {
    ctx.hub = await startPipelineHub(getDb(), { paused: true });
  });
  afterAll(async () => {
    await ctx.hub.close();
  });
  beforeEach(async () => {
    await resetState(getDb());
    ctx.owner = await ownerWithProject(ctx.hub.url, project);
    const set = await setWebhookSecret(ctx.owner, 'github');
    ctx.secret = set.secret!;
    ctx.hookUrl = set.url;
    await addWorker(ctx.owner, worker);
  });
  return ctx;
}

export interface Posted {
  status: number;
  body: Record<string, unknown>;
}

export async function postHook(url: string, headers: Record<string, string>, body: Buffer | string): Promise<Posted> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A GitHub delivery exactly as GitHub sends it: JSON body, event, delivery id, HMAC signature. */
export function githubDelivery(
  payload: unknown,
  event: string,
  secret: string,
  delivery: string = randomUUID(),
): { headers: Record<string, string>; body: Buffer; delivery: string } {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    delivery,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/4f2b5a6',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-github-hook-id': '123456',
      'x-hub-signature-256': signGitHub(body, secret),
    },
  };
}

export function slackDelivery(payload: unknown, secret: string, timestampSeconds: number) {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(timestampSeconds),
      'x-slack-signature': signSlack(body, secret, timestampSeconds),
    },
  };
}

export type TraceStep = { step: string; outcome: string; summary: string; task_id: string | null };
export interface Trace {
  event: { id: string; state: string; event: string; action: string | null; summary: string; delivery_id: string };
  tasks: {
    id: string;
    status: string;
    stage: string;
    worker: string;
    attempts: number;
    decision: unknown;
    result: string | null;
  }[];
  effects: { kind: string; state: string; key: string; attempts: number; response: unknown; error: string | null }[];
  steps: TraceStep[];
}

export function eventTrace(owner: Owner, eventId: string): Promise<Trace> {
  return owner.client.rpc<Trace>('mc_event_trace', { p_meshwork: owner.project, p_event_id: eventId });
}

/** The event's trace once it completed or failed, with every write-back done or failed. */
export async function settled(owner: Owner, eventId: string, timeout = 30_000): Promise<Trace> {
  let trace: Trace | undefined;
  await vi.waitFor(
    async () => {
      trace = await eventTrace(owner, eventId);
      const written = trace.effects.every((e) => e.state === 'done' || e.state === 'failed');
      if ((trace.event.state !== 'completed' && trace.event.state !== 'failed') || !written)
        throw new Error(`event is ${trace.event.state}`);
    },
    { timeout, interval: 50 },
  );
  return trace!;
}

/** A worker machine: its own MESHCODE_HOME holding secrets.yml (0600). */
export async function workerMachine(
  secrets: Record<string, string> = {},
): Promise<{ env: WorkerEnv; cleanup(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'meshcode-worker-'));
  for (const [ref, value] of Object.entries(secrets)) {
    const written = await writeSecret(home, ref, value);
    if (!written.ok) throw new Error(written.error);
  }
  const env = loadWorkerEnv({ HOME: home, MESHCODE_HOME: home, PATH: process.env.PATH });
  return { env, cleanup: () => rm(home, { recursive: true, force: true }) };
}

export interface RunningWorker {
  logs: string[];
  ready: Promise<void>;
  done: Promise<void>;
  stop(): Promise<void>;
}

/** The real worker runtime, in this process, for one worker of the owner's project. */
export function startWorker(owner: Owner, worker: string, env: WorkerEnv, retryBaseMs = 200): RunningWorker {
  const logs: string[] = [];
  const ac = new AbortController();
  let ready!: () => void;
  const readyP = new Promise<void>((resolve) => (ready = resolve));
  const done = runWorker({
    client: owner.client,
    project: owner.project,
    worker,
    driver: (definition) => localDriver(definition, env),
    signal: ac.signal,
    log: (line) => logs.push(line),
    retry: { baseDelayMs: retryBaseMs, maxDelayMs: 2_000 },
    waitSeconds: 5,
    onReady: ready,
  });
  done.catch(() => undefined);
  return {
    logs,
    ready: Promise.race([readyP, done]),
    done,
    async stop() {
      ac.abort();
      await done;
    },
  };
}
