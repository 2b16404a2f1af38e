// Builds the `meshcode` program. This file only registers commands; each command lives in its own file.
import { Command } from 'commander';
import type { Io } from './common';
import * as board from './commands/board';
import * as dashboard from './commands/dashboard';
import * as events from './commands/events';
import * as go from './commands/go';
import * as hub from './commands/hub';
import * as invite from './commands/invite';
import * as invites from './commands/invites';
import * as join from './commands/join';
import * as login from './commands/login';
import * as logout from './commands/logout';
import * as mcp from './commands/mcp';
import * as members from './commands/members';
import * as projects from './commands/projects';
import * as read from './commands/read';
import * as retention from './commands/retention';
import * as deleteProject from './commands/delete-project';
import * as revokeInvite from './commands/revoke-invite';
import * as revokeMember from './commands/revoke-member';
import * as run from './commands/run';
import * as send from './commands/send';
import * as setup from './commands/setup';
import * as signup from './commands/signup';
import * as spectate from './commands/spectate';
import * as status from './commands/status';
import * as up from './commands/up';
import * as worker from './commands/worker';
import { closestNames } from './resolve';
import { VERSION } from './version';

// Help lists commands in this order: start, account, agents, projects, team, legacy.
const COMMANDS = [
  up,
  hub,
  signup,
  login,
  logout,
  status,
  go,
  setup,
  run,
  mcp,
  projects,
  board,
  worker,
  events,
  dashboard,
  invite,
  join,
  invites,
  members,
  revokeInvite,
  revokeMember,
  spectate,
  retention,
  deleteProject,
  send,
  read,
];

export function buildProgram(io: Io): Command {
  const program = new Command('meshcode')
    .description('MeshCode: turn AI coding agents into a team')
    .version(VERSION, '-v, --version', 'print the version')
    .option('--hub <url>', 'hub URL (default MESHCODE_HUB_URL or http://localhost:7700)')
    .option('--json', 'machine-readable output for listings')
    .option('--debug', 'show stack traces for unexpected errors')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
    })
    .exitOverride();
  for (const mod of COMMANDS) mod.register(program, io);
  program
    .command('help [command]')
    .description('show help for meshcode or one command')
    .action((name?: string) => {
      if (name === undefined) return program.outputHelp();
      const target = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
      if (target !== undefined) return target.outputHelp();
      const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
      const close = closestNames(name, names, 1);
      io.stderr(`meshcode: no command '${name}'${close[0] ? ` (did you mean ${close[0]}?)` : ''}; run meshcode help\n`);
      io.exit(2);
    });
  return program;
}

export { VERSION };
