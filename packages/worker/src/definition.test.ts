import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWorkerFile, parseWorkerYaml, type WorkerFileIssue } from './definition';

const reviewer = `# A pull-request reviewer, as a user would write it.
name: pr-reviewer
description: Reviews pull requests for security issues
driver: docker
model: claude-sonnet-4-6
docker:
  image: mecha-worker-claude:latest
  command: claude -p
  cwd: ~/src/api
  cpus: 1.5
  memory: 2g
  pids: 256
  network: none
env:
  CLAUDE_EFFORT: high
  MAX_TURNS: 25
tokens:
  ANTHROPIC_API_KEY: anthropic.default
events:
  - source: github
    on: [pull_request.opened, pull_request.synchronize]
    filter:
      pull_request.draft: false
      pull_request.base.ref: [main, develop]
      sender.login: { not: "dependabot[bot]" }
    prompt: |
      Review this PR for security issues.
      Title: {{ event.pull_request.title }}
      {{ diff }}
policy:
  comment: { allow: true, max_length: 2000 }
  labels: { allow: true, allowed: [security, needs-review], blocked: [approved] }
  status: true
  commit: { allow: false }
schedule:
  - cron: "0 9 * * 1-5"
    timezone: Europe/Paris
    prompt: Check for unreviewed pull requests.
    max_runs_per_day: 10
    timeout: 5m
limits:
  concurrency: 2
  rate_per_minute: 10
  daily_cost_usd: 5
  task_timeout: 15m
  max_attempts: 4
`;

function issuesOf(text: string, file = 'workers/w.yml'): WorkerFileIssue[] {
  const result = parseWorkerYaml(text, file);
  if (result.ok) throw new Error('expected the definition to be rejected');
  return result.issues;
}

