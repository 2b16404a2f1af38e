// The spectator link: a snapshot and a live stream without login, read-only, secrets masked; turning the link off
// (or replacing it) ends streams already open, even when the change signal never reaches this hub.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { createInvite, redeemInvite, spectate, watchSnapshot } from '@meshcode/client';
import { redact } from '@meshcode/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { hashKey } from '../auth';
import { newMesh, startTestHub, type HubFixture, type TestAccount } from '../testing/hub-fixture';
import { openStream } from '../testing/sse';
import { dbActivityMark, Feeds } from './feeds';
import { WatchGuard } from './spectator';

const GH = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
const SK = 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ';

describeBackends('spectator link', (getDb) => {
  let hub: HubFixture;
  let owner: TestAccount;
  beforeAll(async () => {
    hub = await startTestHub(getDb());
  });
  afterAll(async () => {
    await hub.close();
  });
  beforeEach(async () => {
    owner = await newMesh(hub.url, 'demo', ['commander', 'backend']);
  });

  it('snapshot: the board, chat and tasks without login, with memory, scratchpad and credentials masked', async () => {
    await owner.client.remember('demo', 'backend', 'db', 'MEMORY-VALUE-ONLY-THE-TEAM-SEES');
    await owner.client.scratchpadSet('demo', 'deploy', 'SCRATCHPAD-VALUE-ONLY-THE-TEAM-SEES');
    await owner.client.heartbeat('demo', 'backend', { status: 'working', detail: `testing with ${SK}` });
    await owner.client.createTask('demo', { title: `rotate ${GH}`, assignee: 'backend' });
    await owner.client.send({
      meshwork: 'demo',
      from: 'commander',
      to: 'backend',
      body: `use ${GH}, password=hunter2 and Authorization: Bearer abcdefgh12345678`,
    });
    const inv = await createInvite(owner.client, { meshwork: 'demo', agent: 'designer' });
    await redeemInvite(hub.url, inv.token, 'Alice');
    const link = await spectate(owner.client, 'demo');
    expect(link.url).toBe(`${hub.url}/watch/${link.token}`);
    const token = link.token!;

    const snap = await watchSnapshot(hub.url, token);
    expect(snap.meshwork).toBe('demo');
    expect(snap.agents.map((a) => [a.name, a.status])).toEqual([
      ['backend', 'working'],
      ['commander', 'offline'],
      ['designer', 'offline'],
    ]);
    expect(snap.messages.at(-1)?.body).toBe(
      'use [REDACTED:github-token], password=[REDACTED:secret] and Authorization: Bearer [REDACTED:credential]',
    );
    expect(snap.tasks[0]?.title).toBe('rotate [REDACTED:github-token]');
    const text = JSON.stringify(snap);
    for (const secret of [
      'MEMORY-VALUE-ONLY-THE-TEAM-SEES',
      'SCRATCHPAD-VALUE-ONLY-THE-TEAM-SEES',
      GH,
      SK,
      'hunter2',
      inv.token,
      token,
      owner.email,
      (await owner.client.listMeshworks())[0]!.id,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(snap.activity.some((a) => a.kind === 'memory' && a.summary === 'remembered db')).toBe(true);

    // GET works too (it changes nothing), and nothing else opens with the token.
    const get = await fetch(`${hub.url}/rest/v1/rpc/mc_watch_snapshot?p_token=${token}`);
    expect(get.status).toBe(200);
    const asKey = await fetch(`${hub.url}/rest/v1/rpc/mc_status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"p_meshwork":"demo"}',
    });
    expect(asKey.status).toBe(401);
    await expect(watchSnapshot(hub.url, `${token}x`)).rejects.toMatchObject({
      status: 404,
      message: 'this spectator link is not valid or was turned off',
    });
  });

  it('streams status, activity and chat live, redacted, and ends when the link is turned off', async () => {
    const { token } = await spectate(owner.client, 'demo');
    const snap = await watchSnapshot(hub.url, token!);
    const stream = await openStream(`${hub.url}/realtime/v1/watch/${token}?after=${snap.latest_activity_id}`);
    expect(stream.status).toBe(200);
    await stream.waitFor((e) => e.event === 'status');

    await owner.client.send({ meshwork: 'demo', from: 'commander', to: 'backend', body: `deploy with ${GH}` });
    await owner.client.remember('demo', 'backend', 'secret-plan', 'MEMORY-VALUE');
    const msg = await stream.waitFor((e) => e.event === 'activity' && e.data.includes('"kind":"message"'));
    const row = JSON.parse(msg.data) as { id: number; message: { from: string; to: string; body: string } };
    expect(row.message).toMatchObject({
      from: 'commander',
      to: 'backend',
      body: 'deploy with [REDACTED:github-token]',
    });
    // Its SSE id, the cursor a reconnect resumes from, covers it: at or below the floor, or named above it.
    const [floor, above = ''] = msg.id!.split(':');
    expect(Number(floor) >= row.id || above.split(',').includes(String(row.id))).toBe(true);
    await stream.waitFor((e) => e.event === 'activity' && e.data.includes('remembered secret-plan'));
    expect(JSON.stringify(stream.events)).not.toContain(GH);
    expect(JSON.stringify(stream.events)).not.toContain('MEMORY-VALUE');

    await spectate(owner.client, 'demo', false);
    const err = await stream.waitFor((e) => e.event === 'error');
    expect(JSON.parse(err.data)).toMatchObject({ message: 'this spectator link is not valid or was turned off' });
    await stream.ended;
    await vi.waitFor(() => expect(hub.hub.feeds.size).toBe(0));

    const again = await fetch(`${hub.url}/realtime/v1/watch/${token}`);
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ message: 'this spectator link is not valid or was turned off' });
  });

  it('cuts off viewers even when the change signal is missed (a link turned off behind the hub)', async () => {
    const { token } = await spectate(owner.client, 'demo');
    const stream = await openStream(`${hub.url}/realtime/v1/watch/${token}`);
    await stream.waitFor((e) => e.event === 'status');
    // Straight in the database: no activity row, no change signal; only the hub's sweep can notice.
    await getDb().query('update mesh.meshworks set spectator_token_hash = null');
    await stream.waitFor((e) => e.event === 'error');
    await stream.ended;
  });

  it('a new link replaces the old one', async () => {
    const first = await spectate(owner.client, 'demo');
    const stream = await openStream(`${hub.url}/realtime/v1/watch/${first.token}`);
    await stream.waitFor((e) => e.event === 'status');
    const second = await spectate(owner.client, 'demo');
    expect(second.replaced).toBe(true);
    await stream.waitFor((e) => e.event === 'error');
    await expect(watchSnapshot(hub.url, first.token!)).rejects.toMatchObject({ status: 404 });
    expect((await watchSnapshot(hub.url, second.token!)).meshwork).toBe('demo');
  });

  it('the sweep pokes the feeds only when a watched link stopped working', async () => {
    const { token } = await spectate(owner.client, 'demo');
    const feeds = new Feeds(dbActivityMark(getDb()));
    const poke = vi.spyOn(feeds, 'pokeAll');
    const guard = new WatchGuard(getDb(), feeds, () => undefined, 60_000);
    // The guard only listens for the response's 'close'.
    const res = new EventEmitter();
    guard.add(hashKey(token!), res as unknown as ServerResponse);
    await guard.sweep();
    expect(poke).not.toHaveBeenCalled();
    await getDb().query('update mesh.meshworks set spectator_token_hash = null');
    await guard.sweep();
    expect(poke).toHaveBeenCalledTimes(1);
    res.emit('close');
    expect(guard.size).toBe(0);
    guard.stop();
  });

  it('refuses bad tokens and cursors with 4xx', async () => {
    const { token } = await spectate(owner.client, 'demo');
    expect((await fetch(`${hub.url}/realtime/v1/watch/mc_watch_nope`)).status).toBe(404);
    expect((await fetch(`${hub.url}/realtime/v1/watch/${'x'.repeat(190)}`)).status).toBe(404);
    expect((await fetch(`${hub.url}/realtime/v1/watch/${token}?after=-1`)).status).toBe(400);
    expect((await fetch(`${hub.url}/realtime/v1/watch/${token}?after=1e3`)).status).toBe(400);
    const scoped = await fetch(`${hub.url}/rest/v1/rpc/mc_spectate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"p_meshwork":"demo"}',
    });
    expect(scoped.status).toBe(401);
  });
});

