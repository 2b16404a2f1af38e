// The stdio server as a child process, started the way an editor starts it, against a real hub.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describeBackends, resetState } from '@meshcode/db/testing';
import { newMesh, startTestHub, type HubFixture, type TestAccount } from '../../../apps/hub/src/testing/hub-fixture';
import { firstJson, until } from './testing/harness';
import { TOOL_NAMES } from './tools';

const STDIO_MAIN = fileURLToPath(new URL('./stdio-main.ts', import.meta.url));
const CLI_BIN = fileURLToPath(new URL('../../cli/bin/meshcode.js', import.meta.url));

interface Spawned {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
  protocolErrors: Error[];
}

describeBackends('mcp over stdio', (getDb) => {
  let hub: HubFixture;
  let owner: TestAccount;
  let home: string;
  const spawned: Spawned[] = [];

  beforeAll(async () => {
    hub = await startTestHub(getDb());
    home = mkdtempSync(join(tmpdir(), 'meshcode-mcp-stdio-'));
  });
  afterAll(async () => {
    await hub.close();
    rmSync(home, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await resetState(getDb());
    owner = await newMesh(hub.url, 'team', ['a', 'b']);
  });
  afterEach(async () => {
    for (const s of spawned.splice(0)) await s.client.close();
  });

  async function spawnServer(entry: string, agent: string): Promise<Spawned> {
    const { key } = await owner.client.createKey('team', agent);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', entry, 'mcp', '--project', 'team', '--agent', agent, '--hub', hub.url],
      env: { ...getDefaultEnvironment(), MESHCODE_API_KEY: key, MESHCODE_HOME: home },
      stderr: 'pipe',
    });
    let err = '';
    transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const protocolErrors: Error[] = [];
    const client = new Client({ name: 'editor', version: '0.0.0' });
    await client.connect(transport);
    // Anything on stdout that is not a JSON-RPC message surfaces here.
    transport.onerror = (e) => protocolErrors.push(e);
    const s = { client, transport, stderr: () => err, protocolErrors };
    spawned.push(s);
    return s;
  }

  it('standalone entry: lists the tools, answers meshcode_status, nothing but protocol on stdout', async () => {
    const s = await spawnServer(STDIO_MAIN, 'a');
    const list = await s.client.listTools();
    expect(list.tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    expect(s.client.getInstructions()).toContain('a role');
    const res = await s.client.callTool({ name: 'meshcode_status', arguments: {} });
    expect(res.isError).toBeFalsy();
    expect((res.content as { text: string }[])[0]!.text).toMatch(/- a \(you\): online/);
    expect(s.protocolErrors).toEqual([]);
    expect(s.stderr()).toContain('connected as agent a in team');
  });

  it('two stdio servers coordinate; closing stdin releases the agent', async () => {
    const a = await spawnServer(STDIO_MAIN, 'a');
    const b = await spawnServer(STDIO_MAIN, 'b');
    const waiting = b.client.callTool({ name: 'meshcode_wait', arguments: { timeout_seconds: 30 } });
    await until(
      async () => (await owner.client.status('team')).agents.find((x) => x.name === 'b')?.status === 'waiting',
      'b to wait',
    );
    await a.client.callTool({ name: 'meshcode_send', arguments: { to: 'b', body: 'over stdio' } });
    const got = await waiting;
    expect(
      firstJson<{ messages: { from: string; body: string }[] }>((got.content as { text: string }[])[0]!.text).messages,
    ).toMatchObject([{ from: 'a', body: 'over stdio' }]);
    await a.client.close();
    spawned.splice(spawned.indexOf(a), 1);
    await until(
      async () => (await owner.client.status('team')).agents.find((x) => x.name === 'a')?.status === 'offline',
      'a to go offline',
    );
    expect(a.protocolErrors).toEqual([]);
    expect(b.protocolErrors).toEqual([]);
  });

  async function failingStart(entry: string): Promise<string[]> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', entry, 'mcp', '--project', 'team', '--agent', 'a', '--hub', hub.url],
      env: { ...getDefaultEnvironment(), MESHCODE_HOME: home },
      stderr: 'pipe',
    });
    let err = '';
    transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => (transport.onclose = resolve));
    const client = new Client({ name: 'editor', version: '0.0.0' });
    await expect(client.connect(transport)).rejects.toThrow();
    await exited;
    return err.split('\n').filter((l) => l.startsWith('meshcode') || l.startsWith('  →'));
  }

  it('without a key the standalone entry stops with one sentence on stderr', async () => {
    expect(await failingStart(STDIO_MAIN)).toEqual([
      expect.stringMatching(/^meshcode mcp: MESHCODE_API_KEY is not set: /),
    ]);
  });

  it('without a key `meshcode mcp` says how to log in', async () => {
    const lines = await failingStart(CLI_BIN);
    expect(lines).toEqual([
      expect.stringMatching(/^meshcode: no API key for http:\/\/127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^ {2}→ run `meshcode login <key>`/),
    ]);
  });

  it('`meshcode mcp` from the CLI binary serves the same tools', async () => {
    const s = await spawnServer(CLI_BIN, 'a');
    expect((await s.client.listTools()).tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    const res = await s.client.callTool({ name: 'meshcode_status', arguments: {} });
    expect((res.content as { text: string }[])[0]!.text).toMatch(/- a \(you\): online/);
    expect(s.protocolErrors).toEqual([]);
  });
});
