// Invites, members, revocation and linked projects through the hub, as a new user meets them: two accounts and a guest.
import {
  createInvite,
  createMeshClient,
  inviteInfo,
  link,
  listInvites,
  listLinks,
  listMembers,
  redeemInvite,
  revokeInvite,
  revokeMember,
  unlink,
  type MeshClient,
} from '@meshcode/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { createHub } from '../hub';
import { newAccount, newMesh, startTestHub, type HubFixture, type TestAccount } from '../testing/hub-fixture';

interface Envelope {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

async function post(url: string, fn: string, args: unknown, key?: string): Promise<{ status: number; body: Envelope }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${url}/rest/v1/rpc/${fn}`, { method: 'POST', headers, body: JSON.stringify(args) });
  return { status: res.status, body: (await res.json()) as Envelope };
}

describeBackends('teams: invites, members, links', (getDb) => {
  let hub: HubFixture;
  let owner: TestAccount;
  beforeAll(async () => {
    hub = await startTestHub(getDb());
  });
  afterAll(async () => {
    await hub.close();
  });
  beforeEach(async () => {
    owner = await newMesh(hub.url, 'my-project', ['commander', 'backend']);
  });

  describe('invites', () => {
    it('gives a join URL on the origin the owner reached, or the forwarded one', async () => {
      const inv = await createInvite(owner.client, {
        meshwork: 'my-project',
        agent: 'designer',
        role: 'UI designer',
        days: 7,
      });
      expect(inv.url).toBe(`${hub.url}/join/${inv.token}`);
      expect(inv.token).toMatch(/^mc_inv_[0-9A-Za-z]{32}[0-9a-f]{6}$/);
      expect(inv).toMatchObject({ agent: 'designer', role: 'UI designer', state: 'active', uses: 0, max_uses: 1 });
      const board = await owner.client.status('my-project');
      expect(board.agents.find((a) => a.name === 'designer')?.role).toBe('UI designer');

      const res = await fetch(`${hub.url}/rest/v1/rpc/mc_create_invite`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${owner.key}`,
          'content-type': 'application/json',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'mesh.example.com',
        },
        body: JSON.stringify({ p_meshwork: 'my-project', p_agent: 'designer' }),
      });
      const body = (await res.json()) as { url: string; token: string };
      expect(body.url).toBe(`https://mesh.example.com/join/${body.token}`);
    });

    it('uses MESHCODE_PUBLIC_URL when the hub has one', async () => {
      const public_ = await createHub({
        db: getDb(),
        publicUrl: 'https://meshcode.example.org/',
        log: () => undefined,
      });
      try {
        const url = await public_.listen(0);
        const client = createMeshClient({ hubUrl: url, apiKey: owner.key });
        const inv = await createInvite(client, { meshwork: 'my-project', agent: 'designer' });
        expect(inv.url).toBe(`https://meshcode.example.org/join/${inv.token}`);
      } finally {
        await public_.close();
      }
    });

    it('is redeemed by POST without an account into a key for that one slot only', async () => {
      const other = await newMesh(hub.url, 'other-project', ['x']);
      await owner.client.remember('my-project', 'backend', 'plan', 'backend private memory');
      const inv = await createInvite(owner.client, { meshwork: 'my-project', agent: 'designer', role: 'UI' });
      expect(await inviteInfo(hub.url, inv.token)).toMatchObject({
        meshwork: 'my-project',
        agent: 'designer',
        state: 'active',
        uses_left: 1,
      });

      // A GET never consumes it.
      const get = await fetch(`${hub.url}/rest/v1/rpc/mc_redeem_invite?p_token=${inv.token}`);
      expect(get.status).toBe(405);
      expect((await inviteInfo(hub.url, inv.token)).uses_left).toBe(1);

      const joined = await redeemInvite(hub.url, inv.token, 'Alice');
      expect(joined).toMatchObject({ meshwork: 'my-project', agent: 'designer', member_role: 'guest' });
      expect(joined.next).toBe('meshcode run designer');
      const guest = createMeshClient({ hubUrl: hub.url, apiKey: joined.key });
      expect((await guest.whoami()).key).toMatchObject({ scope: 'invite', meshwork: 'my-project', agent: 'designer' });

      // Its own slot works: connect, send, read.
      await guest.connect('my-project', 'designer', 's1');
      await guest.send({ meshwork: 'my-project', to: 'commander', body: 'hi, Alice here' });
      const got = await owner.client.wait({ meshwork: 'my-project', agent: 'commander', timeoutSeconds: 0 });
      expect(got.messages.map((m) => [m.from, m.body])).toEqual([['designer', 'hi, Alice here']]);
      expect((await guest.listMeshworks()).map((m) => m.name)).toEqual(['my-project']);

      // Nothing else.
      await expect(
        guest.send({ meshwork: 'my-project', from: 'backend', to: 'commander', body: 'x' }),
      ).rejects.toMatchObject({
        status: 403,
        message: "this key is bound to agent 'designer' and cannot act as 'backend'",
        hint: "leave p_from out (this key acts as designer), or use a key of backend's",
      });
      await expect(guest.recall('my-project', 'backend', 'plan')).rejects.toMatchObject({
        status: 403,
        hint: "leave p_agent out (this key acts as designer), or use a key of backend's",
      });
      await expect(guest.status('other-project')).rejects.toMatchObject({
        status: 403,
        message: 'scoped api key cannot access this project',
      });
      await expect(guest.createMeshwork('mine')).rejects.toMatchObject({ status: 403 });
      await expect(createInvite(guest, { meshwork: 'my-project', agent: 'eve' })).rejects.toMatchObject({
        status: 403,
      });
      await expect(guest.createKey('my-project', 'designer')).rejects.toMatchObject({ status: 403 });
      await expect(listInvites(guest, 'my-project')).rejects.toMatchObject({ status: 403 });
      expect((await other.client.listMeshworks()).map((m) => m.name)).toEqual(['other-project']);
    });

    it('says clearly when an invite is used, expired, revoked or unknown', async () => {
      const inv = await createInvite(owner.client, { meshwork: 'my-project', agent: 'designer' });
      await redeemInvite(hub.url, inv.token, 'Alice');
      const used = await post(hub.url, 'mc_redeem_invite', { p_token: inv.token, p_display_name: 'Eve' });
      expect(used).toMatchObject({ status: 409, body: { message: 'this invite has already been used' } });
      expect(used.body.hint).toContain('ask the project owner for a new one');

      const old = await createInvite(owner.client, { meshwork: 'my-project', agent: 'designer' });
      await getDb().query(`update mesh.invites set expires_at = now() - interval '1 second' where id = $1`, [old.id]);
      const expired = await post(hub.url, 'mc_redeem_invite', { p_token: old.token });
      expect(expired).toMatchObject({ status: 410, body: { message: 'this invite has expired' } });
      expect((await inviteInfo(hub.url, old.token)).state).toBe('expired');

      const cancelled = await createInvite(owner.client, { meshwork: 'my-project', agent: 'designer' });
      expect((await revokeInvite(owner.client, cancelled.id)).state).toBe('revoked');
      const revoked = await post(hub.url, 'mc_redeem_invite', { p_token: cancelled.token });
      expect(revoked).toMatchObject({ status: 410, body: { message: 'this invite was revoked by the project owner' } });

      const unknown = await post(hub.url, 'mc_redeem_invite', { p_token: `mc_inv_${'A'.repeat(38)}` });
      expect(unknown).toMatchObject({ status: 404, body: { message: 'this invite is not valid' } });

      const list = await listInvites(owner.client, 'my-project');
      expect(list.map((i) => i.state).sort()).toEqual(['expired', 'revoked', 'used']);
      expect(list.find((i) => i.state === 'used')?.redeemed_by.map((r) => r.display_name)).toEqual(['Alice']);
      expect(JSON.stringify(list)).not.toContain(inv.token);
    });

    it('allows several people with --max-uses, then refuses', async () => {
      const inv = await createInvite(owner.client, { meshwork: 'my-project', agent: 'pair', maxUses: 2 });
      await redeemInvite(hub.url, inv.token, 'One');
      await redeemInvite(hub.url, inv.token, 'Two');
      await expect(redeemInvite(hub.url, inv.token, 'Three')).rejects.toMatchObject({ status: 409 });
    });

    it('checks its arguments', async () => {
      const bad = async (args: Record<string, unknown>) =>
        (await post(hub.url, 'mc_create_invite', { p_meshwork: 'my-project', p_agent: 'x', ...args }, owner.key)).body;
      expect(await bad({ p_days: 0 })).toMatchObject({ message: 'days must be between 1 and 365' });
      expect(await bad({ p_max_uses: 1000 })).toMatchObject({ message: 'max uses must be between 1 and 100' });
      expect(await bad({ p_agent: 'Not Valid!' })).toMatchObject({ code: 'PT400' });
      expect(await bad({ p_meshwork: 'my-projcet' })).toMatchObject({
        message: "could not resolve project 'my-projcet': project not found",
        details: 'my-project',
      });
    });
  });

  describe('members', () => {
    it('lists members (guests see themselves and the owner) and removal bites on the next request', async () => {
      const inv = await createInvite(owner.client, { meshwork: 'my-project', agent: 'designer' });
      const alice = await redeemInvite(hub.url, inv.token, 'Alice');
      const guest = createMeshClient({ hubUrl: hub.url, apiKey: alice.key });
      const mira = await newAccount(hub.url, 'mira');
      await mira.client.createMeshwork('miras-own');
      const miraId = (await mira.client.whoami()).account.id;
      const mwId = (await owner.client.listMeshworks())[0]!.id;
      // "member" is a role of the model that no RPC grants yet: give it directly to test its removal.
      await getDb().query(`insert into mesh.members (meshwork_id, account_id, role) values ($1, $2, 'member')`, [
        mwId,
        miraId,
      ]);

      const all = await listMembers(owner.client, 'my-project');
      expect(all.map((m) => [m.display_name, m.role, m.you])).toEqual([
        ['owner', 'owner', true],
        ['Alice', 'guest', false],
        ['mira', 'member', false],
      ]);
      expect(all.find((m) => m.display_name === 'Alice')?.agents).toEqual(['designer']);
      expect(all.find((m) => m.display_name === 'mira')?.email).toBe(mira.email);
      const seen = await listMembers(guest, 'my-project');
      expect(seen.map((m) => [m.display_name, m.you, m.email])).toEqual([
        ['owner', false, null],
        ['Alice', true, null],
      ]);
      expect((await mira.client.status('my-project')).agents.length).toBeGreaterThan(0);

      const removed = await revokeMember(owner.client, 'my-project', 'alice');
      expect(removed).toMatchObject({ removed: true, display_name: 'Alice', keys_revoked: 1 });
      await expect(guest.status('my-project')).rejects.toMatchObject({ status: 401 });
      await expect(guest.whoami()).rejects.toMatchObject({ status: 401 });

      await revokeMember(owner.client, 'my-project', miraId);
      await expect(mira.client.status('my-project')).rejects.toMatchObject({
        status: 404,
        message: "could not resolve project 'my-project': project not found",
      });
      expect((await mira.client.listMeshworks()).map((m) => m.name)).toEqual(['miras-own']);

      await expect(revokeMember(owner.client, 'my-project', 'nobody')).rejects.toMatchObject({ status: 404 });
      await expect(revokeMember(owner.client, 'my-project', 'owner')).rejects.toMatchObject({
        status: 400,
        message: 'the project owner cannot be removed',
      });
      expect((await listMembers(owner.client, 'my-project')).map((m) => m.display_name)).toEqual(['owner']);
    });

    it('answers a guest who names another project with the scoped-key sentence', async () => {
      const inv = await createInvite(owner.client, { meshwork: 'my-project', agent: 'designer' });
      const guest = createMeshClient({ hubUrl: hub.url, apiKey: (await redeemInvite(hub.url, inv.token, 'A')).key });
      await expect(listMembers(guest, 'somewhere-else')).rejects.toMatchObject({
        status: 403,
        message: 'scoped api key cannot access this project',
        hint: expect.stringContaining('meshcode members'),
      });
    });
  });

  describe('linked meshworks', () => {
    let bob: TestAccount;
    let alphaId: string;
    let betaId: string;
    beforeEach(async () => {
      bob = await newMesh(hub.url, 'beta', ['back']);
      alphaId = (await owner.client.listMeshworks())[0]!.id;
      betaId = (await bob.client.listMeshworks())[0]!.id;
    });

    const sendAcross = (client: MeshClient) =>
      client.send({ meshwork: 'my-project', from: 'commander', to: 'beta/back', body: 'hello beta' });

    it('message only once both owners linked, and not after unlinking', async () => {
      await expect(sendAcross(owner.client)).rejects.toMatchObject({
        status: 403,
        message: "project 'beta' is not linked with this project",
      });
      const asked = await link(owner.client, 'my-project', betaId);
      expect(asked).toMatchObject({ active: false, target: 'beta' });
      await expect(sendAcross(owner.client)).rejects.toMatchObject({ status: 403 });
      expect(await listLinks(bob.client, 'beta')).toEqual([
        expect.objectContaining({ name: 'my-project', state: 'waiting_for_you' }),
      ]);

      // Bob accepts by name: the project asked first.
      expect(await link(bob.client, 'beta', 'my-project')).toMatchObject({ active: true });
      const sent = await owner.client.send({
        meshwork: 'my-project',
        from: 'commander',
        to: 'beta/back',
        body: 'question?',
        kind: 'ask',
        deadlineSeconds: 60,
      });
      const inbox = await bob.client.wait({ meshwork: 'beta', agent: 'back', timeoutSeconds: 0 });
      expect(inbox.messages.map((m) => [m.from, m.body])).toEqual([['my-project/commander', 'question?']]);
      await bob.client.send({ meshwork: 'beta', from: 'back', to: '', replyTo: sent.id, body: 'answer' });
      const reply = await owner.client.waitReply({ meshwork: 'my-project', agent: 'commander', messageId: sent.id });
      expect(reply.reply).toMatchObject({ from: 'beta/back', body: 'answer', to: 'commander' });

      // A third project and a guest key are still refused.
      const carol = await newMesh(hub.url, 'gamma', ['c']);
      await expect(
        carol.client.send({ meshwork: 'gamma', from: 'c', to: `${alphaId}/commander`, body: 'x' }),
      ).rejects.toMatchObject({ status: 403 });
      const inv = await createInvite(owner.client, { meshwork: 'my-project', agent: 'designer' });
      const guest = createMeshClient({ hubUrl: hub.url, apiKey: (await redeemInvite(hub.url, inv.token, 'G')).key });
      await expect(guest.send({ meshwork: 'my-project', to: 'beta/back', body: 'x' })).rejects.toMatchObject({
        status: 403,
        message: 'a guest key cannot message linked projects',
      });

      expect(await unlink(bob.client, 'beta', 'my-project')).toEqual({ unlinked: true, target: 'my-project' });
      await expect(sendAcross(owner.client)).rejects.toMatchObject({ status: 403 });
      await expect(
        bob.client.send({ meshwork: 'beta', from: 'back', to: '', replyTo: sent.id, body: 'late' }),
      ).rejects.toMatchObject({ status: 403 });
    });

    it("the sender's history shows what its agents sent across, named as each side sees it", async () => {
      await link(owner.client, 'my-project', betaId);
      await link(bob.client, 'beta', 'my-project');
      const inv = await createInvite(owner.client, { meshwork: 'my-project', agent: 'designer' });
      await owner.client.send({ meshwork: 'my-project', from: 'backend', to: 'commander', body: 'local before' });
      const asked = await owner.client.send({
        meshwork: 'my-project',
        from: 'commander',
        to: 'beta/back',
        body: 'question?',
        idempotencyKey: 'q-1',
      });
      // A retry stores nothing twice, on either side.
      const again = await owner.client.send({
        meshwork: 'my-project',
        from: 'commander',
        to: 'beta/back',
        body: 'question?',
        idempotencyKey: 'q-1',
      });
      expect(again).toMatchObject({ id: asked.id, duplicate: true });
      await bob.client.send({ meshwork: 'beta', from: 'back', to: '', replyTo: asked.id, body: 'answer' });
      await bob.client.send({ meshwork: 'beta', from: 'back', to: 'my-project/backend', body: 'fyi' });
      await owner.client.send({ meshwork: 'my-project', from: 'backend', to: 'designer', body: 'local after' });

      const shown = (ms: { from: string; to?: string | null; body: string }[]) =>
        ms.map((m) => `${m.from} -> ${m.to ?? ''}: ${m.body}`);
      expect(shown(await owner.client.history('my-project'))).toEqual([
        'backend -> designer: local after',
        'beta/back -> backend: fyi',
        'beta/back -> commander: answer',
        'commander -> beta/back: question?',
        'backend -> commander: local before',
      ]);
      // The other side alike: what came in (stored there) and what its agent sent back across.
      expect(shown(await bob.client.history('beta'))).toEqual([
        'back -> my-project/backend: fyi',
        'back -> my-project/commander: answer',
        'my-project/commander -> back: question?',
      ]);
      // Filters and paging see both kinds alike.
      expect(shown(await owner.client.history('my-project', { agent: 'commander' }))).toEqual([
        'beta/back -> commander: answer',
        'commander -> beta/back: question?',
        'backend -> commander: local before',
      ]);
      expect(shown(await owner.client.history('my-project', { threadId: asked.thread_id }))).toEqual([
        'beta/back -> commander: answer',
        'commander -> beta/back: question?',
      ]);
      const newest = await owner.client.history('my-project', { limit: 3 });
      expect(shown(await owner.client.history('my-project', { before: newest.at(-1)!.created_at, limit: 3 }))).toEqual([
        'commander -> beta/back: question?',
        'backend -> commander: local before',
      ]);
      // A key bound to another agent sees neither the message nor its reply.
      const guest = createMeshClient({ hubUrl: hub.url, apiKey: (await redeemInvite(hub.url, inv.token, 'G')).key });
      expect(shown(await guest.history('my-project'))).toEqual(['backend -> designer: local after']);
      // A stranger still reads nothing of either project.
      const carol = await newMesh(hub.url, 'gamma', ['c']);
      await expect(carol.client.history('my-project')).rejects.toMatchObject({ status: 404 });
    });

    it('one owner of both projects links them in one call; a stranger cannot link by name', async () => {
      await owner.client.createMeshwork('second');
      await owner.client.addAgent('second', 'helper');
      expect(await link(owner.client, 'my-project', 'second')).toMatchObject({ active: true });
      const across = { meshwork: 'second', from: 'helper', to: 'my-project/backend', body: 'x', idempotencyKey: 'k1' };
      const sent = await owner.client.send(across);
      // A retry across the link is the same message; the key used for another is refused, as within a project.
      expect(await owner.client.send(across)).toMatchObject({ id: sent.id, duplicate: true });
      await expect(owner.client.send({ ...across, body: 'y' })).rejects.toMatchObject({
        status: 409,
        message: "idempotency key 'k1' was already used for a different message",
      });
      await expect(link(bob.client, 'beta', 'my-project')).rejects.toMatchObject({
        status: 404,
        message: "could not find project 'my-project' to link",
      });
      const itself = { status: 400, message: 'a project cannot be linked with itself' };
      await expect(link(owner.client, 'my-project', alphaId)).rejects.toMatchObject(itself);
      await expect(link(owner.client, 'my-project', 'My-Project')).rejects.toMatchObject(itself);
    });
  });
});
