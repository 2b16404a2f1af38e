// The acceptance scenario as a new user runs it: a worker file added with `meshcode worker add`, the worker
// started with `meshcode worker start` (the real binary), a real GitHub pull_request delivery posted with its
// signature; the policy-filtered review comment and status arrive at the GitHub stand-in exactly once and the whole
// trace reads back through `meshcode events <id>` and mc_event_trace. Also: a worker killed mid-task is retried and
// writes back once; bad worker files are refused with file, line and field. Runs on PGlite and PostgreSQL.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import examples from '@octokit/webhooks-examples';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { createMeshClient, signup, type MeshClient } from '@meshcode/client';
import { describeBackends, resetState } from '@meshcode/db/testing';
import { writeSecret } from '@meshcode/worker';
import {
  githubDelivery,
  postHook,
  startPipelineHub,
  type PipelineHub,
  type Trace,
} from '../../../../apps/hub/src/pipeline/testing/fixture';
import { startGitHubStandIn, type GitHubStandIn } from '../../../../apps/hub/src/pipeline/testing/github-standin';
import { completion, startLlmStandIn, type LlmStandIn } from '../../../../apps/hub/src/pipeline/testing/llm-standin';
import {
  cliProcess,
  cutOffKeychain,
  makeSandbox,
  runCli,
  spawnCli,
  uniqueEmail,
  type CliProcess,
  type Sandbox,
} from '../testing/cli';

const TOKEN = 'ghp_acceptanceToken0123456789abcdefABCDEF';
const HEAD = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';

function prOpened(): unknown {
  return structuredClone(
    examples
      .find((d) => d.name === 'pull_request')!
      .examples.find((e) => (e as { action?: string }).action === 'opened'),
  );
}

const REVIEWER_YAML = (llmUrl: string) => `# Reviews every new pull request for security issues.
name: pr-reviewer
driver: openai
model: gpt-4o-mini
openai:
  base_url: ${llmUrl}
  api_key: openai.default
  price: { input_per_mtok: 0.15, output_per_mtok: 0.6 }
events:
  - source: github
    on: [pull_request.opened, pull_request.synchronize]
    prompt: "Review this PR for security issues: {{ event.pull_request.title }}"
policy:
  comment: { allow: true, max_length: 500 }
  labels: { allow: true, blocked: [wontfix] }
  status: { allow: true, states: [success, failure] }
  commit: { allow: false }
limits:
  task_timeout: 30s
`;

