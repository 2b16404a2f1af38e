// `meshcode up`: the main job — the hub on the embedded database, ready for agents, with next steps printed.
import type { Command } from 'commander';
import { action, type Io } from '../common';
import { serve, type ServeOptions } from './hub';

export function register(program: Command, io: Io): void {
  program
    .command('up')
    .description('start MeshCode locally: hub + embedded database (the main job)')
    .option('-p, --port <port>', 'port to listen on (default 7700, or PORT)')
    .option('--data <dir>', 'embedded database directory (default MESHCODE_HOME/data)')
    .action(
      action(io, async (ctx, opts: ServeOptions) => {
        await serve(ctx, io, opts, (url, where) => [
          `MeshCode is up on ${url} (${where})`,
          '',
          'Next, in another terminal:',
          `  meshcode signup --email you@example.com --hub ${url}`,
          '  meshcode go commander',
          '',
          'Ctrl-C stops it; your data stays.',
        ]);
      }),
    );
}
