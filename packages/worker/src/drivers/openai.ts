// Driver for any OpenAI-compatible /v1/chat/completions endpoint (OpenAI, vLLM, LM Studio, llama.cpp, LiteLLM).
import { call, failure, hostOf, isTransientStatus, parseJson, retryAfterMs, trimSlash } from './http-util';
import { costOf, type Driver, type PriceTable } from './types';

export interface OpenAIDriverOptions {
  /** API root including the version, e.g. https://api.openai.com/v1; a bare origin gets /v1 appended. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** USD per million tokens by model name; usage of a model not listed has no cost. */
  prices?: PriceTable;
  system?: string;
  maxTokens?: number;
  temperature?: number;
  maxResponseBytes?: number;
}

interface ChatCompletion {
  model?: string;
  choices?: { message?: { content?: string | null; refusal?: string | null }; finish_reason?: string }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

interface OpenAIError {
  error?: { message?: string; type?: string; code?: string | null } | string;
}

export function apiRoot(baseUrl: string): string {
  const url = new URL(baseUrl);
  return url.pathname === '/' || url.pathname === '' ? `${trimSlash(url.origin)}/v1` : trimSlash(baseUrl);
}

export function createOpenAIDriver(options: OpenAIDriverOptions): Driver {
  const root = apiRoot(options.baseUrl);
  const label = `OpenAI-compatible API at ${hostOf(root)}`;
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const maxBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;

  return {
    kind: 'openai',
    async run(task) {
      const messages = [
        ...(options.system ? [{ role: 'system', content: options.system }] : []),
        { role: 'user', content: task.prompt },
      ];
      const outcome = await call({
        url: `${root}/chat/completions`,
        method: 'POST',
        headers,
        body: {
          model: options.model,
          messages,
          stream: false,
          ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
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
        const error = (body as OpenAIError | undefined)?.error;
        const detail = typeof error === 'string' ? { message: error } : (error ?? {});
        const code = detail.code ?? detail.type;
        const message = detail.message ?? outcome.text.slice(0, 300);
        // A 429 for an exhausted quota will not clear by waiting.
        const transient = isTransientStatus(outcome.status) && code !== 'insufficient_quota';
        return failure(
          transient,
          `${label} answered ${outcome.status}${code ? ` (${code})` : ''}: ${message}`,
          transient ? retryAfterMs(outcome.headers) : undefined,
        );
      }

      const completion = body as ChatCompletion | undefined;
      const choice = completion?.choices?.[0];
      if (!choice?.message) return failure(true, `${label} answered 200 without a chat completion choice.`);
      const content = choice.message.content;
      if (typeof content !== 'string') {
        const refusal = choice.message.refusal;
        return failure(false, refusal ? `The model refused: ${refusal}` : `${label} returned a choice without text.`);
      }
      const inputTokens = completion?.usage?.prompt_tokens ?? 0;
      const outputTokens = completion?.usage?.completion_tokens ?? 0;
      const price =
        options.prices?.[options.model] ?? (completion?.model ? options.prices?.[completion.model] : undefined);
      const costUsd = costOf({ inputTokens, outputTokens }, price);
      return {
        ok: true,
        output: content,
        usage: costUsd === undefined ? { inputTokens, outputTokens } : { inputTokens, outputTokens, costUsd },
      };
    },
    async health(signal) {
      const outcome = await call({
        url: `${root}/models`,
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
        : { ok: false, error: `${label} answered ${outcome.status} to GET /models.` };
    },
  };
}
