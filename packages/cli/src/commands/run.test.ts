// run and go: instructions with no editor installed, launching recording stand-ins, recreating a deleted workspace,
// choosing the project, and --force.
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMeshClient, signup, type MeshClient } from '@meshcode/client';
import { EXIT } from '../errors';
import {
  cutOffKeychain,
  installStandIns,
  makeSandbox,
  readRecord,
  runCli,
  uniqueEmail,
  type Sandbox,
} from '../testing/cli';
import { useTestHub } from '../testing/hub';

const hub = useTestHub();
let restoreBus: () => void;
let sb: Sandbox;
let owner: MeshClient;
let key: string;
let env: Record<string, string>;

beforeAll(() => {
  restoreBus = cutOffKeychain();
});
afterAll(() => restoreBus());
beforeEach(async () => {
  sb = await makeSandbox(hub.url());
  key = (await signup(hub.url(), uniqueEmail('owner'), 'Owner')).key;
  owner = createMeshClient({ hubUrl: hub.url(), apiKey: key });
  env = { ...sb.env, MESHCODE_API_KEY: key };
});
afterEach(async () => {
  await sb.cleanup();
});

const ws = (project: string, agent: string) => path.join(sb.meshHome, `${project}-${agent}`);

describe('run', () => {
  it('with no editor installed prints what was written and exactly what to do', async () => {
    expect((await runCli(['setup', 'acme', 'backend'], env)).code).toBe(0);
    const res = await runCli(['run', 'backend'], env);
    expect(res.code, res.stderr).toBe(0);
    const dir = ws('acme', 'backend');
    expect(res.stdout).toContain('No supported editor was found on PATH');
    expect(res.stdout).toContain(`Workspace: ${dir}`);
    expect(res.stdout).toContain(`unchanged ${path.join(dir, '.mcp.json')} (Claude Code MCP config)`);
    expect(res.stdout).toContain(
      `Wrote the MCP server for MeshCode agent "backend" (entry "meshcode") to ${path.join(dir, '.mcp.json')}.`,
    );
    expect(res.stdout).toContain(`  cd ${dir} && claude --mcp-config ${path.join(dir, '.mcp.json')}`);
  });

  it('launches Claude Code in the workspace with --mcp-config, waiting for it and passing on its exit code', async () => {
    await installStandIns(sb, ['claude']);
    expect((await runCli(['setup', 'acme', 'backend'], env)).code).toBe(0);
    const res = await runCli(['run', 'backend'], { ...env, MESHCODE_RECORD_EXIT: '7' });
    expect(res.code).toBe(7);
    const dir = ws('acme', 'backend');
    expect(await readRecord(sb, 'claude')).toEqual({
      name: 'claude',
      cwd: dir,
      args: ['--mcp-config', path.join(dir, '.mcp.json')],
    });
  });

  it('launches a GUI editor detached on the workspace folder, writing its config on the way', async () => {
    await installStandIns(sb, ['cursor', 'codex']);
    expect((await runCli(['setup', 'acme', 'web', '--editor', 'claude-code'], env)).code).toBe(0);
    // Claude Code is not installed: run picks the first installed editor (Cursor) and sets the workspace up for it.
    const res = await runCli(['run', 'web'], env);
    expect(res.code, res.stderr).toBe(0);
    const dir = ws('acme', 'web');
    expect(res.stdout).toContain(`Cursor is opening ${dir} for agent 'web'.`);
    expect(await readRecord(sb, 'cursor')).toEqual({ name: 'cursor', cwd: dir, args: [dir] });
    await stat(path.join(dir, '.cursor', 'mcp.json'));
    expect(JSON.parse(await readFile(path.join(dir, 'meshcode.json'), 'utf8'))).toMatchObject({ editor: 'cursor' });

    // MESHCODE_EDITOR forces another installed one.
    const codex = await runCli(['run', 'web'], { ...env, MESHCODE_EDITOR: 'codex' });
    expect(codex.code, codex.stderr).toBe(0);
    expect(await readRecord(sb, 'codex')).toEqual({ name: 'codex', cwd: dir, args: [] });
    await stat(path.join(dir, '.codex', 'config.toml'));
  });

  it('a forced editor that is not installed gets instructions instead of a failed launch', async () => {
    const res = await runCli(['setup', 'acme', 'ui'], env);
    expect(res.code).toBe(0);
    const run = await runCli(['run', 'ui'], { ...env, MESHCODE_EDITOR: 'windsurf' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Windsurf's launcher `windsurf` is not on PATH, so it was not started.");
    expect(run.stdout).toContain(path.join(sb.home, '.codeium', 'windsurf', 'mcp_config.json'));
    const bad = await runCli(['run', 'ui', '--editor', 'notepad'], env);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain('is not a supported editor');
  });

  it('recreates a deleted workspace from the hub', async () => {
    expect((await runCli(['setup', 'acme', 'backend'], env)).code).toBe(0);
    await rm(ws('acme', 'backend'), { recursive: true });
    const res = await runCli(['run', 'backend'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain("no workspace found for agent 'backend'; asking");
    expect(res.stderr).toContain("recreated the workspace of 'backend' (project 'acme')");
    await stat(path.join(ws('acme', 'backend'), '.mcp.json'));
    expect(JSON.parse(await readFile(path.join(ws('acme', 'backend'), 'meshcode.json'), 'utf8'))).toMatchObject({
      project: 'acme',
      agent: 'backend',
    });
  });

  it('without a workspace: an agent nowhere on the hub, in two projects, or with no key gets the right sentence', async () => {
    const ghost = await runCli(['run', 'ghost'], env);
    expect(ghost.code).toBe(EXIT.failure);
    expect(ghost.stderr).toContain(
      "no workspace found for agent 'ghost', and none of your projects has an agent named 'ghost'",
    );
    expect(ghost.stderr).toContain('meshcode setup <project> ghost');

    await owner.createMeshwork('one');
    await owner.createMeshwork('two');
    await owner.addAgent('one', 'api');
    await owner.addAgent('two', 'api');
    const twice = await runCli(['run', 'api'], env);
    expect(twice.code).toBe(EXIT.usage);
    expect(twice.stderr).toContain("agent 'api' exists in several projects (one, two)");
    const chosen = await runCli(['run', 'api', '--project', 'two'], env);
    expect(chosen.code, chosen.stderr).toBe(0);
    await stat(path.join(ws('two', 'api'), '.mcp.json'));

    const noKey = await runCli(['run', 'ghost'], sb.env);
    expect(noKey.code).toBe(EXIT.auth);
    expect(noKey.stderr).toContain("no workspace found for agent 'ghost', and no stored key to look it up on the hub");
  });

  it('--force frees the agent from the window that holds it', async () => {
    expect((await runCli(['setup', 'acme', 'backend'], env)).code).toBe(0);
    await owner.connect('acme', 'backend', 'old-window');
    await expect(owner.connect('acme', 'backend', 'new-window')).rejects.toThrow(
      'agent already running in another window',
    );
    const res = await runCli(['run', 'backend', '--force'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain("released 'backend' from the window that held it");
    await expect(owner.connect('acme', 'backend', 'new-window')).resolves.toMatchObject({ took_over: false });
  });
});

describe('go', () => {
  it('needs a login first', async () => {
    const res = await runCli(['go', 'commander'], sb.env);
    expect(res.code).toBe(EXIT.auth);
    expect(res.stderr).toContain('No credentials found. Run meshcode login first.');
  });

  it('puts a team into one "default" project, then finds each agent where it is', async () => {
    const first = await runCli(['go', 'commander'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('logged in as');
    expect(first.stderr).toContain("creating project 'default'");
    expect(first.stdout).toContain('No supported editor was found on PATH');
    const second = await runCli(['go', 'backend'], env);
    expect(second.code, second.stderr).toBe(0);
    const [mesh] = await owner.listMeshworks();
    expect(mesh?.name).toBe('default');
    expect(mesh?.agents.map((a) => a.name)).toEqual(['backend', 'commander']);
    await stat(path.join(ws('default', 'commander'), '.mcp.json'));
    await stat(path.join(ws('default', 'backend'), '.mcp.json'));

    // An agent that lives in another project is found there, even with its workspace gone.
    await owner.createMeshwork('ops');
    await owner.addAgent('ops', 'deployer');
    const deployer = await runCli(['go', 'deployer'], env);
    expect(deployer.code, deployer.stderr).toBe(0);
    await stat(path.join(ws('ops', 'deployer'), '.mcp.json'));

    // With several projects and the agent in none, "default" is used.
    expect((await runCli(['go', 'frontend'], env)).code).toBe(0);
    expect((await owner.listMeshworks()).find((m) => m.name === 'default')?.agents.map((a) => a.name)).toContain(
      'frontend',
    );
  });

  it('asks for --project when several projects could be meant', async () => {
    await owner.createMeshwork('one');
    await owner.createMeshwork('two');
    const res = await runCli(['go', 'qa'], env);
    expect(res.code).toBe(EXIT.usage);
    expect(res.stderr).toContain("you have several projects and none has an agent named 'qa'");
    expect(res.stderr).toContain('yours: one, two');
    const chosen = await runCli(['go', 'qa', '--project', 'two'], env);
    expect(chosen.code, chosen.stderr).toBe(0);
    expect((await owner.listMeshworks()).find((m) => m.name === 'two')?.agents.map((a) => a.name)).toEqual(['qa']);
  });

  it('launches the installed editor', async () => {
    await installStandIns(sb, ['claude']);
    const res = await runCli(['go', 'commander'], env);
    expect(res.code, res.stderr).toBe(0);
    const dir = ws('default', 'commander');
    expect(await readRecord(sb, 'claude')).toEqual({
      name: 'claude',
      cwd: dir,
      args: ['--mcp-config', path.join(dir, '.mcp.json')],
    });
  });
});