describeBackends('meshcode worker and events', (getDb) => {
  let hub: PipelineHub;
  let github: GitHubStandIn;
  let llm: LlmStandIn;
  let sb: Sandbox;
  let restoreBus: () => void;
  let client: MeshClient;
  const running: CliProcess[] = [];

  beforeAll(async () => {
    restoreBus = cutOffKeychain();
    github = await startGitHubStandIn({ token: TOKEN });
    llm = await startLlmStandIn();
    hub = await startPipelineHub(getDb(), { retryBaseMs: 300 });
  });
  afterAll(async () => {
    restoreBus();
    await hub.close();
    await github.close();
    await llm.close();
  });
  beforeEach(async () => {
    await resetState(getDb());
    github.comments.length = 0;
    github.statuses.length = 0;
    github.requests.length = 0;
    sb = await makeSandbox(hub.url);
    const { key } = await signup(hub.url, uniqueEmail('worker-user'), 'Worker User');
    sb.env.MESHCODE_API_KEY = key;
    client = createMeshClient({ hubUrl: hub.url, apiKey: key });
    await client.createMeshwork('demo');
  });
  afterEach(async () => {
    for (const p of running.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    await sb.cleanup();
  });

  const cli = async (...args: string[]) => {
    const res = await runCli(args, sb.env);
    expect(res.code, `meshcode ${args.join(' ')}\n${res.stderr}`).toBe(0);
    return res.stdout;
  };

  it('a worker file added, a signed pull_request delivery posted: comment and status written back once, trace readable', async () => {
    llm.reply = () => ({
      status: 200,
      body: completion(
        '```json\n' +
          JSON.stringify({
            comment: { body: `No injection found. ${'Details follow. '.repeat(60)}` },
            labels: { add: ['security-reviewed', 'wontfix'] },
            status: { state: 'success', description: 'Security review passed' },
          }) +
          '\n```',
      ),
    });
    const setup = await cli(
      'events',
      '--project',
      'demo',
      '--webhook',
      'github',
      '--token',
      TOKEN,
      '--api-url',
      github.url,
    );
    const url = /go to: (\S+)/.exec(setup)![1]!;
    const secret = /shown once[^:]*: ([0-9a-f]{64})/.exec(setup)![1]!;
    expect(url).toMatch(/\/hooks\/v1\/[0-9a-f-]{36}\/github$/);

    await writeSecret(sb.meshHome, 'openai.default', 'sk-acceptance-0123456789abcdef');
    const file = path.join(sb.root, 'pr-reviewer.yml');
    await writeFile(file, REVIEWER_YAML(llm.url));
    const added = await cli('worker', 'add', file, '--project', 'demo');
    expect(added).toContain('Worker pr-reviewer added to project demo (openai gpt-4o-mini, 1 rule, 0 schedules).');
    expect(added).toContain(`github deliveries: ${url}`);

    const worker = spawnCli(['worker', 'start', 'pr-reviewer', '--project', 'demo'], sb.env, sb.root);
    running.push(worker);
    await worker.waitFor("worker 'pr-reviewer' (openai) is online in 'demo'");

    const d = githubDelivery(prOpened(), 'pull_request', secret);
    const posted = await postHook(url, d.headers, d.body);
    expect(posted.status).toBe(202);
    const eventId = posted.body['event_id'] as string;

    let trace: Trace | undefined;
    await vi.waitFor(
      async () => {
        trace = await client.rpc<Trace>('mc_event_trace', { p_meshwork: 'demo', p_event_id: eventId });
        if (trace.event.state !== 'completed') throw new Error(`event ${trace.event.state}`);
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(github.comments).toHaveLength(1);
    const [visible] = github.comments[0]!.body.split('\n\n<!-- meshcode:effect:');
    expect(visible).toHaveLength(500);
    expect(visible).toMatch(/^No injection found\. /);
    expect(github.statuses).toEqual([
      expect.objectContaining({
        repo: 'Codertocat/Hello-World',
        sha: HEAD,
        state: 'success',
        context: 'meshcode/pr-reviewer',
      }),
    ]);
    expect(github.labels.get('Codertocat/Hello-World#2')).toEqual(['security-reviewed']);
    expect(trace!.steps.map((s) => s.step)).toEqual([
      'event.received',
      'event.matched',
      'task.created',
      'task.claimed',
      'task.result',
      'policy.applied',
      'writeback.ok',
      'writeback.ok',
      'writeback.ok',
      'event.completed',
    ]);

    // A redelivery changes nothing.
    expect((await postHook(url, d.headers, d.body)).body).toMatchObject({ duplicate: true });

    const list = await cli('events', '--project', 'demo');
    expect(list).toMatch(/github\s+pull_request\.opened\s+completed\s+1\s+pr-reviewer\s+Codertocat\/Hello-World#2/);
    const shown = await cli('events', eventId.slice(0, 8), '--project', 'demo');
    expect(shown).toContain(`Event ${eventId}: github pull_request.opened — completed`);
    expect(shown).toMatch(
      /policy\.applied\s+deny\s+policy: comment allowed \(truncated\); labels \+security-reviewed, denied wontfix; status allowed \(success\)/,
    );
    expect(shown).toMatch(/github comment\s+done/);

    const ls = await cli('worker', 'ls', '--project', 'demo');
    expect(ls).toMatch(/pr-reviewer\s+openai \(gpt-4o-mini\)\s+(online|busy)\s+1\s+-\s+0\s+1\/0\s+\$0\.0004/);
    const logs = await cli('worker', 'logs', 'pr-reviewer', '--project', 'demo');
    expect(logs).toMatch(/task\.claimed\s+pr-reviewer claimed task \(attempt 1\)/);
    expect(logs).toMatch(/writeback\.ok\s+github comment written to Codertocat\/Hello-World#2/);

    const stopped = await cli('worker', 'stop', 'pr-reviewer', '--project', 'demo');
    expect(stopped).toContain('Worker pr-reviewer stopped: it takes no new tasks.');
    worker.child.kill('SIGTERM');
    expect((await worker.exited).stderr).toContain("worker 'pr-reviewer' disconnected");
    expect(github.comments).toHaveLength(1);
  });

  it('retries a task whose worker was killed mid-task, and writes the result back once', async () => {
    const setup = await cli(
      'events',
      '--project',
      'demo',
      '--webhook',
      'github',
      '--token',
      TOKEN,
      '--api-url',
      github.url,
    );
    const url = /go to: (\S+)/.exec(setup)![1]!;
    const secret = /shown once[^:]*: ([0-9a-f]{64})/.exec(setup)![1]!;
    const marker = path.join(sb.root, 'first-attempt');
    const script = path.join(sb.root, 'slow-once.mjs');
    await writeFile(
      script,
      `import { existsSync, writeFileSync } from 'node:fs';
let prompt = '';
for await (const chunk of process.stdin) prompt += chunk;
if (!existsSync(${JSON.stringify(marker)})) {
  writeFileSync(${JSON.stringify(marker)}, String(process.pid));
  await new Promise((r) => setTimeout(r, 15000));
}
process.stdout.write(JSON.stringify({ comment: { body: 'Reviewed after a restart' }, status: { state: 'success' } }));
`,
    );
    const file = path.join(sb.root, 'slow.yml');
    await writeFile(
      file,
      `name: slow
driver: exec
exec:
  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}]
events:
  - source: github
    on: pull_request.opened
    prompt: "Review {{ title }}"
policy: { comment: true, status: true }
limits: { task_timeout: 3s, max_attempts: 3 }
`,
    );
    await cli('worker', 'add', file, '--project', 'demo');
    const first = spawnCli(['worker', 'start', 'slow', '--project', 'demo'], sb.env, sb.root);
    running.push(first);
    await first.waitFor("worker 'slow' (exec) is online");
    const d = githubDelivery(prOpened(), 'pull_request', secret);
    const eventId = (await postHook(url, d.headers, d.body)).body['event_id'] as string;
    await first.waitFor(/task \S+ attempt 1\/3/);
    await vi.waitFor(() => readFile(marker, 'utf8'), { timeout: 10_000, interval: 50 });
    first.child.kill('SIGKILL');
    await first.exited;
    // The driver's child outlived its runtime; end it too (it is ours: its pid is in the marker).
    try {
      process.kill(Number(await readFile(marker, 'utf8')), 'SIGKILL');
    } catch {
      // already gone
    }

    const second = spawnCli(['worker', 'start', 'slow', '--project', 'demo', '--force'], sb.env, sb.root);
    running.push(second);
    let trace: Trace | undefined;
    await vi.waitFor(
      async () => {
        trace = await client.rpc<Trace>('mc_event_trace', { p_meshwork: 'demo', p_event_id: eventId });
        if (trace.event.state !== 'completed') throw new Error(`event ${trace.event.state}`);
      },
      { timeout: 40_000, interval: 100 },
    );
    expect(trace!.tasks[0]).toMatchObject({ attempts: 2, status: 'done' });
    expect(trace!.steps.find((s) => s.step === 'task.retry')?.summary).toMatch(/lost its lease on attempt 1/);
    expect(github.comments.map((c) => c.body.split('\n\n<!--')[0])).toEqual(['Reviewed after a restart']);
    expect(github.statuses).toHaveLength(1);
  });

  it('refuses a bad worker file naming the file, line and field, and stores nothing', async () => {
    const file = path.join(sb.root, 'bad.yml');
    await writeFile(
      file,
      'name: broken\ndriver: openai\nopenai:\n  base_url: not a url\n  api_key: sk-live-0123456789abcdefghijkl\nevents:\n  - source: github\n    on: pull_request.opened\n    promt: hi\n',
    );
    const res = await runCli(['worker', 'add', file, '--project', 'demo'], sb.env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${file}:4:13: openai.base_url must be an http:// or https:// URL`);
    expect(res.stderr).toContain(`${file}:5:12: openai.api_key looks like a credential`);
    expect(res.stderr).toContain(`${file}:9:5: events.0.promt is not a known field; did you mean "prompt"?`);
    expect(await client.rpc('mc_workers', { p_meshwork: 'demo' })).toEqual([]);
  });

  it('refuses locally what the hub would refuse: a credential in any field, a long name, an overlong timeout', async () => {
    const file = path.join(sb.root, 'leaky.yml');
    const name = `w${'x'.repeat(63)}`;
    await writeFile(
      file,
      `name: ${name}\ndriver: docker\ndocker:\n  image: alpine\n  mode: long-lived\nevents:\n  - source: github\n    on: push\n    prompt: "Deploy with Authorization: Bearer abcdefgh12345678"\nlimits:\n  task_timeout: 25d\n`,
    );
    const res = await runCli(['worker', 'add', file, '--project', 'demo'], sb.env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${file}:1:7: name must be 1-63 characters`);
    expect(res.stderr).toContain(`${file}:3:1: docker.command is required with mode: long-lived`);
    expect(res.stderr).toContain(`${file}:9:13: events.0.prompt looks like a credential; `);
    expect(res.stderr).toContain(`${file}:11:17: limits.task_timeout must be at most 24.8 days (2147483647 ms)`);
    expect(await client.rpc('mc_workers', { p_meshwork: 'demo' })).toEqual([]);
  });

  it('lists, removes and explains an empty project', async () => {
    expect(await cli('worker', 'ls', '--project', 'demo')).toContain('No workers in demo yet');
    expect(await cli('events', '--project', 'demo')).toContain('No events in demo yet');
    const file = path.join(sb.root, 'echo.yml');
    await writeFile(
      file,
      `name: echo\ndriver: exec\nexec: { command: [${JSON.stringify(process.execPath)}, -e, "process.stdin.pipe(process.stdout)"] }\nschedule: { cron: "0 3 * * *", prompt: nightly }\n`,
    );
    expect(await cli('worker', 'add', file, '--project', 'demo')).toContain('(exec, 0 rules, 1 schedule)');
    expect(await cli('worker', 'ls', '--project', 'demo')).toMatch(/echo\s+exec\s+offline\s+0\s+0 3 \* \* \*/);
    const json = JSON.parse(await cli('--json', 'worker', 'ls', '--project', 'demo')) as {
      name: string;
      schedules: unknown[];
    }[];
    expect(json).toEqual([
      expect.objectContaining({ name: 'echo', schedules: [expect.objectContaining({ cron: '0 3 * * *' })] }),
    ]);
    expect(await cli('worker', 'rm', 'echo', '--project', 'demo')).toContain('Worker echo removed from demo');
    expect(await client.rpc('mc_workers', { p_meshwork: 'demo' })).toEqual([]);
  });
  it('runs a worker in the background with --detach, and stops it with worker stop', async () => {
    const file = path.join(sb.root, 'bg.yml');
    await writeFile(
      file,
      `name: bg\ndriver: exec\nexec: { command: [${JSON.stringify(process.execPath)}, -e, "process.stdin.pipe(process.stdout)"] }\n`,
    );
    await cli('worker', 'add', file, '--project', 'demo');
    const started = await cliProcess(['worker', 'start', 'bg', '--project', 'demo', '--detach'], sb.env, sb.root);
    expect(started.code, started.stderr).toBe(0);
    const pid = Number(/pid (\d+)/.exec(started.stdout)![1]);
    await vi.waitFor(
      async () => {
        const [w] = await client.rpc<{ state: string }[]>('mc_workers', { p_meshwork: 'demo' });
        if (w?.state !== 'online') throw new Error(`worker is ${w?.state}`);
      },
      { timeout: 30_000, interval: 100 },
    );
    await vi.waitFor(
      async () =>
        expect(await cli('worker', 'logs', 'bg', '--project', 'demo', '--local')).toContain(
          "worker 'bg' (exec) is online in 'demo'",
        ),
      { timeout: 15_000, interval: 100 },
    );
    expect(await cli('worker', 'stop', 'bg', '--project', 'demo')).toContain('its runtime on this machine has exited');
    expect(() => process.kill(pid, 0)).toThrow();
    const [w] = await client.rpc<{ state: string; enabled: boolean }[]>('mc_workers', { p_meshwork: 'demo' });
    expect(w).toMatchObject({ enabled: false, state: 'stopped' });
  });
});
