// Teams and trust in the browser, as people meet them: the owner invites someone from the Team view, a stranger
// with no account joins through the link (a GET preview never uses it up; Join mints a key shown once), the owner
// sees the invite used and can revoke people and invites; then a public spectator link shows the live mesh to an
// anonymous viewer with credentials masked, until the owner turns it off. Screenshots go to test-results/screenshots/.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { createInvite, createMeshClient, inviteInfo, listInvites, listMembers, MeshError } from '@meshcode/client';
import { DESKTOP, PHONE, expectUsable, logIn, reportBrowserErrors, screenshots } from './support/browser';
import { startHub, type TestHub } from './support/hub';
import { Agent, newAccount, type Account } from './support/mesh';

const PROJECT = 'studio';
// Credential-shaped strings an agent might paste into chat: the spectator must never see them.
const GITHUB_TOKEN = `ghp_${'A1b2C3d4E5'.repeat(3)}f6G7h8`;
const PASSWORD = 'hunter2-correct-horse';

test.describe.configure({ mode: 'serial' });

const shot = screenshots();
let hub: TestHub;
let owner: Account;
let context: BrowserContext;
let page: Page;
let commander: Agent;
let backend: Agent;
let joinUrl = '';
let guestKey = '';

const view = (v: string) => `${hub.url}/project?name=${PROJECT}&view=${v}`;
const invites = () => listInvites(owner.client, PROJECT);

