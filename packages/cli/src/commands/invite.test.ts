// The team workflow from the command line: the owner invites, a friend without an account joins (the key lands in a
// 0600 file in a 0700 folder, refused when looser), runs the agent, and the owner lists and revokes.
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMeshClient, inviteInfo, signup, type MeshClient } from '@meshcode/client';
import { EXIT } from '../errors';
import { cutOffKeychain, makeSandbox, runCli, uniqueEmail, type Sandbox } from '../testing/cli';
import { useTestHub } from '../testing/hub';

const hub = useTestHub();
let restoreBus: () => void;
let ownerBox: Sandbox;
let friend: Sandbox;
let owner: MeshClient;
let ownerEnv: Record<string, string>;
let project: string;

beforeAll(() => {
  restoreBus = cutOffKeychain();
});
afterAll(() => restoreBus());
beforeEach(async () => {
  ownerBox = await makeSandbox(hub.url());
  friend = await makeSandbox(hub.url());
  const key = (await signup(hub.url(), uniqueEmail('owner'), 'Owner')).key;
  owner = createMeshClient({ hubUrl: hub.url(), apiKey: key });
  ownerEnv = { ...ownerBox.env, MESHCODE_API_KEY: key };
  project = `proj-${Math.random().toString(36).slice(2, 8)}`;
  await owner.createMeshwork(project);
  await owner.addAgent(project, 'commander');
});
afterEach(async () => {
  await ownerBox.cleanup();
  await friend.cleanup();
});

async function invite(...extra: string[]): Promise<string> {
  const res = await runCli(['invite', project, 'designer', '--role', 'UI designer', '--days', '7', ...extra], ownerEnv);
  expect(res.code, res.stderr).toBe(0);
  const url = /^ {2}(http\S+\/join\/mc_inv_\S+)$/m.exec(res.stdout)?.[1];
  expect(url, res.stdout).toBeDefined();
  return url!;
}

const credentialsFile = () => path.join(friend.meshHome, 'credentials.json');

