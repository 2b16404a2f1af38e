// Event -> EVERY matching rule of every worker of the meshwork -> one task spec each, with its prompt rendered
// (user-controlled values escaped by the template engine) or held for PR diff/file hydration.
import { LRUCache } from 'lru-cache';
import {
  matchingRules,
  parseDefinition,
  parseTemplate,
  renderPrompt,
  type WorkerDefinition,
} from '@meshcode/worker/core';
import type { NormalizedEvent, RepoProvider } from './normalize';

export interface WorkerRow {
  id: string;
  name: string;
  enabled: boolean;
  definition: unknown;
}

/** Waits for hydration before the prompt can be rendered. */
export interface HoldSpec {
  template: string;
  provider: RepoProvider;
}

export interface TaskSpec {
  worker_id: string;
  worker: string;
  rule: number;
  assign: boolean;
  title: string;
  prompt: string;
  timeout_ms: number;
  max_attempts: number;
  priority: 'normal';
  hold?: HoldSpec;
}

export interface SkippedWorker {
  worker_id: string;
  worker: string;
  reason: string;
}

export const RENDER_OPTIONS = { maxValueChars: 50_000, maxPromptChars: 120_000 } as const;

const cache = new LRUCache<string, ReturnType<typeof parseDefinition>>({ max: 500 });

/** Parsed definitions, memoised by their JSON text (the hot path parses the same few definitions again and again). */
export function parsedDefinition(definition: unknown): ReturnType<typeof parseDefinition> {
  const key = JSON.stringify(definition);
  let hit = cache.get(key);
  if (!hit) {
    hit = parseDefinition(definition);
    cache.set(key, hit);
  }
  return hit;
}

/** Whether a template reads hydrated fields (the PR diff or file list). */
export function needsHydration(template: string): boolean {
  const parsed = parseTemplate(template);
  return parsed.ok && parsed.parts.some((p) => p.kind === 'value' && (p.path[0] === 'diff' || p.path[0] === 'files'));
}

export function taskTitle(worker: string, normalized: NormalizedEvent): string {
  const what = `${normalized.event}${normalized.action ? `.${normalized.action}` : ''}`;
  return `${worker}: ${what} ${normalized.summary}`.replace(/\s+/g, ' ').trim().slice(0, 200);
}

export function matchWorkers(
  workers: WorkerRow[],
  source: string,
  normalized: NormalizedEvent,
  payload: Record<string, unknown>,
  context: Record<string, unknown>,
): { tasks: TaskSpec[]; skipped: SkippedWorker[] } {
  const tasks: TaskSpec[] = [];
  const skipped: SkippedWorker[] = [];
  const incoming = { source, event: normalized.event, action: normalized.action, payload };
  for (const row of workers) {
    const parsed = parsedDefinition(row.definition);
    if (!parsed.ok) {
      skipped.push({ worker_id: row.id, worker: row.name, reason: parsed.error });
      continue;
    }
    const worker: WorkerDefinition = parsed.worker;
    const rules = matchingRules(worker, incoming);
    if (rules.length === 0) continue;
    if (!row.enabled) {
      skipped.push({ worker_id: row.id, worker: row.name, reason: 'the worker is stopped (meshcode worker start)' });
      continue;
    }
    for (const rule of rules) {
      const index = worker.events.indexOf(rule);
      const provider = normalized.subject.provider;
      const hydrate =
        (provider === 'github' || provider === 'gitlab') &&
        normalized.subject.number !== undefined &&
        (normalized.subject.kind === 'pull_request' || normalized.subject.kind === 'merge_request') &&
        needsHydration(rule.prompt);
      let prompt = '';
      if (!hydrate) {
        const rendered = renderPrompt(rule.prompt, context, RENDER_OPTIONS);
        if (!rendered.ok) {
          skipped.push({ worker_id: row.id, worker: row.name, reason: rendered.error });
          continue;
        }
        prompt = rendered.prompt;
      }
      tasks.push({
        worker_id: row.id,
        worker: row.name,
        rule: index,
        assign: rule.auto,
        title: taskTitle(row.name, normalized),
        prompt,
        timeout_ms: worker.limits.task_timeout,
        max_attempts: worker.limits.max_attempts,
        priority: 'normal',
        ...(hydrate ? { hold: { template: rule.prompt, provider } } : {}),
      });
    }
  }
  return { tasks, skipped };
}
