// setup (every editor, re-runs), projects, unknown-project suggestions and the legacy send/read, against a real hub.
import { readFile, stat, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMeshClient, signup, type MeshClient } from '@meshcode/client';
import { EDITORS, editorConfigPath, readServerEntry } from '../editors';
import { EXIT } from '../errors';
import { CLI_BIN, cutOffKeychain, makeSandbox, runCli, uniqueEmail, type Sandbox } from '../testing/cli';
import { useTestHub } from '../testing/hub';

const hub = useTestHub();
let restoreBus: () => void;
let sb: Sandbox;
let owner: MeshClient;
let env: Record<string, string>;

beforeAll(() => {
  restoreBus = cutOffKeychain();
});
afterAll(() => restoreBus());
beforeEach(async () => {
  sb = await makeSandbox(hub.url());
  const acct = await signup(hub.url(), uniqueEmail('owner'), 'Owner');
  owner = createMeshClient({ hubUrl: hub.url(), apiKey: acct.key });
  env = { ...sb.env, MESHCODE_API_KEY: acct.key };
});
afterEach(async () => {
  await sb.cleanup();
});

describe('setup', () => {
  it.each(EDITORS.map((e) => [e.id, e] as const))(
    'writes the %s MCP config and meshcode.json, creates project and agent, and a re-run changes nothing',
    async (id, editor) => {
      const forced = { ...env, MESHCODE_EDITOR: id };
      const first = await runCli(['setup', 'Acme', 'backend'], forced);
      expect(first.code, first.stderr).toBe(0);
      const dir = path.join(sb.meshHome, 'acme-backend');
      const configPath = editorConfigPath(editor, { workspaceDir: dir, home: sb.home });
      expect(first.stdout).toContain(`set up for ${editor.displayName}`);
      expect(first.stdout).toContain(`wrote     ${configPath}`);
      expect(first.stdout).toContain('Next: meshcode run backend');
      expect(first.stderr).toContain("creating project 'acme'");
      // The entry starts this CLI from any folder: absolute node + bin script, and the sandbox's MESHCODE_HOME.
      expect(await readServerEntry(editor, { workspaceDir: dir, home: sb.home })).toEqual({
        command: process.execPath,
        args: [CLI_BIN, 'mcp', '--project', 'acme', '--agent', 'backend', '--hub', hub.url()],
        env: { MESHCODE_HOME: sb.meshHome },
      });
      expect(JSON.parse(await readFile(path.join(dir, 'meshcode.json'), 'utf8'))).toEqual({
        version: 1,
        project: 'acme',
        agent: 'backend',
        hub: hub.url(),
        editor: id,
      });
      const [mesh] = await owner.listMeshworks();
      expect(mesh?.name).toBe('acme');
      expect(mesh?.agents.map((a) => [a.name, a.editor])).toEqual([['backend', id]]);

      const before = await Promise.all([configPath, path.join(dir, 'meshcode.json')].map((f) => stat(f)));
      const again = await runCli(['setup', 'acme', 'backend'], forced);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain("Agent 'backend' in project 'acme' is already set up; nothing changed.");
      expect(again.stdout).toContain(`unchanged ${configPath}`);
      const after = await Promise.all([configPath, path.join(dir, 'meshcode.json')].map((f) => stat(f)));
      expect(after.map((s) => s.mtimeMs)).toEqual(before.map((s) => s.mtimeMs));
      expect(await owner.listMeshworks()).toHaveLength(1);
    },
  );

  it('keeps the user’s other servers in an existing config and uses the meshcode on PATH as the launcher', async () => {
    const fake = path.join(sb.binDir, 'meshcode');
    await writeFile(fake, '#!/bin/sh\nexit 0\n');
    await chmod(fake, 0o755);
    const dir = path.join(sb.meshHome, 'acme-backend');
    const res = await runCli(['setup', 'acme', 'backend', '--editor', 'cursor'], env);
    expect(res.code, res.stderr).toBe(0);
    const file = path.join(dir, '.cursor', 'mcp.json');
    const doc = JSON.parse(await readFile(file, 'utf8')) as { mcpServers: Record<string, unknown> };
    doc.mcpServers.other = { command: 'other-server' };
    await writeFile(file, JSON.stringify(doc));
    const again = await runCli(['setup', 'acme', 'backend', '--editor', 'cursor'], env);
    expect(again.code, again.stderr).toBe(0);
    const merged = JSON.parse(await readFile(file, 'utf8')) as {
      mcpServers: Record<string, { command: string; args?: string[] }>;
    };
    expect(merged.mcpServers.other).toEqual({ command: 'other-server' });
    expect(merged.mcpServers.meshcode?.command).toBe(fake);
    expect(merged.mcpServers.meshcode?.args?.slice(0, 3)).toEqual(['mcp', '--project', 'acme']);
  });

  it('takes a name one typo away from an existing project for a typo, unless --create', async () => {
    await owner.createMeshwork('storefront');
    const typo = await runCli(['setup', 'storefrnt', 'backend'], env);
    expect(typo.code).toBe(EXIT.failure);
    expect(typo.stderr).toContain("could not resolve project 'storefrnt': project not found");
    expect(typo.stderr).toContain("did you mean 'storefront'?");
    expect(typo.stderr).toContain('meshcode setup storefrnt backend --create');
    expect((await owner.listMeshworks()).map((m) => m.name)).toEqual(['storefront']);
    const created = await runCli(['setup', 'storefrnt', 'backend', '--create'], env);
    expect(created.code, created.stderr).toBe(0);
    expect((await owner.listMeshworks()).map((m) => m.name)).toEqual(['storefrnt', 'storefront']);
    // A clearly different name is simply created.
    expect((await runCli(['setup', 'billing', 'backend'], env)).code).toBe(0);
  });

  it('refuses names that are not valid (they become folder names)', async () => {
    const res = await runCli(['setup', '../etc', 'backend'], env);
    expect(res.code).toBe(EXIT.usage);
    expect(res.stderr).toContain("project name '../etc' is not valid");
  });

  it('--json describes what was written', async () => {
    const res = await runCli(['setup', 'acme', 'api', '--json', '--editor', 'codex'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toMatchObject({
      project: 'acme',
      agent: 'api',
      created_project: true,
      created_agent: true,
      editor: 'codex',
      config: { path: path.join(sb.meshHome, 'acme-api', '.codex', 'config.toml'), changed: true },
    });
  });
});

describe('projects', () => {
  it('lists projects and agents with status, as a table, as JSON, and under its aliases', async () => {
    await owner.createMeshwork('shop');
    await owner.addAgent('shop', 'commander', { role: 'lead' });
    await owner.addAgent('shop', 'backend');
    await owner.createMeshwork('empty');
    await owner.connect('shop', 'commander', 'session-1');

    const table = await runCli(['projects'], env);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PROJECT\s+ACCESS\s+AGENT\s+STATUS\s+LAST SEEN\s+ROLE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
      ['empty', 'owner', '-', '-'],
      ['shop', 'owner', 'backend', 'offline'],
      ['shop', 'owner', 'commander', 'online'],
    ]);

    for (const alias of ['list', 'ls']) {
      const res = await runCli([alias, '--json'], env);
      expect(res.code, res.stderr).toBe(0);
      const parsed = JSON.parse(res.stdout) as { name: string; agents: { name: string; status: string }[] }[];
      expect(parsed.map((p) => [p.name, p.agents.map((a) => `${a.name}:${a.status}`)])).toEqual([
        ['empty', []],
        ['shop', ['backend:offline', 'commander:online']],
      ]);
    }
  });

  it('says how to start when there are none', async () => {
    const res = await runCli(['projects'], env);
    expect(res.stdout).toContain('No projects yet');
  });
});

