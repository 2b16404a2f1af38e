// Detection on a fake PATH and launching through recording stand-ins: the exact command line each editor gets.
import { chmod, copyFile, mkdir, mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  EDITORS,
  createPathLookup,
  detectEditors,
  editorConfigPath,
  instructionsFor,
  launchEditor,
  launchPlan,
  meshcodeServerEntry,
  resolveEditor,
  writeEditorConfig,
  type EditorSpec,
} from './index';

const standIn = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../test-fixtures/editors/record-argv.sh',
);

let root: string;
let binDir: string;
let recordDir: string;
let workspaceDir: string;
let home: string;

async function installStandIns(names: string[]): Promise<void> {
  for (const name of names) {
    await copyFile(standIn, path.join(binDir, name));
    await chmod(path.join(binDir, name), 0o755);
  }
}

async function record(name: string): Promise<Record<string, unknown>> {
  const file = path.join(recordDir, `${name}.record`);
  // Detached editors report in their own time: wait for the record to appear, then read it.
  await vi.waitFor(async () => stat(file), { timeout: 10_000, interval: 20 });
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  const value = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  return { name: value('name=')[0], cwd: value('cwd=')[0], args: value('arg=') };
}

beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'mc-launch-')));
  binDir = path.join(root, 'bin');
  recordDir = path.join(root, 'records');
  workspaceDir = path.join(root, 'meshcode', 'acme backend'); // a space, as real paths have
  home = path.join(root, 'home');
  await Promise.all([binDir, recordDir, workspaceDir, home].map((d) => mkdir(d, { recursive: true })));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('detectEditors', () => {
  it('finds editors by their binaries on PATH, Claude Desktop by its config folder, Claude Code first', async () => {
    await installStandIns(['codex', 'cursor']);
    const env = { PATH: `${binDir}:${path.join(root, 'missing')}` };
    expect(await detectEditors({ env, home, platform: 'linux' })).toEqual([
      { editor: resolveEditor('cursor'), binaryPath: path.join(binDir, 'cursor'), forced: false },
      { editor: resolveEditor('codex'), binaryPath: path.join(binDir, 'codex'), forced: false },
    ]);

    await installStandIns(['claude']);
    await mkdir(path.join(home, '.config/Claude'), { recursive: true });
    const ids = (await detectEditors({ env, home, platform: 'linux' })).map((d) => d.editor.id);
    expect(ids).toEqual(['claude-code', 'cursor', 'codex', 'claude-desktop']);
  });

  it('ignores files that are not executable', async () => {
    await copyFile(standIn, path.join(binDir, 'windsurf'));
    await chmod(path.join(binDir, 'windsurf'), 0o644);
    expect(await detectEditors({ env: { PATH: binDir }, home, platform: 'linux' })).toEqual([]);
  });

  it('lets MESHCODE_EDITOR force one editor, by id or alias, installed or not', async () => {
    await installStandIns(['claude', 'code']);
    const pathLookup = createPathLookup({ path: binDir, platform: 'linux' });
    expect(await detectEditors({ env: { MESHCODE_EDITOR: 'Cline' }, pathLookup, home })).toEqual([
      { editor: resolveEditor('vscode'), binaryPath: path.join(binDir, 'code'), forced: true },
    ]);
    expect(await detectEditors({ env: { MESHCODE_EDITOR: 'windsurf' }, pathLookup, home })).toEqual([
      { editor: resolveEditor('windsurf'), binaryPath: null, forced: true },
    ]);
    await expect(detectEditors({ env: { MESHCODE_EDITOR: 'vim' }, pathLookup, home })).rejects.toThrow(
      'MESHCODE_EDITOR="vim" is not a supported editor; use one of: claude-code, cursor, vscode, windsurf, codex, claude-desktop.',
    );
  });
});

describe('launchEditor', () => {
  const entry = meshcodeServerEntry({
    launcher: { command: 'meshcode' },
    project: 'acme',
    agent: 'backend',
    hubUrl: 'http://localhost:7700',
  });
  const launchable = EDITORS.filter((e): e is EditorSpec & { binary: string } => e.binary !== null);

  it.each(launchable.map((e) => [e.id, e] as const))('starts %s with the exact command line', async (_id, editor) => {
    await installStandIns([editor.binary]);
    const [found] = await detectEditors({ env: { PATH: binDir, MESHCODE_EDITOR: editor.id }, home, platform: 'linux' });
    const { path: configPath } = await writeEditorConfig(editor, { workspaceDir, home, platform: 'linux', entry });
    const result = await launchEditor(editor, {
      workspaceDir,
      configPath,
      binaryPath: found?.binaryPath,
      env: { PATH: '/usr/bin:/bin', MESHCODE_RECORD_DIR: recordDir },
    });
    const expectedArgs = {
      'claude-code': ['--mcp-config', path.join(workspaceDir, '.mcp.json')],
      cursor: [workspaceDir],
      vscode: [workspaceDir],
      windsurf: [workspaceDir],
      codex: [],
    }[editor.id as string];
    expect(await record(editor.binary)).toEqual({ name: editor.binary, cwd: workspaceDir, args: expectedArgs });
    expect(result.plan).toEqual({
      command: path.join(binDir, editor.binary),
      args: expectedArgs,
      cwd: workspaceDir,
      stdio: editor.terminal ? 'inherit' : 'ignore',
      detached: !editor.terminal,
    });
    expect(result.exitCode).toBe(editor.terminal ? 0 : null);
  });

  it('reports the exit code of a terminal editor', async () => {
    await installStandIns(['claude']);
    const result = await launchEditor('claude-code', {
      workspaceDir,
      configPath: path.join(workspaceDir, '.mcp.json'),
      binaryPath: path.join(binDir, 'claude'),
      env: { PATH: '/usr/bin:/bin', MESHCODE_RECORD_DIR: recordDir, MESHCODE_RECORD_EXIT: '3' },
    });
    expect(result.exitCode).toBe(3);
  });

  it('says which binary is missing instead of throwing ENOENT', async () => {
    for (const id of ['cursor', 'codex'] as const) {
      await expect(
        launchEditor(id, { workspaceDir, configPath: '/nowhere', binaryPath: path.join(binDir, 'absent'), env: {} }),
      ).rejects.toMatchObject({ code: 'launch_failed', message: expect.stringContaining('is not on PATH') as unknown });
    }
  });

  it('refuses to launch Claude Desktop and tells the user what to do instead', () => {
    expect(() => launchPlan('claude-desktop', { workspaceDir, configPath: '/x' })).toThrow('quit and reopen it');
  });
});

describe('instructionsFor', () => {
  it('names the file and the exact command, quoting paths with spaces', () => {
    const configPath = editorConfigPath('claude-code', { workspaceDir, home });
    const text = instructionsFor('claude-code', { configPath, workspaceDir, agent: 'backend', platform: 'linux' });
    expect(text).toBe(
      [
        `Wrote the MCP server for MeshCode agent "backend" (entry "meshcode") to ${configPath}.`,
        'Start Claude Code in the workspace:',
        `  cd '${workspaceDir}' && claude --mcp-config '${configPath}'`,
      ].join('\n'),
    );
  });

  it('has a next step for every editor', () => {
    for (const editor of EDITORS) {
      const configPath = editor.configPath({ workspaceDir, home, platform: 'linux' });
      const text = instructionsFor(editor, { configPath, workspaceDir, platform: 'linux' });
      expect(text.split('\n').length).toBeGreaterThan(1);
      expect(text).toContain(configPath);
    }
  });
});
