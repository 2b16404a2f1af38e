// Removing an agent keeps the record true: its messages stay its own (not the overseer's), retried idempotency keys
// stay told apart, and a name given to a new agent does not take over the old one's messages.
import { createInvite, createMeshClient, link, redeemInvite, spectate, watchSnapshot } from '@meshcode/client';
import { describeBackends } from '@meshcode/db/testing';
import { beforeEach, expect, it, vi } from 'vitest';
import { newMesh, useTestHub, type TestAccount } from '../testing/hub-fixture';

const shown = (ms: { from: string; to?: string | null; body: string }[]) =>
  ms.map((m) => `${m.from} -> ${m.to ?? ''}: ${m.body}`);

describeBackends('removing an agent', (getDb) => {
  const hub = useTestHub(getDb);
  let owner: TestAccount;
  beforeEach(async () => {
    owner = await newMesh(hub.url, 'proj', ['a', 'b', 'c']);
  });
  const send = (from: string | undefined, to: string, body: string, idempotencyKey?: string) =>
    owner.client.send({ meshwork: 'proj', from, to, body, idempotencyKey });

  it('keeps its messages named as they were sent, and the idempotency keys of sender and overseer apart', async () => {
    // The same key from two agents and from the overseer: three messages.
    await send('a', 'b', 'from a', 'k');
    await send('c', 'b', 'from c', 'k');
    await send(undefined, 'b', 'from the overseer', 'k');
    await send('b', 'a', 'to a');
    await owner.client.createTask('proj', { title: 'a task', agent: 'a' });

    expect(await owner.client.removeAgent('proj', 'a')).toEqual({ removed: true, name: 'a' });
    // The sender's messages are still its own, not the person's: and so is the key it used.
    expect(shown(await owner.client.history('proj'))).toEqual([
      'b -> a: to a',
      'overseer -> b: from the overseer',
      'c -> b: from c',
      'a -> b: from a',
    ]);
    // A task it created is still its own.
    expect(await owner.client.listTasks('proj')).toMatchObject([{ title: 'a task', created_by: 'a' }]);
    expect(await owner.client.removeAgent('proj', 'c')).toEqual({ removed: true, name: 'c' });
    // c used the same key as a: removing it used to collide with a's message, both having become the overseer's.
    const retried = await send(undefined, 'b', 'from the overseer', 'k');
    expect(retried).toMatchObject({ duplicate: true });
    expect((await owner.client.history('proj')).find((m) => m.id === retried.id)?.body).toBe('from the overseer');

    // A new agent under the old name starts with an empty inbox and does not own the old messages.
    await owner.client.addAgent('proj', 'a');
    expect(shown(await owner.client.history('proj', { agent: 'a' }))).toEqual([]);
    expect(shown(await owner.client.history('proj', { agent: 'b' }))).toEqual([
      'b -> a: to a',
      'overseer -> b: from the overseer',
      'c -> b: from c',
      'a -> b: from a',
    ]);
    const page = await owner.client.wait({ meshwork: 'proj', agent: 'a', timeoutSeconds: 0 });
    expect(page.messages).toEqual([]);
    // The recipient's inbox still reads the removed senders' messages under their names.
    const inbox = await owner.client.wait({ meshwork: 'proj', agent: 'b', timeoutSeconds: 0 });
    expect(inbox.messages.map((m) => `${m.from}: ${m.body}`)).toEqual([
      'a: from a',
      'c: from c',
      'overseer: from the overseer',
    ]);
    // A reply to a removed agent's message cannot reach it: it goes to the overseer, and says so.
    const reply = await owner.client.send({
      meshwork: 'proj',
      from: 'b',
      to: '',
      replyTo: inbox.messages[0]!.id,
      body: 'ok',
    });
    expect(reply.recipients).toBe(0);
    expect(shown(await owner.client.history('proj', { limit: 1 }))).toEqual(['b -> overseer: ok']);
  });

  it("revokes the keys bound to it: its own and a guest's, whose held wait ends", async () => {
    const own = await owner.client.rpc<{ key: string }>('mc_create_key', { p_meshwork: 'proj', p_agent: 'a' });
    const invite = await createInvite(owner.client, { meshwork: 'proj', agent: 'b' });
    const guest = await redeemInvite(hub.url, invite.token, 'G');
    const asA = createMeshClient({ hubUrl: hub.url, apiKey: own.key });
    const asGuest = createMeshClient({ hubUrl: hub.url, apiKey: guest.key });
    await asA.send({ meshwork: 'proj', to: 'b', body: 'before' });
    const held = asGuest.wait({ meshwork: 'proj', afterSeq: 1, timeoutSeconds: 20 });
    // Held, not still reading: a wait that reads while the agent goes is answered "the agent was removed" (404).
    await vi.waitFor(() => expect(hub.hub.waiters.size).toBe(1));
    // Each refusal names the removed agent and what to do, not a generic "invalid or revoked".
    const removed = (name: string) => ({
      status: 401,
      message: `the agent '${name}' this key was for was removed from its project`,
      hint: 'ask the project owner for a new key or invite to a current agent',
    });
    await owner.client.removeAgent('proj', 'b');
    await expect(held).rejects.toMatchObject(removed('b'));
    await owner.client.removeAgent('proj', 'a');
    for (const [c, name] of [
      [asA, 'a'],
      [asGuest, 'b'],
    ] as const) {
      await expect(c.status('proj')).rejects.toMatchObject(removed(name));
      await expect(c.send({ meshwork: 'proj', to: 'c', body: 'after' })).rejects.toMatchObject(removed(name));
    }
    // A new agent under the old name is not reachable with the old key; the owner's key is untouched.
    await owner.client.addAgent('proj', 'a');
    await expect(asA.wait({ meshwork: 'proj', timeoutSeconds: 0 })).rejects.toMatchObject(removed('a'));
    // A key revoked for another reason keeps the generic answer.
    const other = await owner.client.rpc<{ key: string; id: string }>('mc_create_key', {
      p_meshwork: 'proj',
      p_agent: 'c',
    });
    await owner.client.rpc('mc_revoke_key', { p_key_id: other.id });
    await expect(createMeshClient({ hubUrl: hub.url, apiKey: other.key }).status('proj')).rejects.toMatchObject({
      status: 401,
      message: 'API key is invalid or has been revoked',
    });
    expect((await owner.client.status('proj')).agents.map((x) => x.name)).toEqual(['a', 'c']);
  });

  it('lists its keys afterwards as revoked, under its name, also once a new agent has that name', async () => {
    const key = await owner.client.createKey('proj', 'c', { label: 'ci' });
    await owner.client.removeAgent('proj', 'c');
    await owner.client.addAgent('proj', 'c');
    const keys =
      await owner.client.rpc<
        { id: string; meshwork: string | null; agent: string | null; revoked_at: string | null }[]
      >('mc_list_keys');
    expect(keys.find((k) => k.id === key.id)).toMatchObject({
      meshwork: 'proj',
      agent: 'c',
      revoked_at: expect.any(String) as unknown,
    });
  });

  it("names a linked project's removed agent as it was", async () => {
    const bob = await newMesh(hub.url, 'beta', ['back']);
    await link(owner.client, 'proj', (await bob.client.listMeshworks())[0]!.id);
    await link(bob.client, 'beta', 'proj');
    await bob.client.send({ meshwork: 'beta', from: 'back', to: 'proj/a', body: 'hello' });
    await owner.client.send({ meshwork: 'proj', from: 'b', to: 'beta/back', body: 'hi back' });
    expect(await bob.client.removeAgent('beta', 'back')).toEqual({ removed: true, name: 'back' });
    expect(await owner.client.removeAgent('proj', 'b')).toEqual({ removed: true, name: 'b' });
    expect(shown(await owner.client.history('proj'))).toEqual(['b -> beta/back: hi back', 'beta/back -> a: hello']);
    expect(shown(await bob.client.history('beta'))).toEqual(['proj/b -> back: hi back', 'back -> proj/a: hello']);
    // The spectator page shows what the removed agent sent across, on its own project's side.
    const snap = await watchSnapshot(hub.url, (await spectate(owner.client, 'proj')).token!);
    expect(
      snap.activity.flatMap((r) => (r.message ? [`${r.message.from} -> ${r.message.to}: ${r.message.body}`] : [])),
    ).toEqual(['beta/back -> a: hello', 'b -> beta/back: hi back']);
    // And so does its chat: what was sent in and what was sent out, as the watched project names them.
    expect(snap.messages.map((m) => `${m.from} -> ${m.to}: ${m.body}`)).toEqual([
      'beta/back -> a: hello',
      'b -> beta/back: hi back',
    ]);
  });
});
