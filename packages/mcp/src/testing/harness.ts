// Test helpers: an MCP client talking to createServer() over the SDK's linked in-memory transport, against a real hub.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createMeshClient, type MeshClient } from '@meshcode/client';
import { createServer, type MeshcodeServer } from '../server';

export interface Connected {
  client: Client;
  mc: MeshcodeServer;
  mesh: MeshClient;
  logs: string[];
  /** Call a tool; returns its text and whether it is an isError result. */
  call(name: string, args?: Record<string, unknown>): Promise<{ text: string; isError: boolean }>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  force?: boolean;
  heartbeatMs?: number;
  session?: string;
}

export async function connectAgent(
  hubUrl: string,
  apiKey: string,
  meshwork: string,
  agent: string,
  opts: ConnectOptions = {},
): Promise<Connected> {
  const logs: string[] = [];
  const mesh = createMeshClient({ hubUrl, apiKey });
  const mc = await createServer({
    client: mesh,
    meshwork,
    agent,
    force: opts.force,
    session: opts.session,
    heartbeatMs: opts.heartbeatMs,
    log: (l) => logs.push(l),
  });
  await mc.start();
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await mc.server.connect(serverTransport);
  const client = new Client({ name: 'meshcode-test', version: '0.0.0' });
  await client.connect(clientTransport);
  let closed = false;
  return {
    client,
    mc,
    mesh,
    logs,
    async call(name, args = {}) {
      const res = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
      const content = res.content as { type: string; text?: string }[];
      return { text: content.map((c) => c.text ?? '').join('\n'), isError: res.isError === true };
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
      await mc.cleanup();
      await mc.server.close();
    },
  };
}

/** The JSON object a tool printed on its first line. */
export function firstJson<T>(text: string): T {
  return JSON.parse(text.split('\n')[0]!) as T;
}

export async function until<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