describe('SQL redaction agrees with @meshcode/worker redact', () => {
  const samples = [
    'mc_4fJk2LmN9pQrS7tUvWxYz0aBcDeF',
    'mc_inv_8Hd72kLmQpZx91Ab',
    'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
    'gho_16C7e42F292c6912E7710c838347Ae178B4a',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV',
    SK,
    'sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ',
    'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp',
    'xapp-1-A0123456789-0123456789-abcdef',
    'AKIAIOSFODNN7EXAMPLE',
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwicm9sZSI6ImF1dGhlbnRpY2F0ZWQifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    'glpat-xxxxxxxxxxxxxxxxxxxx',
    'AIzaSyA1234567890abcdefghijklmnopqrstuv',
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1',
    'Authorization: Bearer abc.def-123_456',
    'Authorization: token 0123456789abcdef',
    'authorization: Basic dXNlcjpwYXNzd29yZA==',
    'connect password=hunter2&user=bob',
    '{"api_key": "s3cr3t-value"}',
    "client_secret: 'quoted value'",
    'postgres://app:pa55word@db:5432/mesh',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
    'called mc_wait and mc_task_update for agent sk-1 in task 42; token count 1200',
    'Basic authentication failed; token exceeded budget',
  ];

  describeBackends('mesh.redact', (getDb) => {
    it('masks the same shapes the same way', async () => {
      for (const sample of samples) {
        const text = `before ${sample} after`;
        const res = await getDb().query<{ r: string }>('select mesh.redact($1) as r', [text]);
        expect(res.rows[0]?.r, sample).toBe(redact(text));
      }
    });
  });
});
