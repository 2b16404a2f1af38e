// Editor config writers against golden files: a fresh write, a merge into a config full of other settings, and the
// properties around them (idempotent, reversible, atomic, refuses what it cannot edit safely).
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EDITORS,
  EditorConfigError,
  meshcodeServerEntry,
  readServerEntry,
  removeEditorConfig,
  writeEditorConfig,
  type EditorPaths,
  type EditorSpec,
} from './index';

const goldenDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '__golden__');
const updateGolden = process.env.UPDATE_GOLDEN === '1';

const entry = meshcodeServerEntry({
  launcher: { command: '/opt/node/bin/node', args: ['/opt/meshcode/bin/meshcode.js'] },
  project: 'acme',
  agent: 'backend',
  hubUrl: 'http://localhost:7700',
  meshcodeHome: '/home/dev/.meshcode',
});

const ext = (e: EditorSpec) => (e.format === 'toml' ? 'toml' : 'json');

async function golden(name: string, actual: string): Promise<void> {
  const file = path.join(goldenDir, name);
  if (updateGolden) await writeFile(file, actual);
  expect(actual).toBe(await readFile(file, 'utf8'));
}

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.includes('.tmp'));
}

let root: string;
let paths: EditorPaths;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'mc-editors-'));
  paths = { workspaceDir: path.join(root, 'ws'), home: path.join(root, 'home'), platform: 'linux' };
  await mkdir(paths.workspaceDir, { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each(EDITORS.map((e) => [e.id, e] as const))('%s', (_id, editor) => {
  it('writes a fresh config matching the golden file, idempotently, and reads the entry back', async () => {
    const first = await writeEditorConfig(editor, { ...paths, entry });
    expect(first.changed).toBe(true);
    const text = await readFile(first.path, 'utf8');
    await golden(`${editor.id}.fresh.${ext(editor)}`, text);

    const again = await writeEditorConfig(editor, { ...paths, entry });
    expect(again).toEqual({ path: first.path, changed: false });
    expect(await readFile(first.path, 'utf8')).toBe(text);
    expect(await readServerEntry(editor, paths)).toEqual(entry);
    expect(await leftovers(path.dirname(first.path))).toEqual([]);
  });

  it('merges into an existing config, keeps everything else, and removes cleanly', async () => {
    const file = editor.configPath(paths);
    const existing = await readFile(path.join(goldenDir, `${editor.id}.existing.${ext(editor)}`), 'utf8');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, existing);
    await chmod(file, 0o640);

    await writeEditorConfig(editor, { ...paths, entry });
    const merged = await readFile(file, 'utf8');
    await golden(`${editor.id}.merged.${ext(editor)}`, merged);
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(await leftovers(path.dirname(file))).toEqual([]);

    // Another agent, then back: the file returns to the same bytes.
    const other = { ...entry, args: entry.args.map((a) => (a === 'backend' ? 'frontend' : a)) };
    expect((await writeEditorConfig(editor, { ...paths, entry: other })).changed).toBe(true);
    expect(await readServerEntry(editor, paths)).toEqual(other);
    await writeEditorConfig(editor, { ...paths, entry });
    expect(await readFile(file, 'utf8')).toBe(merged);
    expect((await writeEditorConfig(editor, { ...paths, entry })).changed).toBe(false);

    expect(await removeEditorConfig(editor, paths)).toEqual({ path: file, changed: true });
    expect(await readFile(file, 'utf8')).toBe(existing);
    expect(await readServerEntry(editor, paths)).toBeNull();
    expect(await removeEditorConfig(editor, paths)).toEqual({ path: file, changed: false });
  });

  it('refuses a malformed file and leaves it untouched', async () => {
    const file = editor.configPath(paths);
    const broken =
      editor.format === 'toml' ? 'model = "gpt-5"\n[mcp_servers.docs\ncommand = 1\n' : '{\n  "mcpServers": {\n';
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, broken);
    const err = await writeEditorConfig(editor, { ...paths, entry }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EditorConfigError);
    expect((err as EditorConfigError).code).toBe('malformed');
    expect((err as EditorConfigError).message).toContain(file);
    expect(await readFile(file, 'utf8')).toBe(broken);
    expect(await leftovers(path.dirname(file))).toEqual([]);
    await expect(removeEditorConfig(editor, paths)).rejects.toMatchObject({ code: 'malformed' });
  });

  it('never writes an API key into the file', async () => {
    const leaky = [
      { ...entry, env: { ...entry.env, MESHCODE_API_KEY: 'mc_x' } },
      { ...entry, args: [...entry.args, '--key', 'mc_Kc7Qp2Wx9Zt4Lm1Rb8Nv5Hj3Gd'] },
    ];
    for (const bad of leaky) {
      await expect(writeEditorConfig(editor, { ...paths, entry: bad })).rejects.toMatchObject({
        code: 'secret_in_entry',
      });
    }
    await expect(stat(editor.configPath(paths))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('format details', () => {
  it('plain-JSON editors refuse comments; VS Code keeps them', async () => {
    const withComment = '{\n  // mine\n  "mcpServers": {}\n}\n';
    const cursorFile = path.join(paths.workspaceDir, '.cursor/mcp.json');
    await mkdir(path.dirname(cursorFile), { recursive: true });
    await writeFile(cursorFile, withComment);
    await expect(writeEditorConfig('cursor', { ...paths, entry })).rejects.toMatchObject({ code: 'malformed' });

    const vscodeFile = path.join(paths.workspaceDir, '.vscode/mcp.json');
    await mkdir(path.dirname(vscodeFile), { recursive: true });
    await writeFile(vscodeFile, '{\n  // mine\n  "servers": {}\n}\n');
    await writeEditorConfig('vscode', { ...paths, entry });
    expect(await readFile(vscodeFile, 'utf8')).toContain('// mine');
    expect(await readServerEntry('vscode', paths)).toEqual(entry);
    await writeFile(vscodeFile, '// servers go here\n');
    await writeEditorConfig('vscode', { ...paths, entry });
    expect(await readFile(vscodeFile, 'utf8')).toMatch(/^\/\/ servers go here\n\{\n {2}"servers"/);
  });

  it('refuses a servers key that is not an object', async () => {
    const file = path.join(paths.workspaceDir, '.mcp.json');
    await writeFile(file, '{ "mcpServers": [] }\n');
    await expect(writeEditorConfig('claude-code', { ...paths, entry })).rejects.toThrow('"mcpServers"');
  });

  it('keeps CRLF line endings and an empty file is a fresh one', async () => {
    const file = path.join(paths.workspaceDir, '.cursor/mcp.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '{\r\n  "mcpServers": {\r\n    "a": { "command": "a" }\r\n  }\r\n}\r\n');
    await writeEditorConfig('cursor', { ...paths, entry });
    const text = await readFile(file, 'utf8');
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
    await writeFile(file, '\n');
    await writeEditorConfig('cursor', { ...paths, entry });
    expect(await readFile(file, 'utf8')).toBe(await readFile(path.join(goldenDir, 'cursor.fresh.json'), 'utf8'));
  });

  it('keeps keys the user or the editor added to the meshcode entry', async () => {
    const file = path.join(paths.home, '.codeium/windsurf/mcp_config.json');
    await writeEditorConfig('windsurf', { ...paths, entry });
    const edited = (await readFile(file, 'utf8')).replace(
      '"command"',
      '"disabledTools": ["meshcode_forget"],\n      "command"',
    );
    await writeFile(file, edited);
    await writeEditorConfig('windsurf', { ...paths, entry: { ...entry, env: {} } });
    const after = JSON.parse(await readFile(file, 'utf8')) as { mcpServers: { meshcode: Record<string, unknown> } };
    expect(after.mcpServers.meshcode).toEqual({
      disabledTools: ['meshcode_forget'],
      command: entry.command,
      args: entry.args,
    });
  });

  it('writes through a symlinked config instead of replacing the link', async () => {
    const real = path.join(root, 'dotfiles/mcp.json');
    await mkdir(path.dirname(real), { recursive: true });
    await writeFile(real, '{ "mcpServers": {} }\n');
    const link = path.join(paths.workspaceDir, '.mcp.json');
    await symlink(real, link);
    await writeEditorConfig('claude-code', { ...paths, entry });
    expect((await stat(link)).isFile()).toBe(true);
    expect(JSON.parse(await readFile(real, 'utf8'))).toHaveProperty('mcpServers.meshcode.command', entry.command);
    expect(await leftovers(path.dirname(real))).toEqual([]);
  });

  it('round-trips Codex TOML: other tables intact, per-tool approvals of our server kept', async () => {
    const file = path.join(paths.workspaceDir, '.codex/config.toml');
    await mkdir(path.dirname(file), { recursive: true });
    const existing = await readFile(path.join(goldenDir, 'codex.existing.toml'), 'utf8');
    await writeFile(
      file,
      `${existing}\n[mcp_servers.meshcode]\ncommand = "old"\nstartup_timeout_sec = 30\n\n[mcp_servers.meshcode.tools.meshcode_send]\napproval_mode = "approve"\n\n# trailing note\n`,
    );
    await writeEditorConfig('codex', { ...paths, entry });
    const text = await readFile(file, 'utf8');
    const doc = parseToml(text) as Record<string, Record<string, Record<string, unknown>>>;
    const before = parseToml(existing) as Record<string, Record<string, unknown>>;
    expect(doc.mcp_servers?.docs).toEqual(before.mcp_servers?.docs);
    expect(doc.mcp_servers?.browser).toEqual(before.mcp_servers?.browser);
    expect(doc.model).toBe('gpt-5-codex');
    expect(doc.mcp_servers?.meshcode).toEqual({
      command: entry.command,
      args: entry.args,
      startup_timeout_sec: 30,
      env: entry.env,
      tools: { meshcode_send: { approval_mode: 'approve' } },
    });
    expect(text.startsWith(existing)).toBe(true);
    expect(text.endsWith('\n# trailing note\n')).toBe(true);
    expect(await readServerEntry('codex', paths)).toEqual(entry);
  });

  it('refuses a Codex entry written as an inline table rather than guessing', async () => {
    const file = path.join(paths.workspaceDir, '.codex/config.toml');
    await mkdir(path.dirname(file), { recursive: true });
    const inline = '[mcp_servers]\nmeshcode = { command = "old" }\n';
    await writeFile(file, inline);
    await expect(writeEditorConfig('codex', { ...paths, entry })).rejects.toMatchObject({ code: 'unsupported_shape' });
    expect(await readFile(file, 'utf8')).toBe(inline);
  });

  it('puts Claude Desktop where each platform keeps it', () => {
    const desktop = EDITORS.find((e) => e.id === 'claude-desktop');
    expect(desktop?.configPath({ workspaceDir: '/w', home: '/Users/dev', platform: 'darwin' })).toBe(
      '/Users/dev/Library/Application Support/Claude/claude_desktop_config.json',
    );
    expect(desktop?.configPath({ workspaceDir: '/w', home: '/home/dev', platform: 'linux' })).toBe(
      '/home/dev/.config/Claude/claude_desktop_config.json',
    );
    expect(
      desktop?.configPath({
        workspaceDir: 'C:\\w',
        home: 'C:\\Users\\dev',
        platform: 'win32',
        appData: 'C:\\Users\\dev\\AppData\\Roaming',
      }),
    ).toBe('C:\\Users\\dev\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
  });
});
