// Driver for an existing HTTP worker speaking mecha's worker contract:
// GET /health -> 200 when ready; POST /task {id, prompt, context?} -> 200 result JSON, 429 when busy.
import { randomUUID } from 'node:crypto';
import { workerResultSchema } from '../result';
import { call, failure, hostOf, isTransientStatus, parseJson, retryAfterMs, trimSlash } from './http-util';
import type { Driver, Usage } from './types';

export interface HttpDriverOptions {
  url: string;
  apiKey?: string;
  maxResponseBytes?: number;
}

export function createHttpDriver(options: HttpDriverOptions): Driver {
  const root = trimSlash(options.url);
  const label = `HTTP worker at ${hostOf(root)}`;
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const maxBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;

  return {
    kind: 'http',
    async run(task) {
      const outcome = await call({
        url: `${root}/task`,
        method: 'POST',
        headers,
        body: {
          id: task.id ?? randomUUID(),
          prompt: task.prompt,
          ...(task.context !== undefined ? { context: task.context } : {}),
        },
        timeoutMs: task.timeoutMs,
        signal: task.signal,
        maxBytes,
        label,
      });
      if (outcome.kind === 'failed') return outcome.result;
      if (outcome.tooLarge) return failure(false, `${label} sent a response larger than ${maxBytes} bytes.`);
      const body = parseJson(outcome.text);
      if (outcome.status !== 200) {
        const error =
          body && typeof body === 'object' && 'error' in body ? String(body.error) : outcome.text.slice(0, 300);
        if (outcome.status === 429) {
          return failure(true, `${label} is busy: ${error}`, retryAfterMs(outcome.headers));
        }
        const transient = isTransientStatus(outcome.status);
        return failure(
          transient,
          `${label} answered ${outcome.status}: ${error}`,
          transient ? retryAfterMs(outcome.headers) : undefined,
        );
      }
      const parsed = workerResultSchema.safeParse(body);
      if (!parsed.success) {
        return failure(false, `${label} answered 200 with a body that is not a worker result ({"output": "..."}).`);
      }
      const result = parsed.data;
      const usage = usageFrom(result.metadata);
      return usage ? { ok: true, output: result.output, result, usage } : { ok: true, output: result.output, result };
    },
    async health(signal) {
      const outcome = await call({
        url: `${root}/health`,
        method: 'GET',
        headers,
        timeoutMs: 5_000,
        signal,
        maxBytes,
        label,
      });
      if (outcome.kind === 'failed') return { ok: false, error: outcome.result.error };
      return outcome.status === 200
        ? { ok: true }
        : {
            ok: false,
            error: `${label} answered ${outcome.status} to GET /health${outcome.status === 503 ? ' (busy or upstream down)' : ''}.`,
          };
    },
  };
}

function usageFrom(metadata: Record<string, unknown> | undefined): Usage | undefined {
  if (!metadata) return undefined;
  const input = metadata['input_tokens'];
  const output = metadata['output_tokens'];
  if (typeof input !== 'number' || typeof output !== 'number') return undefined;
  const cost = metadata['cost_usd'];
  return typeof cost === 'number'
    ? { inputTokens: input, outputTokens: output, costUsd: cost }
    : { inputTokens: input, outputTokens: output };
}
