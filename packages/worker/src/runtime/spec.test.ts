import { describe, expect, it } from 'vitest';
import { parseWorkerYaml } from '../definition';
import { unfence } from './runtime';
import { parseDefinition, rawDefinition, workerSpec } from './spec';

const YAML = `name: PR-Reviewer
driver: openai
model: gpt-4o-mini
openai: { base_url: "http://127.0.0.1:9/v1", api_key: openai.default }
events:
  - source: github
    on: pull_request.opened
    prompt: "Review {{ title }}"
    auto: false
schedule:
  cron: "0 3 * * *"
  prompt: nightly
  timeout: 2m
limits: { task_timeout: 90s, daily_cost_usd: 2 }
`;

describe('worker spec', () => {
  it('round-trips the definition as written and normalises what SQL enforces', () => {
    const raw = rawDefinition(YAML);
    const parsed = parseDefinition(raw);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parseWorkerYaml(YAML, 'w.yml')).toEqual({ ok: true, worker: parsed.worker });
    expect(workerSpec(parsed.worker)).toEqual({
      name: 'pr-reviewer',
      driver: 'openai',
      model: 'gpt-4o-mini',
      events: [{ source: 'github', on: ['pull_request.opened'], auto: false }],
      limits: { concurrency: 1, rate_per_minute: 60, daily_cost_usd: 2, task_timeout_ms: 90_000, max_attempts: 3 },
      schedules: [
        {
          cron: '0 3 * * *',
          prompt: 'nightly',
          max_runs_per_day: 50,
          timeout_ms: 120_000,
          pause_after_errors: 5,
          skip_when_busy: true,
        },
      ],
    });
  });

  it('explains an invalid stored definition in one sentence', () => {
    expect(parseDefinition({ name: 'x', driver: 'exec' })).toEqual({
      ok: false,
      error: expect.stringMatching(/^The worker definition is invalid: exec .*\.$/),
    });
  });
});

describe('unfence', () => {
  it('unwraps a fenced JSON answer and leaves everything else alone', () => {
    expect(unfence('```json\n{"comment":{"body":"x"}}\n```')).toBe('{"comment":{"body":"x"}}');
    expect(unfence('```\n{}\n```\n')).toBe('{}');
    expect(unfence('Here you go:\n```json\n{}\n```')).toBe('Here you go:\n```json\n{}\n```');
  });
});