describe('parseWorkerYaml', () => {
  it('accepts a complete definition and applies units and defaults', () => {
    const result = parseWorkerYaml(reviewer, 'workers/pr-reviewer.yml');
    if (!result.ok) throw new Error(result.message);
    const worker = result.worker;
    expect(worker.driver).toBe('docker');
    if (worker.driver !== 'docker') return;
    expect(worker.docker).toMatchObject({
      image: 'mecha-worker-claude:latest',
      command: ['claude', '-p'],
      cpus: 1.5,
      memory: 2 * 1024 ** 3,
      pids: 256,
      network: 'none',
      mode: 'oneshot',
      pull: 'missing',
    });
    expect(worker.env).toEqual({ CLAUDE_EFFORT: 'high', MAX_TURNS: '25' });
    expect(worker.tokens).toEqual({ ANTHROPIC_API_KEY: 'anthropic.default' });
    expect(worker.events[0]).toMatchObject({
      source: 'github',
      auto: true,
      on: ['pull_request.opened', 'pull_request.synchronize'],
    });
    expect(worker.policy).toEqual({
      comment: { allow: true, max_length: 2000 },
      labels: { allow: true, allowed: ['security', 'needs-review'], blocked: ['approved'] },
      status: { allow: true, states: ['error', 'failure', 'pending', 'success'] },
      commit: { allow: false, max_size: 65_536 },
      metadata: { allow: true },
    });
    expect(worker.schedule).toEqual([
      {
        cron: '0 9 * * 1-5',
        timezone: 'Europe/Paris',
        prompt: 'Check for unreviewed pull requests.',
        max_runs_per_day: 10,
        timeout: 300_000,
        pause_after_errors: 5,
        skip_when_busy: true,
      },
    ]);
    expect(worker.limits).toEqual({
      concurrency: 2,
      rate_per_minute: 10,
      daily_cost_usd: 5,
      task_timeout: 900_000,
      max_attempts: 4,
    });
  });

  it('denies every write-back and uses safe limits when policy and limits are absent', () => {
    const result = parseWorkerYaml('name: w\ndriver: ollama\nmodel: llama3.2\n', 'w.yml');
    if (!result.ok) throw new Error(result.message);
    expect(result.worker.policy.comment.allow).toBe(false);
    expect(result.worker.policy.labels.allow).toBe(false);
    expect(result.worker.policy.status.allow).toBe(false);
    expect(result.worker.policy.commit.allow).toBe(false);
    expect(result.worker.limits).toEqual({
      concurrency: 1,
      rate_per_minute: 60,
      task_timeout: 600_000,
      max_attempts: 3,
    });
    expect(result.worker.driver === 'ollama' && result.worker.ollama.base_url).toBe('http://127.0.0.1:11434');
  });

  it('names file, line, column and field for a wrong type', () => {
    const text = reviewer.replace('cpus: 1.5', 'cpus: two');
    expect(issuesOf(text, 'workers/pr-reviewer.yml')).toEqual([
      {
        file: 'workers/pr-reviewer.yml',
        line: 10,
        column: 9,
        field: 'docker.cpus',
        message: 'must be a number, not string',
      },
    ]);
    const result = parseWorkerYaml(text, 'workers/pr-reviewer.yml');
    expect(!result.ok && result.message).toBe('workers/pr-reviewer.yml:10:9: docker.cpus must be a number, not string');
  });

  it('points a missing field at its parent key and a misspelt key at itself, with a suggestion', () => {
    const text = reviewer.replace('  image: mecha-worker-claude:latest', '  imgae: mecha-worker-claude:latest');
    expect(issuesOf(text)).toEqual([
      { file: 'workers/w.yml', line: 6, column: 1, field: 'docker.image', message: 'is required' },
      {
        file: 'workers/w.yml',
        line: 7,
        column: 3,
        field: 'docker.imgae',
        message: 'is not a known field; did you mean "image"?',
      },
    ]);
  });

  it('refuses credentials where only secret names belong', () => {
    const text = reviewer
      .replace(
        'ANTHROPIC_API_KEY: anthropic.default',
        'ANTHROPIC_API_KEY: sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ',
      )
      .replace('CLAUDE_EFFORT: high', 'GITHUB_TOKEN: ghp_16C7e42F292c6912E7710c838347Ae178B4a');
    const issues = issuesOf(text);
    expect(issues.map((issue) => [issue.line, issue.field])).toEqual([
      [15, 'env.GITHUB_TOKEN'],
      [18, 'tokens.ANTHROPIC_API_KEY'],
    ]);
    expect(issues[1]?.message).toMatch(/secrets\.yml/);
  });

  it('validates cron expressions and time zones with croner', () => {
    const badCron = issuesOf(reviewer.replace('"0 9 * * 1-5"', '"61 9 * * 1-5"'));
    expect(badCron).toEqual([
      expect.objectContaining({
        line: 36,
        field: 'schedule.0.cron',
        message: expect.stringMatching(/not a valid cron/),
      }),
    ]);
    const badZone = issuesOf(reviewer.replace('Europe/Paris', 'Mars/Olympus'));
    expect(badZone).toEqual([expect.objectContaining({ line: 37, field: 'schedule.0.timezone' })]);
  });

  it('accepts a single schedule mapping and reports its errors on the right line', () => {
    const text = 'name: w\ndriver: exec\nexec:\n  command: [claude, -p]\nschedule:\n  cron: "* * *"\n  prompt: hi\n';
    expect(issuesOf(text)).toEqual([expect.objectContaining({ line: 6, column: 9, field: 'schedule.0.cron' })]);
    const ok = parseWorkerYaml(text.replace('"* * *"', '"*/15 * * * *"'), 'w.yml');
    expect(ok.ok && ok.worker.schedule).toHaveLength(1);
  });

  it('checks prompt templates, event names, regex filters and enum values', () => {
    const text = reviewer
      .replace('Title: {{ event.pull_request.title }}', 'Title: {{ event.pull_request.title')
      .replace('pull_request.synchronize]', 'pull request!]')
      .replace('{ not: "dependabot[bot]" }', '{ matches: "([" }')
      .replace('  network: none', '  mode: forever');
    expect(issuesOf(text).map((issue) => [issue.line, issue.field])).toEqual([
      [13, 'docker.mode'],
      [21, 'events.0.on.1'],
      [25, 'events.0.filter.sender.login.matches'],
      [26, 'events.0.prompt'],
    ]);
  });

  it('rejects an unknown driver, a missing driver section and a missing model', () => {
    expect(issuesOf('name: w\ndriver: lambda\n')).toEqual([
      expect.objectContaining({
        line: 2,
        column: 9,
        field: 'driver',
        message: 'must be one of exec, docker, openai, ollama, http',
      }),
    ]);
    expect(issuesOf('name: w\ndriver: http\n')).toEqual([
      expect.objectContaining({ field: 'http', message: 'is required' }),
    ]);
    expect(issuesOf('name: w\ndriver: openai\nopenai: { base_url: "http://127.0.0.1:8000/v1" }\n')).toEqual([
      expect.objectContaining({ field: 'model', message: 'is required for the openai driver' }),
    ]);
  });

  it('reports YAML syntax errors and empty files with a position', () => {
    expect(issuesOf('name: [oops\ndriver: exec\n')[0]).toMatchObject({ line: 2, field: '' });
    expect(issuesOf('')[0]?.message).toMatch(/empty/);
    expect(issuesOf('- a\n- b\n')[0]?.message).toMatch(/mapping/);
  });
});

describe('parseWorkerFile', () => {
  it('reads the file and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshcode-worker-'));
    const path = join(dir, 'pr-reviewer.yml');
    await writeFile(path, reviewer);
    const good = await parseWorkerFile(path);
    expect(good.ok).toBe(true);
    await writeFile(path, reviewer.replace('memory: 2g', 'memory: lots'));
    const bad = await parseWorkerFile(path);
    expect(!bad.ok && bad.message).toBe(`${path}:11:11: docker.memory must be a size such as 64k, 512m or 4g`);
    const missing = await parseWorkerFile(join(dir, 'nope.yml'));
    expect(!missing.ok && missing.message).toMatch(/cannot be read \(ENOENT\)/);
  });
});
