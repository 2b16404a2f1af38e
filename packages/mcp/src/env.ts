// The standalone stdio entry's environment, parsed once (the CLI's `meshcode mcp` reads its own, with the keychain).
import { z } from 'zod';
import { DEFAULT_HUB_URL } from '@meshcode/protocol';

const Schema = z.object({
  MESHCODE_API_KEY: z.string({ error: 'is not set' }).regex(/^mc_/, 'must be a MeshCode API key (mc_…)'),
  MESHCODE_HUB_URL: z.string().url('must be a URL such as http://localhost:7700').optional(),
});

export interface McpEnv {
  apiKey: string;
  hubUrl: string;
}

export function loadMcpEnv(env: Record<string, string | undefined>): McpEnv {
  const parsed = Schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new Error(
      `${name} ${issue?.message ?? 'is invalid'}: set it, or use \`meshcode mcp\`, which reads the keychain`,
    );
  }
  return {
    apiKey: parsed.data.MESHCODE_API_KEY,
    hubUrl: (parsed.data.MESHCODE_HUB_URL ?? DEFAULT_HUB_URL).replace(/\/+$/, ''),
  };
}
