// The stdio entry: the only place a transport is connected. stdout carries the protocol and nothing else; every
// diagnostic goes to stderr. Ends (releasing the agent) when the editor closes stdin or sends SIGINT/SIGTERM.
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createServer, type CreateServerOptions } from './server';

export interface RunStdioOptions extends CreateServerOptions {
  stdin?: Readable;
  stdout?: Writable;
}

export async function runStdio(opts: RunStdioOptions): Promise<void> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`meshcode mcp: ${line}\n`));
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const mc = await createServer({ ...opts, log });
  await mc.start();

  let signalled: NodeJS.Signals | undefined;
  let shutdown!: () => void;
  const closed = new Promise<void>((resolve) => {
    let closing = false;
    shutdown = () => {
      if (closing) return;
      closing = true;
      mc.cleanup()
        .then(() => mc.server.close())
        .catch((err: unknown) => log(`error while closing: ${String(err)}`))
        .finally(resolve);
    };
  });
  const onSignal = (sig: NodeJS.Signals) => {
    signalled = sig;
    shutdown();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  stdin.once('end', shutdown);
  stdin.once('close', shutdown);
  mc.server.server.onclose = shutdown;

  await mc.server.connect(new StdioServerTransport(stdin, stdout));
  await closed;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // Let the signal do what it would have done without our handler, now that the agent is released.
  if (signalled) process.kill(process.pid, signalled);
}
