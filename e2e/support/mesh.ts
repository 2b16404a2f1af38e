// Accounts, login links and agents that behave like real editor windows: they connect through the SDK, heartbeat
// and long-poll their inbox exactly as the MCP server does.
import { randomUUID } from 'node:crypto';
import { createMeshClient, signup, type MeshClient } from '@meshcode/client';

export interface Account {
  key: string;
  email: string;
  client: MeshClient;
}

let counter = 0;

export async function newAccount(hubUrl: string, name = 'Ada'): Promise<Account> {
  const email = `${name.toLowerCase()}-${process.pid}-${Date.now()}-${counter++}@example.test`;
  const res = await signup(hubUrl, email, name);
  return { key: res.key, email, client: createMeshClient({ hubUrl, apiKey: res.key }) };
}

/** What `meshcode dashboard` does: a one-time login URL on the hub's origin. */
export async function loginLink(hubUrl: string, key: string): Promise<string> {
  const res = await fetch(new URL('/auth/v1/login-link', hubUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
  });
  if (res.status !== 201) throw new Error(`login-link answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { url: string }).url;
}

/** An agent as its MCP server runs it: connect (session lock), heartbeat, and a wait loop that acks what it reads. */
export class Agent {
  readonly session = randomUUID();
  readonly received: { from: string; body: string; id: string; kind: string }[] = [];
  private cursor: number | undefined;
  private loop: Promise<void> | null = null;
  private stopLoop: AbortController | null = null;

  constructor(
    readonly client: MeshClient,
    readonly project: string,
    readonly name: string,
  ) {}

  async connect(): Promise<void> {
    const c = await this.client.connect(this.project, this.name, this.session, { host: 'e2e-host' });
    this.cursor = c.cursor;
  }

  heartbeat(status?: 'online' | 'waiting' | 'working' | 'idle', detail?: string) {
    return this.client.heartbeat(this.project, this.name, { session: this.session, status, detail });
  }

  send(
    to: string,
    body: string,
    opts: { kind?: 'message' | 'ask' | 'reply'; replyTo?: string; deadlineSeconds?: number } = {},
  ) {
    return this.client.send({
      meshwork: this.project,
      from: this.name,
      to,
      body,
      idempotencyKey: randomUUID(),
      ...opts,
    });
  }

  tool(summary: string, data: Record<string, unknown> = {}) {
    return this.client.logActivity(this.project, this.name, 'tool_call', summary, data);
  }

  /** Long-poll the inbox in the background (the agent shows as waiting, then working when messages arrive). */
  startWaiting(timeoutSeconds = 20): void {
    if (this.loop) return;
    const ac = new AbortController();
    this.stopLoop = ac;
    this.loop = (async () => {
      while (!ac.signal.aborted) {
        try {
          const r = await this.client.wait({
            meshwork: this.project,
            agent: this.name,
            afterSeq: this.cursor,
            timeoutSeconds,
            signal: ac.signal,
          });
          for (const m of r.messages) this.received.push({ from: m.from, body: m.body, id: m.id, kind: m.kind });
          const last = r.messages[r.messages.length - 1];
          if (last?.seq !== undefined) this.cursor = last.seq;
        } catch {
          if (ac.signal.aborted) return;
          await new Promise((res) => setTimeout(res, 500));
        }
      }
    })();
  }

  async stopWaiting(): Promise<void> {
    this.stopLoop?.abort();
    await this.loop?.catch(() => undefined);
    this.loop = null;
  }

  async disconnect(): Promise<void> {
    await this.stopWaiting();
    await this.client.disconnect(this.project, this.name, this.session).catch(() => undefined);
  }
}
