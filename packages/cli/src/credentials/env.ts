// The one place the credential store reads its environment (the caller passes the raw env in).
import { z } from 'zod';
import { CredentialError } from './errors';
import { isApiKey } from './key';

const schema = z.object({
  MESHCODE_API_KEY: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
});

export interface CredentialEnv {
  apiKey: string | undefined;
}

export function parseCredentialEnv(env: Record<string, string | undefined>): CredentialEnv {
  const parsed = schema.parse({ MESHCODE_API_KEY: env.MESHCODE_API_KEY });
  if (parsed.MESHCODE_API_KEY !== undefined && !isApiKey(parsed.MESHCODE_API_KEY)) {
    throw new CredentialError(
      'invalid_env',
      'MESHCODE_API_KEY does not look like a MeshCode API key (it must start with mc_); fix it or unset it.',
    );
  }
  return { apiKey: parsed.MESHCODE_API_KEY };
}
