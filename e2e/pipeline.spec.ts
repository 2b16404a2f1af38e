// The pipeline in the browser: the owner sets a webhook secret in the Pipeline view, a worker (the real runtime,
// exec driver) listens for pull requests, a signed GitHub delivery becomes a task, its result passes the policy and
// is written back to a local GitHub stand-in, and the whole trace shows live: received -> matched -> task -> result
// -> policy decision -> write-back. A generic delivery that matches no rule shows as skipped. Screenshots go to
// test-results/screenshots/.
import { createRequire } from 'node:module';
import type Examples from '@octokit/webhooks-examples';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { startGitHubStandIn, type GitHubStandIn } from '../apps/hub/src/pipeline/testing/github-standin';
import { DESKTOP, PHONE, expectUsable, logIn, reportBrowserErrors, screenshots } from './support/browser';
import { startHub, type TestHub } from './support/hub';
import { newAccount, type Account } from './support/mesh';
import { genericDelivery, githubDelivery, post, startWorkerMachine, type WorkerMachine } from './support/pipeline';

const PROJECT = 'ops';
const WRITE_TOKEN = 'ghp_e2eWriteBackToken0123456789abcdefAB';

// What the worker's CLI answers: a review with a comment, labels (one the policy blocks) and a commit status.
const REVIEW = JSON.stringify({
  output: 'Reviewed: the README change is fine.',
  comment: { body: 'Looks good to me: the README reads well.' },
  labels: { add: ['docs', 'wontfix'] },
  status: { state: 'success', description: 'No blocking issue' },
});

// Real GitHub payloads; a JSON package, loaded with require (Playwright's ESM loader wants import attributes).
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as typeof Examples;

function prOpened(): Record<string, unknown> {
  const found = examples
    .find((d) => d.name === 'pull_request')
    ?.examples.find((e) => (e as { action?: string }).action === 'opened');
  if (!found) throw new Error('@octokit/webhooks-examples has no pull_request.opened example');
  return structuredClone(found) as Record<string, unknown>;
}

test.describe.configure({ mode: 'serial' });

const shot = screenshots();
let hub: TestHub;
let github: GitHubStandIn;
let owner: Account;
let context: BrowserContext;
let page: Page;
let worker: WorkerMachine | undefined;
let githubSecret = '';
let githubUrl = '';
let genericUrl = '';

const view = `/project?name=${PROJECT}&view=pipeline`;

test.beforeAll(async ({ browser }) => {
  github = await startGitHubStandIn({ token: WRITE_TOKEN });
  hub = await startHub();
  owner = await newAccount(hub.url, 'Ada');
  await owner.client.createMeshwork(PROJECT);
  context = await browser.newContext({ viewport: DESKTOP });
  page = await context.newPage();
  reportBrowserErrors(page, 'owner');
  await logIn(page, hub.url, owner.key);
});

// eslint-disable-next-line no-empty-pattern -- Playwright reads the fixtures a hook needs from this pattern.
test.afterEach(({}, info) => {
  if (info.status !== info.expectedStatus) {
    console.error(`--- hub output ---\n${hub.output().slice(-4000)}`);
    if (worker) console.error(`--- worker log ---\n${worker.logs.slice(-30).join('\n')}`);
  }
});

test.afterAll(async () => {
  await worker?.stop();
  await context?.close();
  await hub?.dispose();
  await github?.close();
});

