// `meshcode mcp --project P --agent A`: the stdio MCP server editor configs launch. stdout is the protocol;
// everything this command says goes to stderr.
import type { Command } from 'commander';
import { createMeshClient } from '@meshcode/client';
import { runStdio } from '@meshcode/mcp';
import { action, type Io } from '../common';
import { createCredentialStore, CredentialError } from '../credentials';
import { CliError, EXIT } from '../errors';

export interface McpOptions {
  project: string;
  agent: string;
  force?: boolean;
}

export function register(program: Command, io: Io): void {
  program
    .command('mcp')
    .description('run the stdio MCP server an editor launches for one agent (stdout is the MCP protocol)')
    .requiredOption('--project <name>', 'project (meshwork) the agent belongs to')
    .requiredOption('--agent <name>', 'agent this editor window acts as')
    .option('--force', 'take the agent over from another window that is running it')
    .action(
      action(io, async (ctx, opts: McpOptions) => {
        const log = (line: string) => ctx.err(`meshcode mcp: ${line}`);
        let key: string;
        try {
          const store = createCredentialStore({ home: ctx.env.home, env: io.env });
          const { credential, warnings } = await store.get(ctx.hubUrl);
          for (const w of warnings) log(w);
          if (!credential) {
            throw new CliError(
              `no API key for ${ctx.hubUrl}`,
              EXIT.auth,
              'run `meshcode login <key>` (or set MESHCODE_API_KEY), then restart the editor window',
            );
          }
          key = credential.key;
        } catch (err) {
          if (err instanceof CredentialError) throw new CliError(err.message, EXIT.auth);
          throw err;
        }
        const client = createMeshClient({ hubUrl: ctx.hubUrl, apiKey: key });
        await runStdio({ client, meshwork: opts.project, agent: opts.agent, force: opts.force === true, log });
      }),
    );
}