test.beforeAll(async ({ browser }) => {
  hub = await startHub();
  owner = await newAccount(hub.url, 'Ada');
  await owner.client.createMeshwork(PROJECT);
  await owner.client.addAgent(PROJECT, 'commander', { role: 'lead: splits the work', editor: 'claude-code' });
  await owner.client.addAgent(PROJECT, 'backend', { role: 'API and database', editor: 'cursor' });
  context = await browser.newContext({ viewport: DESKTOP });
  page = await context.newPage();
  reportBrowserErrors(page, 'owner');
  await logIn(page, hub.url, owner.key);
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

test('the owner creates an invite in the Team view and gets its join link', async () => {
  await page.goto(view('team'));
  const members = page.getByRole('list', { name: 'Members' });
  await expect(members.getByRole('listitem', { name: 'Ada, owner' })).toContainText('(you)');
  await expect(page.getByText('No invites yet')).toBeVisible();

  await page.getByLabel('Agent slot').fill('designer');
  await expect(page.getByText('A new agent slot will be created.')).toBeVisible();
  await page.getByLabel('Role', { exact: true }).fill('UI design and CSS');
  await page.getByLabel('Expires after (days)').fill('3');
  await page.getByLabel('Max uses').fill('1');
  await page.getByRole('button', { name: 'Create invite' }).click();

  const created = page.getByRole('status', { name: 'Invite for designer created' });
  await expect(created).toBeVisible();
  joinUrl = (await created.locator('.command code').first().textContent()) ?? '';
  expect(joinUrl).toMatch(new RegExp(`^${hub.url}/join/mc_inv_[A-Za-z0-9]+$`));
  await expect(created.getByRole('button', { name: 'Copy the join link for designer' })).toBeVisible();
  await expect(created.locator('.command code').nth(1)).toHaveText(
    `meshcode join ${joinUrl} --display-name "Your name"`,
  );
  const row = page.getByRole('list', { name: 'Invites' }).getByRole('listitem', { name: 'Invite to designer, active' });
  await expect(row).toContainText('0 of 1 use');
  await expect(row).toContainText('UI design and CSS');
  await shot(page, 'team');
  // The slot exists now, with the invite's role.
  expect((await owner.client.getAgent(PROJECT, 'designer')).role).toBe('UI design and CSS');
});

test('a stranger joins by the link: previews use nothing, Join mints a key shown once', async ({ browser }) => {
  // A chat app's link previewer fetches the URL first: that must not use the invite.
  const preview = await fetch(joinUrl);
  expect(preview.status).toBe(200);
  expect(preview.headers.get('referrer-policy')).toBe('no-referrer');

  const anon = await browser.newContext({ viewport: DESKTOP });
  expect(await anon.cookies()).toEqual([]);
  const p = await anon.newPage();
  reportBrowserErrors(p, 'stranger');
  await p.goto(joinUrl);
  await expect(p.getByRole('heading', { name: `Join ${PROJECT}` })).toBeVisible();
  const details = p.locator('.join-details');
  await expect(details).toContainText('designer');
  await expect(details).toContainText('UI design and CSS');
  await expect(details).toContainText('Ada');
  await expect(details).toContainText('1 use left');
  // Opening the page (and the preview) read the invite without using it.
  expect((await invites())[0]).toMatchObject({ agent: 'designer', state: 'active', uses: 0 });
  await expectUsable(p, 'the join page');
  await shot(p, 'join');

  await p.getByLabel('Your display name').fill('Grace');
  // The terminal route is offered too, with the name filled in.
  await p.getByText('Prefer the terminal?').click();
  await expect(p.getByRole('button', { name: 'Copy the join command' }).locator('..')).toContainText(
    `meshcode join ${joinUrl} --display-name "Grace"`,
  );
  await p.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(p.getByRole('heading', { name: `You joined ${PROJECT}` })).toBeVisible();
  const keyBox = p.getByRole('group', { name: /Your key — shown only this once/ });
  guestKey = (await keyBox.locator('code').textContent()) ?? '';
  expect(guestKey).toMatch(/^mc_[A-Za-z0-9]{20,}$/);
  await expect(keyBox.getByRole('button', { name: 'Copy your key' })).toBeVisible();
  await expect(p.getByRole('button', { name: 'Copy the login command' }).locator('..')).toContainText(
    `meshcode login ${guestKey} --hub ${hub.url}`,
  );
  await expect(p.getByRole('button', { name: 'Copy the run command' }).locator('..')).toContainText(
    `meshcode --hub ${hub.url} run designer`,
  );
  // The spent token left the address bar and the history.
  expect(new URL(p.url()).pathname).toBe('/join');
  await expectUsable(p, 'the joined page');
  await shot(p, 'join-done');

  // The key is good for that one slot, as a guest.
  const guest = createMeshClient({ hubUrl: hub.url, apiKey: guestKey });
  expect((await guest.whoami()).key).toMatchObject({ scope: 'invite', agent: 'designer', meshwork: PROJECT });

  // Shown once: opening the link again shows a used invite and no key.
  await p.goto(joinUrl);
  await expect(p.getByRole('alert').filter({ hasText: 'This invite has already been used' })).toBeVisible();
  await expect(p.getByRole('button', { name: 'Join', exact: true })).toHaveCount(0);
  await expect(p.getByText(guestKey)).toHaveCount(0);
  await shot(p, 'join-used');
  await anon.close();
});

test('the owner sees the invite used and the guest as a member, and can revoke both', async ({ browser }) => {
  await page.goto(view('team'));
  const members = page.getByRole('list', { name: 'Members' });
  const grace = members.getByRole('listitem', { name: 'Grace, guest' });
  await expect(grace).toContainText('runs designer');
  await expect(page.getByText('No active invite.')).toBeVisible();
  await page.getByRole('button', { name: /Show used, expired and revoked invites \(1\)/ }).click();
  const used = page.getByRole('listitem', { name: 'Invite to designer, used' });
  await expect(used).toContainText('1 of 1 use');
  await expect(used).toContainText('Joined: Grace');

  // An invite made elsewhere (the CLI) appears live; revoking it from here makes its link say so.
  const other = await createInvite(owner.client, { meshwork: PROJECT, agent: 'reviewer', maxUses: 2 });
  const row = page.getByRole('listitem', { name: 'Invite to reviewer, active' });
  await expect(row).toContainText('0 of 2 uses');
  await row.getByRole('button', { name: 'Revoke the invite to reviewer' }).click();
  await row.getByRole('button', { name: 'Confirm revoking the invite to reviewer' }).click();
  await expect(page.getByRole('listitem', { name: 'Invite to reviewer, revoked' })).toBeVisible();
  expect((await inviteInfo(hub.url, other.token)).state).toBe('revoked');
  const anon = await browser.newContext();
  const p = await anon.newPage();
  await p.goto(other.url);
  await expect(p.getByRole('alert').filter({ hasText: 'This invite was revoked' })).toBeVisible();
  await anon.close();

  // Removing Grace stops her key on its very next request.
  await grace.getByRole('button', { name: 'Remove Grace' }).click();
  await grace.getByRole('button', { name: 'Confirm removing Grace' }).click();
  await expect(members.getByRole('listitem', { name: 'Grace, guest' })).toHaveCount(0);
  expect((await listMembers(owner.client, PROJECT)).map((m) => m.display_name)).toEqual(['Ada']);
  const refused = await createMeshClient({ hubUrl: hub.url, apiKey: guestKey })
    .whoami()
    .then(
      () => null,
      (err: unknown) => err,
    );
  expect(refused).toBeInstanceOf(MeshError);
  expect((refused as MeshError).status).toBe(401);
});

test('spectator: an anonymous viewer watches live with credentials masked, until the owner turns it off', async ({
  browser,
}) => {
  commander = new Agent(owner.client, PROJECT, 'commander');
  await commander.connect();
  backend = new Agent(owner.client, PROJECT, 'backend');
  await backend.connect();
  backend.startWaiting();
  await commander.send('backend', 'Welcome aboard: the schema is in docs/schema.md.');

  await page.goto(view('team'));
  const toggle = page.getByRole('switch', { name: 'Public spectator link' });
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  const watchUrl =
    (await page.getByRole('button', { name: 'Copy the spectator link' }).locator('..').locator('code').textContent()) ??
    '';
  expect(watchUrl).toMatch(new RegExp(`^${hub.url}/watch/mc_watch_[A-Za-z0-9]+$`));
  await shot(page, 'team-spectator');

  const anon = await browser.newContext({ viewport: DESKTOP });
  const p = await anon.newPage();
  reportBrowserErrors(p, 'spectator');
  await p.goto(watchUrl);
  await expect(p.getByRole('banner')).toContainText(`Watching ${PROJECT}`);
  await expect(p.getByRole('status').filter({ hasText: 'Live' })).toBeVisible();
  const agents = p.locator('.watch-agent-list');
  await expect(agents.getByRole('listitem', { name: 'commander, online' })).toBeVisible();
  await expect(agents.getByRole('listitem', { name: 'backend, waiting' })).toBeVisible();
  await expect(p.getByRole('group', { name: /^commander, online/ })).toBeVisible();
  const chat = p.getByRole('log', { name: 'Messages' });
  await expect(chat).toContainText('Welcome aboard: the schema is in docs/schema.md.');

  // A message with credentials in it, sent while watching: it arrives live, masked by the hub.
  await commander.send('backend', `Deploy with GITHUB_TOKEN=${GITHUB_TOKEN} and password: ${PASSWORD} please.`);
  const masked = chat.locator('article[data-message]').filter({ hasText: 'Deploy with' });
  await expect(masked).toContainText('[REDACTED:github-token]');
  await expect(masked).toContainText('[REDACTED:secret]');
  const html = await p.content();
  expect(html).not.toContain(GITHUB_TOKEN);
  expect(html).not.toContain(PASSWORD);
  // The message lit the edge between them.
  await expect(p.getByTestId('rf__edge-backend--commander')).toBeVisible();
  // Status changes arrive live too.
  await commander.heartbeat('working', 'reviewing the schema');
  await expect(agents.getByRole('listitem', { name: 'commander, working' })).toContainText('reviewing the schema');
  // Read-only: nothing to write with.
  await expect(p.getByRole('textbox')).toHaveCount(0);
  await expectUsable(p, 'the spectator page');
  await shot(p, 'watch');
  // A phone opening the link fresh: the first load (the snapshot) is masked the same way.
  await p.setViewportSize(PHONE);
  await p.reload();
  await expect(masked).toContainText('[REDACTED:github-token]');
  expect(await p.content()).not.toContain(GITHUB_TOKEN);
  await expectUsable(p, 'the spectator page');
  await shot(p, 'watch-phone');
  await p.setViewportSize(DESKTOP);

  // Turning it off cuts off the viewer already watching, without a reload; nothing of the project stays.
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await expect(p.getByRole('alert').filter({ hasText: 'This spectator link was turned off' })).toBeVisible();
  await expect(p.getByText('Welcome aboard')).toHaveCount(0);
  await shot(p, 'watch-off');
  // And a fresh visit is refused too.
  await p.goto(watchUrl);
  await expect(
    p.getByRole('alert').filter({ hasText: 'This spectator link is not valid or was turned off' }),
  ).toBeVisible();
  await anon.close();

  // The Team view still knows it is off after a reload (no URL is kept anywhere).
  await page.reload();
  await expect(page.getByRole('switch', { name: 'Public spectator link' })).toHaveAttribute('aria-checked', 'false');
});

test('the owner sets how long history is kept, and a change made from the CLI shows live', async () => {
  await page.goto(view('team'));
  const state = page.getByTestId('retention-state');
  await expect(state).toHaveText('Chat, activity, finished tasks and events are kept forever.');
  await page.getByLabel('Keep history for').selectOption({ label: '30 days' });
  await expect(state).toContainText('kept for 30 days');
  expect(await owner.client.retention(PROJECT)).toEqual({ meshwork: PROJECT, retention_days: 30 });
  // Set elsewhere (the CLI's `meshcode retention studio 45`): the view follows without a reload.
  await owner.client.retention(PROJECT, 45);
  await expect(state).toContainText('kept for 45 days');
  await expect(page.getByLabel('Keep history for')).toHaveValue('45');
  await page.getByLabel('Keep history for').selectOption({ label: 'Forever' });
  await expect(state).toHaveText('Chat, activity, finished tasks and events are kept forever.');
  expect(await owner.client.retention(PROJECT)).toEqual({ meshwork: PROJECT, retention_days: null });
});

test('the Team view and the join page have named controls and fit at 1280 px and 390 px', async ({ browser }) => {
  const fresh = await createInvite(owner.client, { meshwork: PROJECT, agent: 'tester', role: 'writes e2e tests' });
  for (const size of [DESKTOP, PHONE]) {
    await page.setViewportSize(size);
    await page.goto(view('team'));
    await expect(page.getByRole('listitem', { name: 'Invite to tester, active' })).toBeVisible();
    await expectUsable(page, 'the Team view');
    if (size === PHONE) await shot(page, 'team-phone');
  }
  await page.setViewportSize(DESKTOP);
  const anon = await browser.newContext({ viewport: PHONE });
  const p = await anon.newPage();
  await p.goto(fresh.url);
  await expect(p.getByRole('heading', { name: `Join ${PROJECT}` })).toBeVisible();
  await expectUsable(p, 'the join page');
  await shot(p, 'join-phone');
  await anon.close();
});

test('the owner deletes a project by typing its name, and lands on the project list without it', async () => {
  await owner.client.createMeshwork('throwaway');
  await owner.client.addAgent('throwaway', 'helper');
  await page.goto(`${hub.url}/project?name=throwaway&view=team`);
  const remove = page.getByRole('button', { name: 'Delete project' });
  await expect(remove).toBeDisabled();
  await page.getByLabel('Type throwaway to confirm').fill('throwawa');
  await expect(remove).toBeDisabled();
  await page.getByLabel('Type throwaway to confirm').fill('throwaway');
  await remove.click();
  await expect(page).toHaveURL(/\/projects$/);
  await expect(page.getByRole('link', { name: /throwaway/ })).toHaveCount(0);
  await expect(page.getByRole('link', { name: new RegExp(PROJECT) })).toBeVisible();
  expect((await owner.client.listMeshworks()).map((m) => m.name)).toEqual([PROJECT]);
});
