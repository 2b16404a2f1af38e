/*
 * Editor MCP configs as data: where each editor reads its MCP servers, in what format, and how it is launched.
 *
 * What each editor documents (checked against its own docs; decisions where MeshCode had a choice):
 * - Claude Code (code.claude.com/docs/en/mcp, CLI reference): project scope is `.mcp.json` at the project root with a
 *   top-level `mcpServers` object; stdio entries are `{ "type": "stdio", command, args, env }` (what
 *   `claude mcp add --scope project` writes). `claude --mcp-config <file>` loads servers from a JSON file. We write
 *   the workspace `.mcp.json` and launch `claude --mcp-config <abs path>` in the workspace.
 * - Cursor (cursor.com/docs/mcp): `.cursor/mcp.json` in the project (or `~/.cursor/mcp.json` for all projects),
 *   `mcpServers` with `{ command, args, env }`. We write the project file.
 * - VS Code (code.visualstudio.com/docs/copilot/reference/mcp-configuration): `.vscode/mcp.json` in the workspace, a
 *   top-level `servers` object (plus optional `inputs`), entries `{ "type": "stdio", command, args, env }`; the file is
 *   JSON with comments and trailing commas, so we edit it as JSONC and keep comments. Cline (docs.cline.bot/mcp) keeps
 *   its own list in `cline_mcp_settings.json` in VS Code's global storage; the instructions say so.
 * - Windsurf (docs.windsurf.com/windsurf/cascade/mcp): only the global `~/.codeium/windsurf/mcp_config.json`, same
 *   schema as Claude Desktop (`mcpServers`). No workspace file is documented (the `.windsurf/mcp.json` in the old
 *   product description is not read by Windsurf), so we write the global file.
 * - Codex (developers.openai.com/codex/config-reference, /codex/mcp): TOML, `~/.codex/config.toml`, tables
 *   `[mcp_servers.<name>]` with `command`, `args` and `[mcp_servers.<name>.env]`; project-scoped `.codex/config.toml`
 *   files are loaded when the project is trusted. We write the workspace `.codex/config.toml` so each agent's
 *   workspace carries its own server; CODEX_HOME is not used because it would also move Codex's login.
 * - Claude Desktop (modelcontextprotocol.io/quickstart/user): `claude_desktop_config.json` with `mcpServers`, in
 *   `~/Library/Application Support/Claude/` on macOS and `%APPDATA%\Claude\` on Windows; there is no official Linux
 *   build, community builds read `~/.config/Claude/`. It cannot be started with a workspace from a CLI.
 *
 * Server name: always `meshcode`. In the two global files (Windsurf, Claude Desktop) every configured server starts in
 * every window, so entries per agent would make each window claim every agent; one app hosts one MeshCode agent, and
 * writing the entry for another agent replaces it. A stable name also keeps the user's per-server settings (tool
 * approvals, disabled flags), which editors key by server name.
 */
import path from 'node:path';

export type EditorId = 'claude-code' | 'cursor' | 'vscode' | 'windsurf' | 'codex' | 'claude-desktop';
export type ConfigFormat = 'json' | 'jsonc' | 'toml';

export interface EditorPaths {
  /** The agent's workspace directory (workspace-scoped configs live here). */
  workspaceDir: string;
  /** The user's home directory (global configs live under it). */
  home: string;
  platform?: NodeJS.Platform;
  /** %APPDATA% on Windows; defaults to <home>\AppData\Roaming. */
  appData?: string;
}

export interface EditorSpec {
  id: EditorId;
  displayName: string;
  /** Other names MESHCODE_EDITOR accepts. */
  aliases: readonly string[];
  /** Executable that detects and launches it; null when it cannot be launched from a CLI. */
  binary: string | null;
  /** Terminal apps share our stdio and we wait for them; GUI apps are started detached. */
  terminal: boolean;
  scope: 'workspace' | 'global';
  format: ConfigFormat;
  /** The top-level key that holds the servers. */
  serversKey: string;
  /** Whether entries carry `"type": "stdio"`. */
  typedEntries: boolean;
  configPath(paths: EditorPaths): string;
  /** Arguments after the binary; the process always starts in the workspace directory. */
  launchArgs(input: { workspaceDir: string; configPath: string }): string[];
  docs: string;
}