describe('an unknown project', () => {
  it('gets "could not resolve project" with the closest real names', async () => {
    await owner.createMeshwork('frontend-app');
    await owner.createMeshwork('billing');
    await owner.addAgent('frontend-app', 'backend');
    for (const args of [
      ['board', 'frontend-ap'],
      ['send', 'frontend-ap', ':backend', 'hi'],
      ['read', 'frontend-ap', 'backend'],
      ['run', 'backend', '--project', 'frontend-ap'],
    ]) {
      const res = await runCli(args, env);
      expect(res.code, args.join(' ')).toBe(EXIT.failure);
      expect(res.stderr).toContain("could not resolve project 'frontend-ap': project not found");
      expect(res.stderr).toContain("did you mean 'frontend-app'?");
      expect(res.stderr).not.toContain('billing');
    }
    const far = await runCli(['board', 'zzz'], env);
    expect(far.stderr).toContain('your projects: billing, frontend-app');
  });
});

describe('legacy send and read', () => {
  beforeEach(async () => {
    await owner.createMeshwork('acme');
    await owner.addAgent('acme', 'commander');
    await owner.addAgent('acme', 'backend');
    await owner.addAgent('acme', 'frontend');
  });

  it('sends between agents, reads and marks read; --peek leaves messages unread', async () => {
    const sent = await runCli(['send', 'acme', 'commander:backend', '{"need":"an API"}'], env);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^Sent from commander to backend in 'acme' \(message [0-9a-f-]{36}\)\./);
    await runCli(['send', 'acme', ':backend', 'from', 'the', 'overseer'], env);

    const peek = await runCli(['read', 'acme', 'backend', '--peek', '--json'], env);
    const peeked = JSON.parse(peek.stdout) as { from: string; body: string }[];
    expect(peeked.map((m) => [m.from, m.body])).toEqual([
      ['commander', '{"need":"an API"}'],
      ['overseer', 'from the overseer'],
    ]);

    const read = await runCli(['read', 'acme', 'backend'], env);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain('commander → backend');
    expect(read.stdout).toContain('  {"need":"an API"}');
    expect(read.stderr).toContain('2 messages marked read');
    const again = await runCli(['read', 'acme', 'backend'], env);
    expect(again.stdout).toContain("No unread messages for 'backend' in 'acme'.");
  });

  it('broadcasts with "*", and refuses a route without ":"', async () => {
    const sent = await runCli(['--json', 'send', 'acme', 'commander:*', 'standup'], env);
    expect(JSON.parse(sent.stdout)).toMatchObject({ recipients: 2 });
    for (const agent of ['backend', 'frontend']) {
      const res = await runCli(['read', 'acme', agent, '--json'], env);
      expect((JSON.parse(res.stdout) as { body: string }[]).map((m) => m.body)).toEqual(['standup']);
    }
    const bad = await runCli(['send', 'acme', 'backend', 'hi'], env);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain("'backend' is not a <from>:<to> route");
  });
});
