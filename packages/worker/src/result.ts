// The worker result contract shared with mecha's workers: free-form output plus optional write-back actions that
// the pipeline passes through the worker's policy.
import { z } from 'zod';

export const workerResultSchema = z.object({
  output: z.string().default(''),
  comment: z.object({ body: z.string(), target: z.string().optional() }).optional(),
  labels: z.object({ add: z.array(z.string()).optional(), remove: z.array(z.string()).optional() }).optional(),
  status: z
    .object({ state: z.string(), description: z.string().optional(), context: z.string().optional() })
    .optional(),
  commit: z.object({ message: z.string(), diff: z.string() }).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export type WorkerResult = z.output<typeof workerResultSchema>;

const ACTIONS = ['comment', 'labels', 'status', 'commit'] as const;

/**
 * Reads a driver's text output as a result: a JSON object with at least one action key is structured, anything
 * else is plain output.
 */
export function parseWorkerOutput(text: string): WorkerResult {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (value && typeof value === 'object' && ACTIONS.some((key) => key in value)) {
        const parsed = workerResultSchema.safeParse(value);
        if (parsed.success) return parsed.data;
      }
    } catch {
      // Not JSON: plain output.
    }
  }
  return { output: text };
}
