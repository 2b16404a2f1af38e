// `meshcode dashboard` against a real hub: the printed link logs a browser session in once.
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signup } from '@meshcode/client';
import type { Io } from '../common';
import { EXIT } from '../errors';
import { makeSandbox, uniqueEmail, type Sandbox } from '../testing/cli';
import { useTestHub } from '../testing/hub';
import { register } from './dashboard';

const hub = useTestHub();
let sb: Sandbox;
beforeEach(async () => {
  sb = await makeSandbox(hub.url());
});
afterEach(async () => {
  await sb.cleanup();
});

async function run(args: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  let code = 0;
  const io: Io = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env,
    exit: (c) => void (code = c),
  };
  const program = new Command('meshcode').option('--hub <url>').option('--json').option('--debug').exitOverride();
  register(program, io);
  try {
    await program.parseAsync(['node', 'meshcode', ...args]);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    code = 2;
  }
  return { code, stdout, stderr };
}

describe('meshcode dashboard', () => {
  it('prints a one-time login link on the hub that opens a session once', async () => {
    const acct = await signup(hub.url(), uniqueEmail('ada'), 'Ada');
    const res = await run(['dashboard', '--no-open'], { ...sb.env, MESHCODE_API_KEY: acct.key });
    expect(res.code, res.stderr).toBe(0);
    const url = res.stdout.trim();
    expect(url).toMatch(new RegExp(`^${hub.url()}/login/mcl_[A-Za-z0-9_-]+$`));
    expect(res.stderr).toContain('expires in 10 minutes');

    const token = url.split('/login/')[1];
    const login = (body: unknown) =>
      fetch(`${hub.url()}/auth/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-meshcode-csrf': '1' },
        body: JSON.stringify(body),
      });
    const first = await login({ link_token: token });
    expect(first.status).toBe(200);
    expect(first.headers.get('set-cookie')).toContain('mc_session=');
    expect((await login({ link_token: token })).status).toBe(401);

    const json = await run(['--json', 'dashboard'], { ...sb.env, MESHCODE_API_KEY: acct.key });
    expect(JSON.parse(json.stdout)).toMatchObject({
      url: expect.stringContaining('/login/mcl_'),
      expires_at: expect.any(String),
    });
  });

  it('says how to log in when no key is stored, and when the key is rejected', async () => {
    const none = await run(['dashboard', '--no-open'], sb.env);
    expect(none.code).toBe(EXIT.auth);
    expect(none.stderr).toContain('No credentials found. Run meshcode login first.');
    const bad = await run(['dashboard', '--no-open'], { ...sb.env, MESHCODE_API_KEY: 'mc_notarealkey' });
    expect(bad.code).toBe(EXIT.auth);
    expect(bad.stderr).toContain('rejected the stored key');
  });
});
