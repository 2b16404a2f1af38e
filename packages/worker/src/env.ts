// The worker runtime's environment, parsed once. Nothing else in this package reads process.env.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

/** Variables a child CLI needs to find itself and its own config; everything else must be declared in the worker. */
const CHILD_VARIABLES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'TZ'] as const;

const schema = z.object({
  MESHCODE_HOME: z
    .string()
    .min(1)
    .refine((value) => isAbsolute(value) || value.startsWith('~'), {
      error: 'MESHCODE_HOME must be an absolute path; set it to a directory such as ~/.meshcode.',
    })
    .optional(),
});

export interface WorkerEnv {
  /** Directory holding secrets.yml and worker state (default ~/.meshcode). */
  meshcodeHome: string;
  /** The user's home directory, used to refuse mounting credential folders such as ~/.ssh. */
  home: string;
  /** The minimal environment handed to child processes before worker-declared env and tokens. */
  childBaseEnv: Record<string, string>;
}

export function loadWorkerEnv(source: Record<string, string | undefined> = process.env): WorkerEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new Error(parsed.error.issues[0]?.message ?? 'MESHCODE_HOME is invalid; set it to an absolute path.');
  }
  const home = source['HOME'] || homedir();
  const configured = parsed.data.MESHCODE_HOME;
  const meshcodeHome = configured
    ? resolve(configured.startsWith('~') ? join(home, configured.slice(1)) : configured)
    : join(home, '.meshcode');
  const childBaseEnv: Record<string, string> = {};
  for (const name of CHILD_VARIABLES) {
    const value = source[name];
    if (value !== undefined) childBaseEnv[name] = value;
  }
  return { meshcodeHome, home, childBaseEnv };
}
