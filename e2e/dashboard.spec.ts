// The dashboard as a new user meets it: a hub started like `npm start` on the embedded database, two agents
// driven by the real SDK (connect, heartbeat, long-poll, send) and a person watching in Chromium. One story, in
// order; every view must show the truth without a reload. Screenshots go to test-results/screenshots/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { unnamedControls } from './support/a11y';
import { REPO, startHub, type TestHub } from './support/hub';
import { Agent, loginLink, newAccount, type Account } from './support/mesh';

const SHOTS = join(REPO, 'test-results', 'screenshots');
const PROJECT = 'demo';

test.describe.configure({ mode: 'serial' });

let hub: TestHub;
let owner: Account;
let context: BrowserContext;
let page: Page;
let commander: Agent;
let backend: Agent;

const view = (v: string, extra = '') => `${hub.url}/project?name=${PROJECT}&view=${v}${extra}`;
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });

test.beforeAll(async ({ browser }) => {
  mkdirSync(SHOTS, { recursive: true });
  hub = await startHub();
  owner = await newAccount(hub.url, 'Ada');
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[browser] uncaught: ${err.stack ?? err.message}`));
  page.on('console', (m) => {
    // Refused requests are expected here (a 400 on purpose, the hub restarting); anything else is worth seeing.
    if ((m.type() === 'error' || m.type() === 'warning') && !m.text().startsWith('Failed to load resource'))
      console.error(`[browser ${m.type()}] ${m.text()}`);
  });
});

// eslint-disable-next-line no-empty-pattern -- Playwright reads the fixtures a hook needs from this pattern.
test.afterEach(({}, info) => {
  if (info.status !== info.expectedStatus) console.error(`--- hub output ---\n${hub.output().slice(-4000)}`);
});

test.afterAll(async () => {
  await commander?.disconnect();
  await backend?.disconnect();
  await context?.close();
  await hub?.dispose();
});

test('logs in with a one-time link that a GET never consumes', async ({ browser }) => {
  const link = await loginLink(hub.url, owner.key);
  expect(link).toMatch(new RegExp(`^${hub.url}/login/mcl_`));

  // A chat app's link previewer fetches the URL first: that must not burn it.
  const preview = await fetch(link);
  expect(preview.status).toBe(200);
  expect(preview.headers.get('referrer-policy')).toBe('no-referrer');

  await page.goto(link);
  await expect(page.getByText('This one-time link logs this browser in')).toBeVisible();
  await shot('login');
  await page.getByRole('button', { name: 'Continue' }).click();
  // A new account has no project yet: the onboarding wizard takes over.
  await expect(page).toHaveURL(`${hub.url}/onboarding`);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'mc_session');
  expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });

  // The link worked once; a second browser gets one sentence saying so.
  const other = await browser.newContext();
  const second = await other.newPage();
  await second.goto(link);
  await second.getByRole('button', { name: 'Continue' }).click();
  await expect(second.getByRole('alert').filter({ hasText: 'this login link was already used' })).toBeVisible();
  await other.close();
});

test('the onboarding wizard detects each step live', async () => {
  const step = (n: number, title: string, state: 'done' | 'to do') =>
    page.getByRole('listitem', { name: `Step ${n}: ${title} — ${state}` });
  await expect(step(1, 'Log in', 'done')).toBeVisible();
  await expect(step(2, 'Create a project', 'to do')).toBeVisible();

  // What `meshcode setup demo commander` does, from another process.
  await owner.client.createMeshwork(PROJECT);
  await owner.client.addAgent(PROJECT, 'commander', {
    role: 'lead: splits the work and reviews it',
    editor: 'claude-code',
  });
  await owner.client.addAgent(PROJECT, 'backend', { role: 'API and database', editor: 'cursor' });
  await owner.client.addAgent(PROJECT, 'frontend', { role: 'UI in React', editor: 'cline' });
  await expect(step(2, 'Create a project', 'done')).toBeVisible();
  await expect(step(3, 'Connect your first agent', 'to do')).toBeVisible();

  commander = new Agent(owner.client, PROJECT, 'commander');
  await commander.connect();
  await expect(step(3, 'Connect your first agent', 'done')).toBeVisible();

  await commander.send('backend', 'Hello backend, we start with the users API.');
  await expect(step(4, 'Send the first message', 'done')).toBeVisible();
  await expect(page.getByRole('progressbar', { name: '4 of 4 steps done' })).toBeVisible();
  await shot('onboarding');
});

test('agents appear and change status live, and an offline agent shows how to reconnect', async () => {
  await page.goto(view('agents'));
  const card = (name: string, status: string) =>
    page.getByRole('listitem', { name: new RegExp(`^${name}, ${status}`) });
  await expect(card('commander', 'online')).toBeVisible();
  await expect(card('backend', 'offline')).toBeVisible();

  // Offline: Reconnect shows the exact command.
  await card('backend', 'offline').getByRole('button', { name: 'Reconnect backend' }).click();
  await expect(card('backend', 'offline').getByText('meshcode run backend', { exact: true })).toBeVisible();

  backend = new Agent(owner.client, PROJECT, 'backend');
  await backend.connect();
  await expect(card('backend', 'online')).toBeVisible();
  backend.startWaiting();
  await expect(card('backend', 'waiting')).toBeVisible();

  await commander.heartbeat('working', 'reading the schema');
  await expect(card('commander', 'working')).toBeVisible();
  await expect(card('commander', 'working')).toContainText('reading the schema');

  const frontend = new Agent(owner.client, PROJECT, 'frontend');
  await frontend.connect();
  await expect(card('frontend', 'online')).toBeVisible();
  await frontend.heartbeat('idle');
  await expect(card('frontend', 'idle')).toBeVisible();
  await frontend.disconnect();
  await expect(card('frontend', 'offline')).toBeVisible();
  await expect(card('frontend', 'offline').getByRole('button', { name: 'Reconnect frontend' })).toBeVisible();
  await shot('agents');
});

test('a message between agents lights its edge in the graph and shows in chat with threads', async () => {
  await page.goto(view('graph'));
  const edge = page.getByTestId('rf__edge-backend--commander');
  await expect(edge).toBeVisible();
  await expect(edge).not.toHaveClass(/\blit\b/);
  await expect(page.getByRole('group', { name: /^commander, working/ })).toBeVisible();

  // A status change redraws its node in place: no node is hidden to be measured again (nor its edges dropped).
  await page.evaluate(() => {
    const w = window as unknown as { hiddenNodes: string[] };
    w.hiddenNodes = [];
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target as HTMLElement;
        if (el.classList.contains('react-flow__node') && el.style.visibility === 'hidden') {
          w.hiddenNodes.push(el.dataset.id ?? '?');
        }
      }
    }).observe(document.querySelector('.react-flow')!, { attributes: true, attributeFilter: ['style'], subtree: true });
  });
  const frontend = new Agent(owner.client, PROJECT, 'frontend');
  await frontend.connect();
  await expect(page.getByRole('group', { name: /^frontend, online/ })).toBeVisible();
  await frontend.heartbeat('idle');
  await expect(page.getByRole('group', { name: /^frontend, idle/ })).toBeVisible();
  await frontend.disconnect();
  await expect(page.getByRole('group', { name: /^frontend, offline/ })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { hiddenNodes: string[] }).hiddenNodes)).toEqual([]);

  const ask = await commander.send('backend', 'Can you add the /users endpoint? Tests first, please.', {
    kind: 'ask',
    deadlineSeconds: 600,
  });
  await expect(edge).toHaveClass(/\blit\b/);
  await expect(page.getByRole('complementary').getByText('Can you add the /users endpoint?')).toBeVisible();
  await shot('graph');
  // The light goes out by itself.
  await expect(edge).not.toHaveClass(/\blit\b/, { timeout: 8000 });

  // The backend's long-poll received it: it answers the ask.
  await expect.poll(() => backend.received.some((m) => m.id === ask.id)).toBe(true);
  await backend.send('commander', 'On it: endpoint and tests by noon.', { replyTo: ask.id });
  await commander.send('*', 'Standup in five minutes: post your status to the scratchpad.');

  await page.goto(view('chat'));
  const message = (text: string) =>
    page.locator('article[data-message]').filter({ has: page.locator('.msg-body', { hasText: text }) });
  await expect(message('Can you add the /users endpoint?')).toContainText('ask');
  await expect(
    message('Can you add the /users endpoint?').getByRole('button', { name: '✓ answered by backend' }),
  ).toBeVisible();
  await expect(
    message('On it: endpoint and tests by noon.').getByRole('button', { name: /reply to commander/ }),
  ).toBeVisible();
  await expect(message('Standup in five minutes')).toHaveClass(/msg-broadcast/);

  // The thread opens beside the log.
  await message('On it: endpoint and tests by noon.').getByRole('button', { name: 'Thread (2)' }).click();
  const thread = page.getByRole('complementary', { name: 'Thread' });
  await expect(thread.locator('article')).toHaveCount(2);
  await thread.getByRole('button', { name: 'Close thread' }).click();

  // A message sent while watching appears without a reload.
  await backend.send('commander', 'Schema migration is ready for review.');
  await expect(message('Schema migration is ready for review.')).toBeVisible();

  // The human posts as the overseer; the agent's long-poll receives it.
  await page.getByLabel('To', { exact: true }).selectOption('backend');
  await page.getByRole('textbox', { name: 'Message to send as the overseer' }).fill('Please also add rate limiting.');
  await page.keyboard.press('Enter');
  await expect(message('Please also add rate limiting.')).toContainText('(overseer)');
  await expect
    .poll(() => backend.received.some((m) => m.body === 'Please also add rate limiting.' && m.from === 'overseer'))
    .toBe(true);
  await shot('chat');
});

test('replay shows the steps and plays, pauses, scrubs and changes speed', async () => {
  await commander.tool('read_file apps/api/src/users.ts', { path: 'apps/api/src/users.ts' });
  await page.goto(view('replay', '&agent=commander'));
  const timeline = page.getByRole('list', { name: 'Timeline of commander' });
  for (const step of [
    'commander connected',
    'commander is working',
    'commander -> backend: Can you add the /users endpoint?',
    'read_file apps/api/src/users.ts',
  ]) {
    await expect(timeline.getByText(step)).toBeVisible();
  }
  const counter = page.getByText(/^Step \d+ of \d+/);
  const total = Number(/of (\d+)/.exec((await counter.textContent()) ?? '')?.[1]);
  expect(total).toBeGreaterThanOrEqual(6);
  await expect(counter).toContainText(`Step ${total} of ${total}`);

  // New steps join at the end while following live.
  await commander.tool('run_tests api', { passed: 12 });
  await expect(timeline.getByText('run_tests api')).toBeVisible();
  await expect(counter).toContainText(`Step ${total + 1} of ${total + 1}`);

  const slider = page.getByRole('slider', { name: 'Scrub through the timeline' });
  await slider.focus();
  await page.keyboard.press('Home');
  await expect(counter).toContainText(`Step 1 of ${total + 1}`);
  await page.keyboard.press('ArrowRight');
  await expect(counter).toContainText(`Step 2 of ${total + 1}`);

  await page.getByLabel('Speed').selectOption('16');
  await page.getByRole('button', { name: 'Play' }).click();
  await expect(page.getByRole('button', { name: 'Pause' })).toBeVisible();
  await expect(counter).toContainText(`Step ${total + 1} of ${total + 1}`, { timeout: 20_000 });
  await expect(page.getByRole('button', { name: 'Play' })).toBeVisible();

  await page.getByRole('button', { name: 'Go to the first step' }).click();
  await page.getByRole('button', { name: 'Next step' }).click();
  await expect(counter).toContainText(`Step 2 of ${total + 1}`);
  await expect(page.locator('.replay-current')).toContainText('commander connected');
  await shot('replay');
});

test('task edits persist across a reload, and tasks made elsewhere appear live', async () => {
  await page.goto(view('tasks'));
  await page.getByLabel('Title', { exact: true }).fill('Write the users API');
  await page.getByLabel('Priority', { exact: true }).selectOption('high');
  await page.getByLabel('Assignee', { exact: true }).selectOption('backend');
  await page.getByRole('button', { name: 'Add task' }).click();
  const column = (id: string) => page.locator(`[data-column="${id}"]`);
  await expect(
    column('open').getByRole('listitem', { name: /^Write the users API, Open, high priority/ }),
  ).toBeVisible();

  // Move with the card's menu.
  await page.getByLabel('Move Write the users API to').selectOption('in_progress');
  await expect(column('in_progress').getByText('Write the users API', { exact: true })).toBeVisible();

  // Edit in the dialog.
  await page.getByRole('button', { name: 'Edit Write the users API' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit task' });
  await dialog.getByLabel('Title').fill('Write the users API with tests');
  await dialog.getByLabel('Result').fill('endpoint drafted');
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await expect(dialog).toBeHidden();
  await expect(column('in_progress').getByText('Write the users API with tests', { exact: true })).toBeVisible();

  // An agent creates a task through the API: it appears without a reload; drag it to Done.
  await owner.client.createTask(PROJECT, { title: 'Review the migration', agent: 'commander', priority: 'urgent' });
  const created = column('open').getByRole('listitem', { name: /^Review the migration/ });
  await expect(created).toBeVisible();
  await created.dragTo(column('done'));
  await expect(column('done').getByText('Review the migration', { exact: true })).toBeVisible();

  await page.reload();
  await expect(column('in_progress').getByText('Write the users API with tests', { exact: true })).toBeVisible();
  await expect(column('done').getByText('Review the migration', { exact: true })).toBeVisible();
  const tasks = await owner.client.listTasks(PROJECT);
  expect(tasks.find((t) => t.title === 'Write the users API with tests')).toMatchObject({
    status: 'in_progress',
    priority: 'high',
    assignee: 'backend',
    result: 'endpoint drafted',
  });
  expect(tasks.find((t) => t.title === 'Review the migration')?.status).toBe('done');
  await shot('tasks');
});

test('memory and scratchpad edits persist across a reload, within the tools’ limits', async () => {
  await page.goto(view('memory', '&agent=backend'));
  await expect(page.getByRole('heading', { name: 'Memory of backend' })).toBeVisible();
  await page.getByLabel('Key', { exact: true }).fill('conventions');
  await page.getByLabel('Value', { exact: true }).fill('zod for every input');
  await page.getByRole('button', { name: 'Remember' }).click();
  const entry = page.locator('li[data-key="conventions"]');
  await expect(entry).toContainText('zod for every input');

  await entry.getByRole('button', { name: 'Edit conventions' }).click();
  await entry.getByRole('textbox', { name: 'Value of conventions' }).fill('zod for every input; tests beside code');
  await entry.getByRole('button', { name: 'Save conventions' }).click();
  await expect(entry.locator('pre')).toHaveText('zod for every input; tests beside code');

  // Over the 10 KB limit: the hub refuses and its sentence is shown.
  await page.getByLabel('Key', { exact: true }).fill('too-big');
  await page.getByLabel('Value', { exact: true }).fill('x'.repeat(10_241));
  await expect(page.getByText('10,241 / 10,240 bytes')).toBeVisible();
  await page.getByRole('button', { name: 'Remember' }).click();
  await expect(
    page
      .getByRole('alert')
      .filter({ hasText: 'memory value is 10241 bytes; the limit is 10 KB (10240 bytes) per value' }),
  ).toBeVisible();

  // The agent remembers something itself: it shows up live.
  await owner.client.remember(PROJECT, 'backend', 'deploy', 'fly deploy --remote-only');
  await expect(page.locator('li[data-key="deploy"]')).toContainText('fly deploy --remote-only');

  await page.getByRole('button', { name: 'Shared scratchpad' }).click();
  await expect(page.getByRole('heading', { name: 'Shared scratchpad' })).toBeVisible();
  await page.getByLabel('Key', { exact: true }).fill('standup');
  await page.getByLabel('Value', { exact: true }).fill('backend: users API in progress');
  await page.getByRole('button', { name: 'Save to scratchpad' }).click();
  await expect(page.locator('li[data-key="standup"]')).toContainText('by overseer');

  await page.goto(view('memory', '&agent=backend'));
  await expect(page.locator('li[data-key="conventions"] pre')).toHaveText('zod for every input; tests beside code');
  await expect(page.locator('li[data-key="too-big"]')).toHaveCount(0);
  await shot('memory');
  await page.reload();
  await page.getByRole('button', { name: 'Shared scratchpad' }).click();
  await expect(page.locator('li[data-key="standup"]')).toContainText('backend: users API in progress');
  expect((await owner.client.recall(PROJECT, 'backend', 'conventions')).value).toBe(
    'zod for every input; tests beside code',
  );
});

test('the live feed reconnects by itself after the hub restarts', async () => {
  await page.goto(view('chat'));
  await expect(page.getByRole('status').filter({ hasText: 'Live' })).toBeVisible();
  await hub.stop();
  await expect(page.getByRole('status').filter({ hasText: /Reconnecting/ })).toBeVisible();
  await hub.start();
  await expect(page.getByRole('status').filter({ hasText: 'Live' })).toBeVisible({ timeout: 30_000 });
  await commander.send('backend', 'Back after the restart: carry on.');
  await expect(
    page.locator('article[data-message]').filter({ hasText: 'Back after the restart: carry on.' }),
  ).toBeVisible();
});

test('every control has an accessible name, at 1280 px and at phone width', async () => {
  const views = ['agents', 'chat', 'graph', 'replay', 'tasks', 'memory'];
  for (const width of [1280, 390]) {
    await page.setViewportSize(width === 1280 ? { width: 1280, height: 800 } : { width: 390, height: 844 });
    for (const v of views) {
      await page.goto(view(v));
      await expect(page.getByRole('heading', { level: 2 }).first()).toBeVisible();
      expect(await unnamedControls(page), `unnamed controls in ${v} at ${width}px`).toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${v} scrolls sideways at ${width}px`).toBeLessThanOrEqual(1);
      if (width < 1000) await shot(`${v}-phone`);
    }
  }
  await page.goto(`${hub.url}/projects`);
  expect(await unnamedControls(page)).toEqual([]);
  await shot('projects-phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${hub.url}/projects`);
  await shot('projects');
});

test('logging out ends the session', async () => {
  await page.goto(`${hub.url}/projects`);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(`${hub.url}/login`);
  await page.goto(view('agents'));
  await expect(page).toHaveURL(/\/login\?next=/);
  await expect(page.getByLabel('API key')).toBeVisible();
});