test('an empty pipeline says what comes next, and the owner sets webhook secrets from it', async () => {
  await page.goto(hub.url + view);
  await expect(page.getByRole('heading', { name: 'Pipeline', level: 2 })).toBeVisible();
  await expect(page.getByText('No events yet')).toBeVisible();
  await expect(page.getByText('No workers yet')).toBeVisible();
  await expect(page.getByText('No source has a secret yet')).toBeVisible();

  // GitHub: the hub generates the secret and shows it once, with the URL to paste into GitHub.
  await page.getByLabel('Source', { exact: true }).selectOption('github');
  await page.getByRole('button', { name: 'Set the secret' }).click();
  const made = page.getByRole('status', { name: 'Webhook secret for github' });
  await expect(made).toBeVisible();
  githubSecret = (await made.getByTestId('webhook-secret').textContent()) ?? '';
  expect(githubSecret).toMatch(/^[0-9a-f]{64}$/);
  githubUrl =
    (await made
      .getByRole('button', { name: 'Copy the github webhook URL' })
      .locator('..')
      .locator('code')
      .textContent()) ?? '';
  expect(githubUrl).toMatch(new RegExp(`^${hub.url}/hooks/v1/[0-9a-f-]{36}/github$`));
  const sources = page.getByRole('list', { name: 'Webhook sources' });
  await expect(sources.locator('[data-source="github"]')).toContainText('secret set');
  await page.getByRole('button', { name: 'Done, hide the secret' }).click();

  // Generic: a secret the sender already has, typed in; it is never shown back.
  await page.getByLabel('Source', { exact: true }).selectOption('generic');
  await page.getByLabel('Secret', { exact: true }).fill('e2e-generic-shared-secret');
  await page.getByRole('button', { name: 'Set the secret' }).click();
  const generic = page.getByRole('status', { name: 'Webhook secret for generic' });
  await expect(generic).toContainText('the secret you entered');
  await expect(generic.getByTestId('webhook-secret')).toHaveCount(0);
  genericUrl = githubUrl.replace(/\/github$/, '/generic');
  await expect(sources.locator('[data-source="generic"]')).toContainText(genericUrl);

  // Write-back goes to the local GitHub stand-in (what `meshcode events token github` sets).
  await owner.client.rpc('mc_set_source_token', {
    p_meshwork: PROJECT,
    p_source: 'github',
    p_token: WRITE_TOKEN,
    p_api_url: github.url,
  });
  await page.reload();
  await expect(sources.locator('[data-source="github"]')).toContainText('write-back token set');
});

test('a worker appears live with its state, rules and cost', async () => {
  await owner.client.rpc('mc_worker_upsert', {
    p_meshwork: PROJECT,
    p_definition: {
      name: 'pr-reviewer',
      description: 'reviews pull requests',
      driver: 'exec',
      exec: {
        command: [process.execPath, '-e', `process.stdin.resume();process.stdout.write(${JSON.stringify(REVIEW)})`],
      },
      events: [
        { source: 'github', on: ['pull_request.opened'], prompt: 'Review this PR: {{ event.pull_request.title }}' },
      ],
      policy: {
        comment: { allow: true, max_length: 2000 },
        labels: { allow: true, blocked: ['wontfix'] },
        status: { allow: true, states: ['success', 'failure'] },
      },
      limits: { task_timeout: '30s', max_attempts: 2, daily_cost_usd: 5 },
    },
  });
  const card = page.getByRole('list', { name: 'Workers' }).locator('[data-worker="pr-reviewer"]');
  await expect(card).toBeVisible();
  await expect(card).toHaveAttribute('aria-label', /^pr-reviewer, offline, \$0\.00 today$/);
  await expect(card).toContainText('github: pull_request.opened');
  await expect(
    card.getByRole('button', { name: 'Copy the command that starts pr-reviewer on its machine' }),
  ).toBeVisible();

  worker = startWorkerMachine(owner.client, PROJECT, 'pr-reviewer');
  await worker.ready;
  await expect(card).toHaveAttribute('aria-label', /^pr-reviewer, online, /, { timeout: 20_000 });
  await expect(card).toContainText('of $5.00');
});

