// The pipeline's configuration, parsed once when a hub starts without explicit pipeline options.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { Provider } from './normalize';

const Schema = z.object({
  MESHCODE_HOME: z.string().min(1).optional(),
  MESHCODE_MASTER_KEY: z
    .string()
    .min(16, 'must be at least 16 characters (32 random bytes, base64, is best)')
    .optional(),
  MESHCODE_PIPELINE_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).optional(),
  MESHCODE_GITHUB_API_URL: z.string().url().optional(),
  MESHCODE_GITLAB_API_URL: z.string().url().optional(),
  MESHCODE_SLACK_API_URL: z.string().url().optional(),
  MESHCODE_TELEGRAM_API_URL: z.string().url().optional(),
});

export interface PipelineEnv {
  /** Where master.key lives when MESHCODE_MASTER_KEY is not set. */
  home: string;
  masterKey: string | undefined;
  intervalMs: number | undefined;
  /** MESHCODE_<PROVIDER>_API_URL: where a provider's API is when a project sets none of its own. */
  apiUrls: Partial<Record<Provider, string>>;
}

export class PipelineEnvError extends Error {}

export function loadPipelineEnv(env: NodeJS.ProcessEnv = process.env): PipelineEnv {
  const parsed = Schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new PipelineEnvError(`${name} ${issue?.message ?? 'is invalid'}; fix or unset it.`);
  }
  const e = parsed.data;
  return {
    home: e.MESHCODE_HOME ?? join(homedir(), '.meshcode'),
    masterKey: e.MESHCODE_MASTER_KEY,
    intervalMs: e.MESHCODE_PIPELINE_INTERVAL_MS,
    apiUrls: {
      github: e.MESHCODE_GITHUB_API_URL,
      gitlab: e.MESHCODE_GITLAB_API_URL,
      slack: e.MESHCODE_SLACK_API_URL,
      telegram: e.MESHCODE_TELEGRAM_API_URL,
    },
  };
}
