// A stored worker definition (the YAML as written, no secrets) -> the parsed worker, and the spec the hub enforces
// in SQL (limits in milliseconds, schedules, a summary of the event rules).
import { parse } from 'yaml';
import type { z } from 'zod';
import { workerSchema, type WorkerDefinition } from '../definition';

export interface WorkerSpec {
  name: string;
  driver: WorkerDefinition['driver'];
  model?: string;
  description?: string;
  events: { source: string; on: string[]; auto: boolean }[];
  limits: {
    concurrency: number;
    rate_per_minute: number;
    daily_cost_usd?: number;
    task_timeout_ms: number;
    max_attempts: number;
  };
  schedules: {
    cron: string;
    timezone?: string;
    prompt: string;
    max_runs_per_day: number;
    timeout_ms: number;
    pause_after_errors: number;
    skip_when_busy: boolean;
  }[];
}

export type ParseDefinitionResult = { ok: true; worker: WorkerDefinition } | { ok: false; error: string };

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.filter((p) => typeof p !== 'symbol').join('.');
  return path ? `${path} ${issue.message}` : issue.message;
}

/** Parses a definition as stored on the hub (the object a worker YAML file holds). */
export function parseDefinition(raw: unknown): ParseDefinitionResult {
  const parsed = workerSchema.safeParse(raw);
  if (parsed.success) return { ok: true, worker: parsed.data };
  return {
    ok: false,
    error: `The worker definition is invalid: ${parsed.error.issues.slice(0, 5).map(describe).join('; ')}.`,
  };
}

export function workerSpec(worker: WorkerDefinition): WorkerSpec {
  return {
    name: worker.name.toLowerCase(),
    driver: worker.driver,
    ...(worker.model ? { model: worker.model } : {}),
    ...(worker.description ? { description: worker.description } : {}),
    events: worker.events.map((rule) => ({ source: rule.source, on: rule.on, auto: rule.auto })),
    limits: {
      concurrency: worker.limits.concurrency,
      rate_per_minute: worker.limits.rate_per_minute,
      ...(worker.limits.daily_cost_usd !== undefined ? { daily_cost_usd: worker.limits.daily_cost_usd } : {}),
      task_timeout_ms: worker.limits.task_timeout,
      max_attempts: worker.limits.max_attempts,
    },
    schedules: worker.schedule.map((entry) => ({
      cron: entry.cron,
      ...(entry.timezone ? { timezone: entry.timezone } : {}),
      prompt: entry.prompt,
      max_runs_per_day: entry.max_runs_per_day,
      timeout_ms: entry.timeout,
      pause_after_errors: entry.pause_after_errors,
      skip_when_busy: entry.skip_when_busy,
    })),
  };
}

/** The definition as written in a worker file (what the hub stores), for a file parseWorkerYaml accepted. */
export function rawDefinition(yamlText: string): unknown {
  return parse(yamlText, { maxAliasCount: 100 });
}
