// Entry for the `meshcode` binary.
import { CommanderError } from 'commander';
import { buildProgram } from './index';
import { processIo } from './common';

const program = buildProgram(processIo);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`meshcode: unexpected error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