describe('invite → join → run', () => {
  it('prints a join URL; the friend joins by POST with no account and `meshcode run designer` works', async () => {
    const url = await invite();
    expect(url.startsWith(`${hub.url()}/join/mc_inv_`)).toBe(true);

    const joined = await runCli(['join', url, '--display-name', 'Alice'], friend.env);
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stdout).toContain(
      `Joined project '${project}' as Alice (guest), for agent 'designer' (UI designer).`,
    );
    expect(joined.stdout).toContain('Next: meshcode run designer');
    const stored = JSON.parse(await readFile(credentialsFile(), 'utf8')) as { keys: Record<string, string> };
    const key = stored.keys[hub.url()]!;
    expect(key).toMatch(/^mc_/);
    expect(joined.stdout + joined.stderr).not.toContain(key);
    expect((await stat(credentialsFile())).mode & 0o777).toBe(0o600);
    expect((await stat(friend.meshHome)).mode & 0o777).toBe(0o700);

    // The next step works for the guest: no workspace yet, so run finds the slot on the hub and sets it up.
    const run = await runCli(['run', 'designer'], friend.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`recreated the workspace of 'designer' (project '${project}')`);
    expect(run.stdout).toContain(path.join(friend.meshHome, `${project}-designer`));
    const guest = createMeshClient({ hubUrl: hub.url(), apiKey: key });
    await guest.connect(project, 'designer', 'window-1');
    await guest.send({ meshwork: project, to: 'commander', body: 'designer online' });
    const inbox = await owner.wait({ meshwork: project, agent: 'commander', timeoutSeconds: 0 });
    expect(inbox.messages.map((m) => [m.from, m.body])).toEqual([['designer', 'designer online']]);

    // The guest's own view: its project, itself and the owner.
    const members = await runCli(['members', project, '--json'], friend.env);
    expect(members.code, members.stderr).toBe(0);
    expect((JSON.parse(members.stdout) as { display_name: string }[]).map((m) => m.display_name)).toEqual([
      'Owner',
      'Alice',
    ]);
    const elsewhere = await runCli(['members', 'another-project'], friend.env);
    expect(elsewhere.code).toBe(EXIT.failure);
    expect(elsewhere.stderr).toContain('scoped api key cannot access this project');

    // The same invite again: used.
    const again = await runCli(['join', url, '--display-name', 'Eve', '--replace'], friend.env);
    expect(again.code).toBe(EXIT.failure);
    expect(again.stderr).toContain('this invite has already been used');
  });

  it('takes the hub from the join URL and says how to run against it', async () => {
    const url = await invite();
    const elsewhere = { ...friend.env, MESHCODE_HUB_URL: 'http://127.0.0.1:9' };
    const res = await runCli(['join', url, '--display-name', 'Bo', '--json'], elsewhere);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { hub: string; next: string; agent: string; key?: string };
    expect(out).toMatchObject({ hub: hub.url(), agent: 'designer', next: `meshcode --hub ${hub.url()} run designer` });
    expect(out.key).toBeUndefined();
  });

  it('accepts the bare token, checks its checksum offline and keeps an existing key unless --replace', async () => {
    const url = await invite('--max-uses', '2');
    const token = url.split('/join/')[1]!;
    // A mistyped last character (never the one it already is: a token ending in 0 stayed valid one time in 62).
    const typo = await runCli(['join', `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`], friend.env);
    expect(typo.code).toBe(EXIT.usage);
    expect(typo.stderr).toContain('that invite looks incomplete or mistyped');
    const notInvite = await runCli(['join', 'https://example.com/login/abc'], friend.env);
    expect(notInvite.code).toBe(EXIT.usage);
    expect(notInvite.stderr).toContain('is not an invite');

    expect((await runCli(['join', token, '--display-name', 'A'], friend.env)).code).toBe(0);
    const second = await runCli(['join', token, '--display-name', 'B'], friend.env);
    expect(second.code).toBe(EXIT.usage);
    expect(second.stderr).toContain('is already stored');
    expect((await inviteInfo(hub.url(), token)).uses_left).toBe(1);
    expect((await runCli(['join', token, '--display-name', 'B', '--replace'], friend.env)).code).toBe(0);
  });

  it('refuses a key folder or file other users can reach, before using the invite up', async () => {
    const url = await invite();
    const token = url.split('/join/')[1]!;
    await mkdir(friend.meshHome, { recursive: true, mode: 0o700 });
    await chmod(friend.meshHome, 0o755);
    const loose = await runCli(['join', url], friend.env);
    expect(loose.code).toBe(EXIT.failure);
    expect(loose.stderr).toContain(`chmod 700 ${friend.meshHome}`);
    expect((await inviteInfo(hub.url(), token)).uses_left).toBe(1);

    await chmod(friend.meshHome, 0o700);
    await writeFile(credentialsFile(), JSON.stringify({ version: 1, keys: {} }), { mode: 0o644 });
    await chmod(credentialsFile(), 0o644);
    const looseFile = await runCli(['join', url], friend.env);
    expect(looseFile.code).toBe(EXIT.failure);
    expect(looseFile.stderr).toContain(`chmod 600 ${credentialsFile()}`);
    expect((await inviteInfo(hub.url(), token)).uses_left).toBe(1);

    await chmod(credentialsFile(), 0o600);
    expect((await runCli(['join', url], friend.env)).code).toBe(0);
    expect((await stat(credentialsFile())).mode & 0o777).toBe(0o600);
  });
});

describe('owner management', () => {
  it('lists invites and members, revokes an invite and removes a member at once', async () => {
    const url = await invite();
    expect((await runCli(['join', url, '--display-name', 'Alice'], friend.env)).code).toBe(0);
    const pending = await invite();

    const list = await runCli(['invites', project], ownerEnv);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/designer\s+used\s+1\/1\s+.*Alice/);
    expect(list.stdout).toMatch(/designer\s+active\s+0\/1/);
    const invites = JSON.parse((await runCli(['invites', project, '--json'], ownerEnv)).stdout) as {
      id: string;
      state: string;
    }[];
    const active = invites.find((i) => i.state === 'active')!;

    const revoked = await runCli(['revoke-invite', active.id], ownerEnv);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('is revoked: nobody can join with it now');
    const late = await runCli(['join', pending, '--replace'], friend.env);
    expect(late.stderr).toContain('this invite was revoked by the project owner');
    expect((await runCli(['revoke-invite', 'inv_123'], ownerEnv)).stderr).toContain("'inv_123' is not an invite id");

    const members = await runCli(['members', project], ownerEnv);
    expect(members.stdout).toMatch(/Owner \(you\).*owner/);
    expect(members.stdout).toMatch(/Alice\s+guest\s+designer/);
    const removed = await runCli(['revoke-member', project, 'Alice'], ownerEnv);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`Removed Alice from project '${project}': 1 key revoked`);
    const cut = await runCli(['members', project], friend.env);
    expect(cut.code).toBe(EXIT.auth);
    expect(cut.stderr).toContain('API key is invalid or has been revoked');

    const typo = await runCli(['invites', `${project}x`], ownerEnv);
    expect(typo.stderr).toContain(`could not resolve project '${project}x'`);
    expect(typo.stderr).toContain(`did you mean '${project}'?`);
  });
});
