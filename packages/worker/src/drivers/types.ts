// The one interface every driver implements: a prompt in, output (or a classified failure) out.
import type { WorkerResult } from '../result';

export interface DriverTask {
  prompt: string;
  /** Working directory for drivers that run code (exec, docker); an absolute host path. */
  cwd?: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Task id forwarded to HTTP workers; generated when absent. */
  id?: string;
  /** Event context forwarded to HTTP workers. */
  context?: unknown;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd?: number;
}

export type DriverResult =
  | { ok: true; output: string; usage?: Usage; result?: WorkerResult }
  | {
      ok: false;
      /** true: retrying later may succeed (timeouts, 429, 5xx, network); false: it will not (4xx, bad config). */
      transient: boolean;
      error: string;
      retryAfterMs?: number;
    };

export interface Driver {
  readonly kind: 'exec' | 'docker' | 'openai' | 'ollama' | 'http';
  run(task: DriverTask): Promise<DriverResult>;
  /** Whether the backend answers; undefined when the driver has nothing to ask. */
  health?(signal?: AbortSignal): Promise<{ ok: true } | { ok: false; error: string }>;
  /** Releases long-lived resources (containers, sockets). */
  close?(): Promise<void>;
}

export interface Price {
  /** USD per million input tokens. */
  inputPerMTok: number;
  /** USD per million output tokens. */
  outputPerMTok: number;
}

export type PriceTable = Record<string, Price>;

export function costOf(
  usage: { inputTokens: number; outputTokens: number },
  price: Price | undefined,
): number | undefined {
  if (!price) return undefined;
  return (usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1_000_000;
}