test('a signed GitHub delivery runs through the pipeline and its whole trace shows live', async () => {
  // A bad signature is refused and leaves no event behind.
  const forged = githubDelivery(prOpened(), 'pull_request', 'not-the-secret');
  expect((await post(githubUrl, forged)).status).toBe(401);

  const d = githubDelivery(prOpened(), 'pull_request', githubSecret);
  const posted = await post(githubUrl, d);
  expect(posted.status).toBe(202);
  const eventId = posted.body['event_id'] as string;

  // The newest event is shown without a reload, and opens by itself.
  const item = page.getByRole('list', { name: 'Received events' }).getByRole('link').first();
  await expect(item).toHaveAttribute('aria-label', /^github pull_request\.opened, /);
  await expect(item).toHaveAttribute('aria-label', /, completed, /, { timeout: 30_000 });
  await item.click();
  await expect(page).toHaveURL(new RegExp(`event=${eventId}`));

  const stages = page.getByRole('list', { name: 'Pipeline stages' });
  const stage = (n: number, label: string) => stages.getByRole('listitem', { name: new RegExp(`^${n}\\. ${label}: `) });
  await expect(stage(1, 'Received')).toHaveAttribute('data-state', 'done');
  await expect(stage(2, 'Matched')).toHaveAttribute('data-state', 'done');
  await expect(stage(3, 'Task')).toHaveAttribute('data-state', 'done');
  await expect(stage(4, 'Result')).toHaveAttribute('data-state', 'done');
  // The policy let the comment, the docs label and the status through, and denied the wontfix label.
  await expect(stage(5, 'Policy decision')).toHaveAttribute('data-state', 'denied');
  await expect(stage(6, 'Write-back')).toHaveAttribute('data-state', 'done');
  await expect(stage(6, 'Write-back')).toContainText('3 of 3 written');

  const log = page.getByRole('list', { name: 'Every step of this event' });
  for (const step of [
    'event.received',
    'event.matched',
    'task.created',
    'task.claimed',
    'task.result',
    'policy.applied',
    'writeback.ok',
    'event.completed',
  ]) {
    await expect(log.getByText(step, { exact: true }).first()).toBeVisible();
  }
  const task = page.getByRole('listitem', { name: /^Task / });
  await expect(task).toContainText('worker pr-reviewer');
  await expect(task).toContainText('Reviewed: the README change is fine.');
  for (const kind of ['comment', 'labels', 'status']) {
    await expect(page.getByRole('listitem', { name: `github ${kind}, done` })).toBeVisible();
  }
  const decision = task.locator('details', { hasText: 'Policy decision' });
  await decision.getByText('Policy decision').click();
  await expect(decision.locator('pre')).toBeVisible();
  expect(JSON.parse((await decision.locator('pre').textContent()) ?? '{}')).toMatchObject({
    labels: { add: ['docs'], denied: ['wontfix'] },
  });

  // Written back exactly once, on the stand-in that speaks GitHub's API.
  expect(github.comments).toEqual([
    expect.objectContaining({
      repo: 'Codertocat/Hello-World',
      number: 2,
      body: expect.stringContaining('Looks good to me'),
    }),
  ]);
  expect(github.labels.get('Codertocat/Hello-World#2')).toEqual(['docs']);
  expect(github.statuses).toEqual([expect.objectContaining({ state: 'success' })]);

  const card = page.locator('[data-worker="pr-reviewer"]');
  await expect(card.locator('dt', { hasText: 'Done today' }).locator('..')).toContainText('1');
  await shot(page, 'pipeline');
  await shot(page, 'pipeline-trace', { fullPage: true });

  // GitHub redelivers the same delivery: counted as a duplicate, nothing new is written.
  const again = await post(githubUrl, d);
  expect(again.body).toMatchObject({ duplicate: true, event_id: eventId });
  await expect(item).toContainText('1 duplicate delivery ignored');
  expect(github.comments).toHaveLength(1);
});

test('a trace whose first answer was read before the write-back still ends up showing the whole of it', async () => {
  // On a loaded machine the first read of a new event's trace can be answered only after the feed has announced the
  // rest of the pipeline. Here that answer is read while no worker runs, and held back until the list says completed.
  await worker?.stop();
  worker = undefined;
  await page.goto(hub.url + view);
  await expect(page.getByRole('list', { name: 'Pipeline stages' })).toBeVisible();
  const known = new Set(
    (await owner.client.rpc<{ id: string }[]>('mc_events', { p_meshwork: PROJECT })).map((e) => e.id),
  );
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  await page.route('**/rest/v1/rpc/mc_event_trace', async (route) => {
    const { p_event_id } = route.request().postDataJSON() as { p_event_id: string };
    if (known.has(p_event_id)) return route.continue();
    known.add(p_event_id);
    const answer = await route.fetch(); // read now, answered later
    held += 1;
    await released;
    await route.fulfill({ response: answer });
  });
  try {
    const posted = await post(githubUrl, githubDelivery(prOpened(), 'pull_request', githubSecret));
    const eventId = posted.body['event_id'] as string;
    await expect.poll(() => held).toBe(1);
    worker = startWorkerMachine(owner.client, PROJECT, 'pr-reviewer');
    await worker.ready;
    const item = page.getByRole('list', { name: 'Received events' }).locator(`a[href*="event=${eventId}"]`);
    await expect(item).toHaveAttribute('aria-label', /, completed, /, { timeout: 30_000 });
    release();
    const stages = page.getByRole('list', { name: 'Pipeline stages' });
    await expect(stages.getByRole('listitem', { name: /^6\. Write-back: / })).toHaveAttribute('data-state', 'done');
    await expect(stages.getByRole('listitem', { name: /^6\. Write-back: / })).toContainText('3 of 3 written');
    await expect(page.getByRole('list', { name: 'Every step of this event' })).toContainText('event.completed');
  } finally {
    release();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  }
});

