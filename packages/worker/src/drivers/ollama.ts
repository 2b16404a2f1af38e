// Driver for Ollama's native /api/chat (non-streaming).
import { call, failure, hostOf, isTransientStatus, parseJson, retryAfterMs, trimSlash } from './http-util';
import { costOf, type Driver, type Price } from './types';

export interface OllamaDriverOptions {
  /** Default http://127.0.0.1:11434. */
  baseUrl?: string;
  model: string;
  system?: string;
  /** Local models cost nothing unless a price is given. */
  price?: Price;
  maxResponseBytes?: number;
}

interface ChatResponse {
  message?: { role?: string; content?: string };
  done?: boolean;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

export function createOllamaDriver(options: OllamaDriverOptions): Driver {
  const root = trimSlash(options.baseUrl ?? 'http://127.0.0.1:11434');
  const label = `Ollama at ${hostOf(root)}`;
  const maxBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;

  return {
    kind: 'ollama',
    async run(task) {
      const outcome = await call({
        url: `${root}/api/chat`,
        method: 'POST',
        body: {
          model: options.model,
          messages: [
            ...(options.system ? [{ role: 'system', content: options.system }] : []),
            { role: 'user', content: task.prompt },
          ],
          stream: false,
        },
        timeoutMs: task.timeoutMs,
        signal: task.signal,
        maxBytes,
        label,
      });
      if (outcome.kind === 'failed') return outcome.result;
      if (outcome.tooLarge) return failure(false, `${label} sent a response larger than ${maxBytes} bytes.`);
      const body = parseJson(outcome.text) as ChatResponse | undefined;
      if (outcome.status !== 200) {
        const message = body?.error ?? outcome.text.slice(0, 300);
        if (outcome.status === 404 && /not found/i.test(message)) {
          return failure(false, `${label}: ${message}; run: ollama pull ${options.model}`);
        }
        const transient = isTransientStatus(outcome.status);
        return failure(
          transient,
          `${label} answered ${outcome.status}: ${message}`,
          transient ? retryAfterMs(outcome.headers) : undefined,
        );
      }
      const content = body?.message?.content;
      if (typeof content !== 'string') return failure(true, `${label} answered 200 without a message.`);
      const usage = { inputTokens: body?.prompt_eval_count ?? 0, outputTokens: body?.eval_count ?? 0 };
      return { ok: true, output: content, usage: { ...usage, costUsd: costOf(usage, options.price) ?? 0 } };
    },
    async health(signal) {
      const outcome = await call({ url: `${root}/api/tags`, method: 'GET', timeoutMs: 5_000, signal, maxBytes, label });
      if (outcome.kind === 'failed') return { ok: false, error: outcome.result.error };
      return outcome.status === 200 ? { ok: true } : { ok: false, error: `${label} answered ${outcome.status}.` };
    },
  };
}
