// Standalone stdio server without the CLI: `node --import tsx packages/mcp/src/stdio-main.ts [mcp] --project P
// --agent A [--hub URL] [--force]`, key in MESHCODE_API_KEY. Editors normally launch `meshcode mcp` instead.
import { parseArgs } from 'node:util';
import { createMeshClient, MeshError } from '@meshcode/client';
import { loadMcpEnv } from './env';
import { runStdio } from './stdio';

function fatal(line: string): never {
  process.stderr.write(`meshcode mcp: ${line}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      project: { type: 'string' },
      agent: { type: 'string' },
      hub: { type: 'string' },
      force: { type: 'boolean' },
    },
    allowPositionals: true,
  }).values;
} catch (err) {
  fatal(`${(err as Error).message}; usage: mcp --project <name> --agent <name> [--hub <url>] [--force]`);
}
if (!args.project || !args.agent) fatal('--project and --agent are required');
let env;
try {
  env = loadMcpEnv(process.env);
} catch (err) {
  fatal((err as Error).message);
}
const client = createMeshClient({ hubUrl: (args.hub ?? env.hubUrl).replace(/\/+$/, ''), apiKey: env.apiKey });
try {
  await runStdio({ client, meshwork: args.project, agent: args.agent, force: args.force === true });
  process.exit(0);
} catch (err) {
  if (err instanceof MeshError) {
    process.stderr.write(`meshcode mcp: ${err.toSentence()}\n`);
    process.exit(1);
  }
  throw err;
}