test('an event that completes while another view is open shows completed on coming back', async () => {
  // The list was read just now, so it is still fresh (staleTime) when the Pipeline view comes back a few seconds later.
  await page.goto(hub.url + view);
  await expect(page.getByRole('list', { name: 'Received events' })).toBeVisible();
  const tabs = page.getByRole('navigation', { name: 'Project views' });
  await tabs.getByRole('link', { name: 'Tasks' }).click();
  await expect(page.getByRole('list', { name: 'Received events' })).toHaveCount(0);

  const posted = await post(githubUrl, githubDelivery(prOpened(), 'pull_request', githubSecret));
  const eventId = posted.body['event_id'] as string;
  await expect
    .poll(
      async () =>
        (await owner.client.rpc<{ id: string; state: string }[]>('mc_events', { p_meshwork: PROJECT })).find(
          (e) => e.id === eventId,
        )?.state,
      { timeout: 30_000 },
    )
    .toBe('completed');

  await tabs.getByRole('link', { name: 'Pipeline' }).click();
  const item = page.getByRole('list', { name: 'Received events' }).locator(`a[href*="event=${eventId}"]`);
  await expect(item).toHaveAttribute('aria-label', /, completed, /);
  await expect(
    page.getByRole('list', { name: 'Pipeline stages' }).getByRole('listitem', { name: /^6\. Write-back: / }),
  ).toContainText('3 of 3 written');
});

test('a generic delivery that matches no rule shows as skipped, with the reason in its trace', async () => {
  const d = genericDelivery(
    { title: 'Nightly deploy finished', env: 'staging' },
    'deploy',
    'e2e-generic-shared-secret',
  );
  const posted = await post(genericUrl, d);
  expect(posted.status).toBe(202);
  const item = page
    .getByRole('list', { name: 'Received events' })
    .getByRole('link', { name: /^generic deploy, skipped/ });
  await expect(item).toBeVisible();
  await item.click();
  const stages = page.getByRole('list', { name: 'Pipeline stages' });
  await expect(stages.getByRole('listitem', { name: /^1\. Received: done/ })).toBeVisible();
  await expect(stages.getByRole('listitem', { name: /^2\. Matched: skipped/ })).toBeVisible();
  await expect(stages.getByRole('listitem', { name: /^3\. Task: not reached/ })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Every step of this event' })).toContainText(
    'deploy matched no worker rule',
  );
  await shot(page, 'pipeline-skipped');
});

test('a worker is stopped and started from its card', async () => {
  const card = page.locator('[data-worker="pr-reviewer"]');
  await card.getByRole('button', { name: 'Stop pr-reviewer' }).click();
  await expect(card).toHaveAttribute('aria-label', /^pr-reviewer, stopped, /);
  expect((await owner.client.rpc<{ enabled: boolean }[]>('mc_workers', { p_meshwork: PROJECT }))[0]?.enabled).toBe(
    false,
  );
  await card.getByRole('button', { name: 'Start pr-reviewer' }).click();
  await expect(card).toHaveAttribute('aria-label', /^pr-reviewer, (online|busy), /);
});

test('the Pipeline view has named controls and fits at 1280 px and 390 px', async () => {
  for (const size of [DESKTOP, PHONE]) {
    await page.setViewportSize(size);
    await page.goto(hub.url + view);
    await expect(page.getByRole('list', { name: 'Pipeline stages' })).toBeVisible();
    await expectUsable(page, 'the Pipeline view');
  }
  await shot(page, 'pipeline-phone');
  await page.setViewportSize(DESKTOP);
});
