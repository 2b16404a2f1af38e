// What to tell the user after writing a config: where it went and the exact next step for that editor.
import { launchPlan } from './launch';
import { editorById, type EditorId, type EditorSpec } from './table';

export interface InstructionsInput {
  configPath: string;
  workspaceDir: string;
  /** Shown in the text when given, e.g. "backend". */
  agent?: string;
  platform?: NodeJS.Platform;
}

function quote(value: string, platform: NodeJS.Platform): string {
  if (/^[\w/.,:@%+=-]+$/.test(value)) return value;
  return platform === 'win32' ? `"${value}"` : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Several lines: what was written where, then what to run or click. */
export function instructionsFor(editor: EditorSpec | EditorId, input: InstructionsInput): string {
  const e = typeof editor === 'string' ? editorById(editor) : editor;
  const platform = input.platform ?? process.platform;
  const q = (v: string) => quote(v, platform);
  const who = input.agent === undefined ? 'MeshCode' : `MeshCode agent "${input.agent}"`;
  const lines = [`Wrote the MCP server for ${who} (entry "meshcode") to ${input.configPath}.`];
  const command = () => {
    const plan = launchPlan(e, { workspaceDir: input.workspaceDir, configPath: input.configPath });
    return [plan.command, ...plan.args].map(q).join(' ');
  };
  switch (e.id) {
    case 'claude-code':
      lines.push(`Start Claude Code in the workspace:`, `  cd ${q(input.workspaceDir)} && ${command()}`);
      break;
    case 'codex':
      lines.push(
        `Start Codex in the workspace and trust the folder when asked (Codex reads .codex/config.toml only in trusted projects):`,
        `  cd ${q(input.workspaceDir)} && ${command()}`,
      );
      break;
    case 'cursor':
      lines.push(
        `Open the workspace in Cursor (File > Open Folder, or \`${command()}\`), then switch on "meshcode" under Settings > MCP.`,
      );
      break;
    case 'vscode':
      lines.push(
        `Open the workspace in VS Code (\`${command()}\`) and start "meshcode" from the MCP: List Servers command.`,
        `Cline keeps its own server list: in Cline's MCP Servers panel choose Configure MCP Servers and add the same command, args and env.`,
      );
      break;
    case 'windsurf':
      lines.push(
        `Windsurf reads one global MCP file, so it hosts one MeshCode agent at a time (this one now).`,
        `Open the workspace in Windsurf (\`${command()}\`), then press refresh in Cascade's MCP panel.`,
      );
      break;
    case 'claude-desktop':
      lines.push(
        `Claude Desktop reads one global file, so it hosts one MeshCode agent at a time (this one now).`,
        `Quit Claude Desktop completely and open it again to load the server.`,
      );
      break;
  }
  return lines.join('\n');
}