function pathFor(platform: NodeJS.Platform | undefined): path.PlatformPath {
  return (platform ?? process.platform) === 'win32' ? path.win32 : path.posix;
}

export const EDITORS: readonly EditorSpec[] = [
  {
    id: 'claude-code',
    displayName: 'Claude Code',
    aliases: ['claude', 'claude-code', 'claudecode'],
    binary: 'claude',
    terminal: true,
    scope: 'workspace',
    format: 'json',
    serversKey: 'mcpServers',
    typedEntries: true,
    configPath: (p) => pathFor(p.platform).join(p.workspaceDir, '.mcp.json'),
    launchArgs: ({ configPath }) => ['--mcp-config', configPath],
    docs: 'https://code.claude.com/docs/en/mcp',
  },
  {
    id: 'cursor',
    displayName: 'Cursor',
    aliases: ['cursor'],
    binary: 'cursor',
    terminal: false,
    scope: 'workspace',
    format: 'json',
    serversKey: 'mcpServers',
    typedEntries: false,
    configPath: (p) => pathFor(p.platform).join(p.workspaceDir, '.cursor', 'mcp.json'),
    launchArgs: ({ workspaceDir }) => [workspaceDir],
    docs: 'https://cursor.com/docs/mcp',
  },
  {
    id: 'vscode',
    displayName: 'VS Code (Cline, Copilot)',
    aliases: ['vscode', 'code', 'cline', 'vs-code'],
    binary: 'code',
    terminal: false,
    scope: 'workspace',
    format: 'jsonc',
    serversKey: 'servers',
    typedEntries: true,
    configPath: (p) => pathFor(p.platform).join(p.workspaceDir, '.vscode', 'mcp.json'),
    launchArgs: ({ workspaceDir }) => [workspaceDir],
    docs: 'https://code.visualstudio.com/docs/copilot/reference/mcp-configuration',
  },
  {
    id: 'windsurf',
    displayName: 'Windsurf',
    aliases: ['windsurf'],
    binary: 'windsurf',
    terminal: false,
    scope: 'global',
    format: 'json',
    serversKey: 'mcpServers',
    typedEntries: false,
    configPath: (p) => pathFor(p.platform).join(p.home, '.codeium', 'windsurf', 'mcp_config.json'),
    launchArgs: ({ workspaceDir }) => [workspaceDir],
    docs: 'https://docs.windsurf.com/windsurf/cascade/mcp',
  },
  {
    id: 'codex',
    displayName: 'Codex CLI',
    aliases: ['codex'],
    binary: 'codex',
    terminal: true,
    scope: 'workspace',
    format: 'toml',
    serversKey: 'mcp_servers',
    typedEntries: false,
    configPath: (p) => pathFor(p.platform).join(p.workspaceDir, '.codex', 'config.toml'),
    launchArgs: () => [],
    docs: 'https://developers.openai.com/codex/mcp',
  },
  {
    id: 'claude-desktop',
    displayName: 'Claude Desktop',
    aliases: ['claude-desktop', 'claudedesktop', 'desktop'],
    binary: null,
    terminal: false,
    scope: 'global',
    format: 'json',
    serversKey: 'mcpServers',
    typedEntries: false,
    configPath: (p) => {
      const platform = p.platform ?? process.platform;
      const paths = pathFor(platform);
      if (platform === 'darwin') {
        return paths.join(p.home, 'Library', 'Application Support', 'Claude', 'claude_desktop_config.json');
      }
      if (platform === 'win32') {
        return paths.join(
          p.appData ?? paths.join(p.home, 'AppData', 'Roaming'),
          'Claude',
          'claude_desktop_config.json',
        );
      }
      return paths.join(p.home, '.config', 'Claude', 'claude_desktop_config.json');
    },
    launchArgs: () => [],
    docs: 'https://modelcontextprotocol.io/quickstart/user',
  },
];

export const EDITOR_IDS: readonly EditorId[] = EDITORS.map((e) => e.id);

export function editorById(id: EditorId): EditorSpec {
  const spec = EDITORS.find((e) => e.id === id);
  if (spec === undefined) throw new Error(`no editor ${id}`);
  return spec;
}
