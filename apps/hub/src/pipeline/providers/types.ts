// What a write-back provider (GitHub, GitLab, Slack, Telegram) does for the pipeline: send one effect, hydrate one
// PR/MR (the chats have none).
import type { EffectKind, EffectTarget } from '../effects';
import type { Provider } from '../normalize';
import type { Failure } from './http';

export interface DueEffect {
  id: string;
  key: string;
  meshwork_id: string;
  task_id: string;
  event_id: string | null;
  provider: Provider;
  kind: EffectKind;
  target: EffectTarget;
  payload: Record<string, unknown>;
  /** 1 on the first try; more means an earlier try may have reached the provider. */
  attempts: number;
}

export type Outcome = { ok: true; response: Record<string, unknown> } | Failure;

export interface Hydrated {
  diff: string;
  files: string;
  truncated: boolean;
}

export interface ProviderClient {
  perform(effect: DueEffect): Promise<Outcome>;
  hydrate(target: EffectTarget): Promise<{ ok: true; value: Hydrated } | Failure>;
}

export interface ProviderOptions {
  baseUrl: string;
  token: string | undefined;
  fetch: typeof fetch;
  timeoutMs?: number;
}

/** Caps on what hydration puts into a prompt. */
export const MAX_DIFF_CHARS = 100_000;
export const MAX_FILES = 300;

export function capDiff(diff: string): { diff: string; truncated: boolean } {
  if (diff.length <= MAX_DIFF_CHARS) return { diff, truncated: false };
  return {
    diff: `${diff.slice(0, MAX_DIFF_CHARS)}\n[diff truncated: ${diff.length - MAX_DIFF_CHARS} more characters]`,
    truncated: true,
  };
}
