// The issue's acceptance scenario, as a new user on a machine with no editor: `meshcode signup`, `meshcode go
// commander`, `meshcode go backend` (the real binary), then two MCP clients started exactly as the written configs
// say coordinate through the hub, including after one of them restarts. Runs on PGlite and on PostgreSQL.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { startTestHub, type HubFixture } from '../../../../apps/hub/src/testing/hub-fixture';
import { readServerEntry } from '../editors';
import { cliProcess, cutOffKeychain, makeSandbox, uniqueEmail, type Sandbox } from '../testing/cli';

interface Agent {
  client: Client;
  stderr: () => string;
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  const content = result.content as { type: string; text?: string }[];
  return content.map((c) => c.text ?? '').join('\n');
}

describeBackends('issue scenario: signup, go commander, go backend, two MCP clients from the configs', (getDb) => {
  let hub: HubFixture;
  let sb: Sandbox;
  let restoreBus: () => void;
  const open: Agent[] = [];

  beforeAll(async () => {
    restoreBus = cutOffKeychain();
    hub = await startTestHub(getDb());
  });
  afterAll(async () => {
    restoreBus();
    await hub.close();
  });
  beforeEach(async () => {
    sb = await makeSandbox(hub.url);
  });
  afterEach(async () => {
    for (const a of open.splice(0)) await a.client.close();
    await sb.cleanup();
  });

  /** Starts the MCP server the way an editor would: command, args and env from the config, in the workspace. */
  async function startFromConfig(agent: string): Promise<Agent> {
    const workspaceDir = path.join(sb.meshHome, `default-${agent}`);
    const entry = await readServerEntry('claude-code', { workspaceDir, home: sb.home });
    expect(entry, `no meshcode entry in ${workspaceDir}/.mcp.json`).not.toBeNull();
    if (entry === null) throw new Error('unreachable');
    const transport = new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      env: entry.env,
      cwd: workspaceDir,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: `editor-${agent}`, version: '1.0.0' });
    await client.connect(transport);
    const a = { client, stderr: () => stderr };
    open.push(a);
    return a;
  }

  it('works end to end', async () => {
    const email = uniqueEmail('newuser');
    const signup = await cliProcess(['signup', '--email', email], sb.env, sb.root);
    expect(signup.code, signup.stderr).toBe(0);
    expect(signup.stdout).toContain(`Signed up as ${email}`);

    for (const agent of ['commander', 'backend']) {
      const go = await cliProcess(['go', agent], sb.env, sb.root);
      expect(go.code, go.stderr).toBe(0);
      const dir = path.join(sb.meshHome, `default-${agent}`);
      expect(go.stdout).toContain('No supported editor was found on PATH');
      expect(go.stdout).toContain(`wrote     ${path.join(dir, '.mcp.json')} (Claude Code MCP config)`);
      expect(go.stdout).toContain(`  cd ${dir} && claude --mcp-config ${path.join(dir, '.mcp.json')}`);
      await access(path.join(dir, 'meshcode.json'));
    }

    const commander = await startFromConfig('commander');
    let backend = await startFromConfig('backend');
    const tools = (await commander.client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['meshcode_wait', 'meshcode_send', 'meshcode_ask', 'meshcode_done']));

    // send → wait
    const sent = await commander.client.callTool({
      name: 'meshcode_send',
      arguments: { to: 'backend', body: 'build the login API' },
    });
    expect(sent.isError, textOf(sent)).toBeFalsy();
    const got = textOf(await backend.client.callTool({ name: 'meshcode_wait', arguments: { timeout_seconds: 30 } }));
    expect(got).toContain('build the login API');
    expect(got).toContain('"from":"commander"');

    // ask → wait → done → the asker gets the answer
    const asking = commander.client.callTool({
      name: 'meshcode_ask',
      arguments: { to: 'backend', question: 'is it deployed?', timeout_seconds: 60 },
    });
    const waited = textOf(await backend.client.callTool({ name: 'meshcode_wait', arguments: { timeout_seconds: 30 } }));
    const shown = JSON.parse(waited.split('\n')[0] ?? '{}') as {
      messages: { kind: string; id: string; body: string }[];
    };
    const ask = shown.messages.find((m) => m.kind === 'ask');
    expect(ask?.body).toBe('is it deployed?');
    const done = await backend.client.callTool({
      name: 'meshcode_done',
      arguments: { result: 'yes, on staging', reply_to: ask?.id },
    });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(textOf(await asking)).toContain('yes, on staging');

    // backend's window restarts; what was sent meanwhile reaches the new one.
    await backend.client.close();
    open.splice(open.indexOf(backend), 1);
    const away = await commander.client.callTool({
      name: 'meshcode_send',
      arguments: { to: 'backend', body: 'sent while you were restarting' },
    });
    expect(away.isError, textOf(away)).toBeFalsy();
    backend = await startFromConfig('backend');
    const resumed = textOf(
      await backend.client.callTool({ name: 'meshcode_wait', arguments: { timeout_seconds: 30 } }),
    );
    expect(resumed, backend.stderr()).toContain('sent while you were restarting');
    expect(resumed).not.toContain('build the login API');
  });
});
