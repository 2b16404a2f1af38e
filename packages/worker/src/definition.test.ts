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

  it('refuses a credential in any field, as the hub does, naming the field and its line once', () => {
    const text = reviewer
      .replace('Reviews pull requests for security issues', 'Reviews PRs with sk-abcdefghijklmnop1234')
      .replace('Review this PR for security issues.', 'Review this PR; never print password: hunter22.')
      .replace('CLAUDE_EFFORT: high', 'GITHUB_TOKEN: ghp_16C7e42F292c6912E7710c838347Ae178B4a');
    const issues = issuesOf(text);
    expect(issues.map((issue) => [issue.line, issue.field])).toEqual([
      [3, 'description'],
      [15, 'env.GITHUB_TOKEN'],
      [26, 'events.0.prompt'],
    ]);
    expect(issues[2]?.message).toMatch(/^looks like a credential; .*secrets\.yml/);
    // The credential is reported even when the rest of the file is valid.
    const prompt =
      'name: w\ndriver: exec\nexec: { command: [cat] }\nschedule:\n  cron: "0 9 * * *"\n  prompt: "api_key=abc123"\n';
    expect(issuesOf(prompt)).toEqual([expect.objectContaining({ line: 6, column: 11, field: 'schedule.prompt' })]);
  });

  it('accepts only names the hub accepts: 1-63 characters, starting with a letter or digit, not "overseer"', () => {
    const named = (name: string) => `name: ${name}\ndriver: exec\nexec: { command: [cat] }\n`;
    expect(parseWorkerYaml(named(`A${'b'.repeat(62)}`), 'w.yml').ok).toBe(true);
    expect(parseWorkerYaml(named('pr-bot_2.v1'), 'w.yml').ok).toBe(true);
    for (const bad of [`a${'b'.repeat(63)}`, '-bot', '.bot', 'pr/bot', 'pr bot', '"é"']) {
      expect(issuesOf(named(bad))).toEqual([
        expect.objectContaining({
          line: 1,
          field: 'name',
          message: 'must be 1-63 characters: letters, digits, ".", "_" or "-", starting with a letter or digit',
        }),
      ]);
    }
    expect(issuesOf(named('Overseer'))).toEqual([
      expect.objectContaining({ line: 1, field: 'name', message: expect.stringMatching(/^is reserved: "overseer"/) }),
    ]);
  });

  it('reads durations from 1s to 2^31-1 ms, bare or quoted numbers as seconds, units in lowercase', () => {
    const timeout = (value: string) => {
      const result = parseWorkerYaml(
        `name: w\ndriver: exec\nexec: { command: [cat] }\nlimits:\n  task_timeout: ${value}\n`,
        'w.yml',
      );
      return result.ok ? result.worker.limits.task_timeout : result.issues.map((i) => `${i.field} ${i.message}`);
    };
    expect(timeout('90')).toBe(90_000);
    expect(timeout('"30"')).toBe(30_000);
    expect(timeout('"2.5"')).toBe(2_500);
    expect(timeout('1s')).toBe(1_000);
    expect(timeout('1500ms')).toBe(1_500);
    expect(timeout('24d')).toBe(24 * 86_400_000);
    for (const tooShort of ['0s', '"0.0001s"', '0', '0.0004', '999ms', '-5']) {
      expect(timeout(tooShort)).toEqual(['limits.task_timeout must be at least 1s']);
    }
    for (const tooLong of ['25d', '30d', '2147483.648']) {
      expect(timeout(tooLong)).toEqual([
        'limits.task_timeout must be at most 24.8 days (2147483647 ms); 24d is the most in whole days',
      ]);
    }
    expect(timeout('2147483.647')).toBe(2_147_483_647);
    expect(timeout('5M')).toEqual([
      'limits.task_timeout must be a duration such as 30s, 10m or 1h (a bare number means seconds); units are lowercase: ms, s, m (minutes), h, d',
    ]);
    expect(timeout('soon')).toEqual([
      'limits.task_timeout must be a duration such as 30s, 10m or 1h (a bare number means seconds)',
    ]);
    // The schedule's timeout follows the same rules.
    const schedule = (value: string) =>
      issuesOf(
        `name: w\ndriver: exec\nexec: { command: [cat] }\nschedule: { cron: "0 9 * * *", prompt: hi, timeout: ${value} }\n`,
      ).map((i) => `${i.field} ${i.message}`);
    expect(schedule('0s')).toEqual(['schedule.0.timeout must be at least 1s']);
    expect(schedule('25d')).toEqual([expect.stringMatching(/^schedule\.0\.timeout must be at most 24\.8 days/)]);
  });

  it("keeps counters within the hub's int columns", () => {
    const text = `name: w\ndriver: exec\nexec: { command: [cat] }\nschedule: { cron: "0 9 * * *", prompt: hi, max_runs_per_day: 2147483648 }\nlimits: { concurrency: 0, rate_per_minute: 2147483647 }\n`;
    expect(issuesOf(text).map((i) => `${i.field} ${i.message}`)).toEqual([
      'schedule.0.max_runs_per_day must be at most 2147483647',
      'limits.concurrency must be greater than 0',
    ]);
  });

  it('refuses sizes of zero bytes', () => {
    const size = (value: string) =>
      parseWorkerYaml(`name: w\ndriver: exec\nexec:\n  command: [cat]\n  max_output_bytes: ${value}\n`, 'w.yml');
    for (const zero of ['0', '0k', '"0 MB"', '0.0001k', '-1']) {
      const result = size(zero);
      expect(result.ok ? [] : result.issues).toEqual([
        expect.objectContaining({
          line: 5,
          field: 'exec.max_output_bytes',
          message: 'must be at least 1 byte, such as 64k, 512m or 4g',
        }),
      ]);
    }
    const one = size('1');
    expect(one.ok && one.worker.driver === 'exec' && one.worker.exec.max_output_bytes).toBe(1);
  });

  it('requires docker.command for a long-lived container', () => {
    const text = 'name: w\ndriver: docker\ndocker:\n  image: alpine\n  mode: long-lived\n';
    expect(issuesOf(text)).toEqual([
      expect.objectContaining({
        line: 3,
        field: 'docker.command',
        message: expect.stringMatching(
          /^is required with mode: long-lived .*add the command, e\.g\. command: \[claude, -p\]/,
        ),
      }),
    ]);
    expect(parseWorkerYaml(`${text}  command: [cat]\n`, 'w.yml').ok).toBe(true);
    expect(parseWorkerYaml(text.replace('long-lived', 'oneshot'), 'w.yml').ok).toBe(true);
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
