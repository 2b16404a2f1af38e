// signup, login, logout and status against a real hub, with the keychain cut off (keys go to the 0600 file).
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signup } from '@meshcode/client';
import { EXIT } from '../errors';
import { cliProcess, cutOffKeychain, makeSandbox, runCli, uniqueEmail, type Sandbox } from '../testing/cli';
import { useTestHub } from '../testing/hub';

const hub = useTestHub();
let restoreBus: () => void;
let sb: Sandbox;

beforeAll(() => {
  restoreBus = cutOffKeychain();
});
afterAll(() => restoreBus());
beforeEach(async () => {
  sb = await makeSandbox(hub.url());
});
afterEach(async () => {
  await sb.cleanup();
});

const credentialsFile = () => path.join(sb.meshHome, 'credentials.json');

describe('signup → login → status', () => {
  it('signs up, stores the key in the private file (never printing it), and status shows the account', async () => {
    const email = uniqueEmail('ada');
    const res = await runCli(['signup', '--email', email, '--display-name', 'Ada'], sb.env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`Signed up as ${email}`);
    expect(res.stdout).toContain(`API key stored in ${credentialsFile()}`);
    expect(res.stderr).toContain('The OS keychain is unavailable');
    const stored = JSON.parse(await readFile(credentialsFile(), 'utf8')) as { keys: Record<string, string> };
    const key = stored.keys[hub.url()];
    expect(key).toMatch(/^mc_/);
    expect(res.stdout + res.stderr).not.toContain(key);
    expect((await stat(credentialsFile())).mode & 0o777).toBe(0o600);
    expect((await stat(sb.meshHome)).mode & 0o777).toBe(0o700);

    const status = await runCli(['status'], sb.env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`Hub:      ${hub.url()} (reachable`);
    expect(status.stdout).toContain(`Account:  Ada <${email}> (owner key)`);
    expect(status.stdout).toContain(`Key:      stored in ${credentialsFile()}`);
    expect(status.stdout).toMatch(/^meshcode \d+\.\d+\.\d+/);

    const json = await runCli(['status', '--json'], sb.env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      logged_in: true,
      account: { email, display_name: 'Ada' },
      hub: { url: hub.url(), reachable: true },
      key: { found: true, source: 'file', location: credentialsFile(), scope: 'owner' },
    });
  });

  it('login checks the key with the hub before storing it, and logout removes it', async () => {
    const acct = await signup(hub.url(), uniqueEmail('bob'), 'Bob');
    const login = await runCli(['login', acct.key], sb.env);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('Logged in as Bob');
    const stored = JSON.parse(await readFile(credentialsFile(), 'utf8')) as { keys: Record<string, string> };
    expect(stored.keys[hub.url()]).toBe(acct.key);

    const logout = await runCli(['logout'], sb.env);
    expect(logout.code).toBe(0);
    expect(logout.stdout).toContain('removed the key from the credentials file');
    await expect(stat(credentialsFile())).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await runCli(['logout'], sb.env);
    expect(again.stdout).toContain('No key was stored');

    const status = await runCli(['status'], sb.env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Key:      none stored');
    expect(status.stdout).toContain('not logged in: run meshcode login');
  });

  it('refuses an invite token, a malformed key and a key the hub rejects, storing nothing', async () => {
    const invite = await runCli(['login', 'mc_inv_ab12cd34ef56gh78ij90kl12mn34op56ab12cd'], sb.env);
    expect(invite.code).toBe(EXIT.usage);
    expect(invite.stderr).toContain('That is an invite token, not an API key');
    expect(invite.stderr).toContain('meshcode join');

    const malformed = await runCli(['login', 'sk-not-ours'], sb.env);
    expect(malformed.code).toBe(EXIT.usage);
    expect(malformed.stderr).toContain('does not look like a MeshCode API key');

    const rejected = await runCli(['login', 'mc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA000000'], sb.env);
    expect(rejected.code).toBe(EXIT.auth);
    expect(rejected.stderr).toContain(`the hub at ${hub.url()} rejected that key`);
    await expect(stat(credentialsFile())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('prints the key once, and fails, when it cannot be stored', async () => {
    // A MESHCODE_HOME other users can enter: the credentials file refuses to live there.
    await mkdir(sb.meshHome, { recursive: true });
    await chmod(sb.meshHome, 0o755);
    const res = await runCli(['signup', '--email', uniqueEmail('cy')], sb.env);
    expect(res.code).toBe(EXIT.failure);
    const printed = /Your API key \(shown once, save it now\): (mc_\w+)/.exec(res.stdout)?.[1];
    expect(printed).toBeDefined();
    expect(res.stderr).toContain('the API key could not be stored');
    expect(res.stderr).toContain('chmod 700');
    // The printed key is real: login with it works once the folder is fixed.
    await chmod(sb.meshHome, 0o700);
    const login = await runCli(['login', printed ?? ''], sb.env);
    expect(login.code, login.stderr).toBe(0);
  });

  it('commands that need the hub say how to log in when no key is stored', async () => {
    const res = await runCli(['projects'], sb.env);
    expect(res.code).toBe(EXIT.auth);
    expect(res.stderr).toContain('No credentials found. Run meshcode login first.');
  });
});

describe('without a hub', () => {
  it('status works offline with a clear note; login cannot check the key and stores nothing', async () => {
    const env = { ...sb.env, MESHCODE_HUB_URL: 'http://127.0.0.1:9' };
    const acct = await signup(hub.url(), uniqueEmail('dee'), 'Dee');
    const login = await runCli(['login', acct.key], env);
    expect(login.code).toBe(EXIT.unreachable);
    expect(login.stderr).toContain('could not reach the hub at http://127.0.0.1:9');

    const status = await runCli(['status'], { ...env, MESHCODE_API_KEY: acct.key });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Hub:      http://127.0.0.1:9 (unreachable');
    expect(status.stdout).toContain('Key:      from MESHCODE_API_KEY');
    expect(status.stdout).toContain('the hub is unreachable, so the account could not be checked');
  });
});

describe('the real binary', () => {
  it('runs from any directory: signup then status, exit codes included', async () => {
    const email = uniqueEmail('eve');
    const up = await cliProcess(['signup', '--email', email], sb.env, sb.root);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain(`Signed up as ${email}`);
    const status = await cliProcess(['--json', 'status'], sb.env, sb.root);
    expect(JSON.parse(status.stdout)).toMatchObject({ logged_in: true, account: { email } });
    const typo = await cliProcess(['lst'], sb.env, sb.root);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown command 'lst'");
    expect(typo.stderr).toContain('Did you mean list?');
    const version = await cliProcess(['--version'], sb.env, sb.root);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
