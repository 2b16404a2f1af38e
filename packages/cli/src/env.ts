// The CLI's environment, parsed once. Nothing else in the CLI reads process.env.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_HUB_URL } from '@meshcode/protocol';
import { CliError, EXIT } from './errors';

const Schema = z.object({
  MESHCODE_HUB_URL: z.string().url().optional(),
  MESHCODE_API_KEY: z.string().min(1).optional(),
  MESHCODE_HOME: z.string().min(1).optional(),
  MESHCODE_EDITOR: z.string().min(1).optional(),
  MESHCODE_DEBUG: z.string().optional(),
});

export interface CliEnv {
  hubUrl: string;
  apiKey: string | undefined;
  home: string;
  editor: string | undefined;
  debug: boolean;
  raw: NodeJS.ProcessEnv;
}

export function loadCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  const parsed = Schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new CliError(`${name} ${issue?.message ?? 'is invalid'}`, EXIT.usage, `fix or unset ${name}`);
  }
  const e = parsed.data;
  return {
    hubUrl: (e.MESHCODE_HUB_URL ?? DEFAULT_HUB_URL).replace(/\/+$/, ''),
    apiKey: e.MESHCODE_API_KEY,
    home: e.MESHCODE_HOME ?? join(homedir(), '.meshcode'),
    editor: e.MESHCODE_EDITOR,
    debug: e.MESHCODE_DEBUG === '1' || e.MESHCODE_DEBUG === 'true',
    raw: env,
  };
}
