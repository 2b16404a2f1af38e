// Deleting a project: only its owner's account key may, with the name as confirmation. Everything of it goes; keys
// scoped to it stop at once (held waits and live feeds included) and say why, and are listed under the names they were
// for; what its agents sent to a linked project stays there, under their names.
import { createInvite, createMeshClient, link, redeemInvite, spectate, watchSnapshot } from '@meshcode/client';
import { describeBackends } from '@meshcode/db/testing';
import { expect, it, vi } from 'vitest';
import { newAccount, newMesh, useTestHub } from '../testing/hub-fixture';
import { openStream } from '../testing/sse';

describeBackends('deleting a project', (getDb) => {
  const hub = useTestHub(getDb);
  const deleted = {
    status: 401,
    message: 'the project this key was for was deleted',
    hint: 'ask its owner for a key to a current project',
  };

  it('is the owner account key’s, confirmed by name; everything goes and scoped keys stop at once', async () => {
    const owner = await newMesh(hub.url, 'proj', ['a', 'b']);
    const id = (await owner.client.listMeshworks())[0]!.id;
    const bob = await newMesh(hub.url, 'beta', ['back']);
    await link(owner.client, 'proj', (await bob.client.listMeshworks())[0]!.id);
    await link(bob.client, 'beta', 'proj');
    await owner.client.send({ meshwork: 'proj', from: 'a', to: 'beta/back', body: 'sent out' });
    await bob.client.send({ meshwork: 'beta', from: 'back', to: 'proj/a', body: 'sent in' });
    await owner.client.send({ meshwork: 'proj', from: 'a', to: 'b', body: 'local' });
    await owner.client.createTask('proj', { title: 'a task' });
    const agentKey = await owner.client.createKey('proj', 'a');
    const asAgent = createMeshClient({ hubUrl: hub.url, apiKey: agentKey.key });
    const guest = await redeemInvite(
      hub.url,
      (await createInvite(owner.client, { meshwork: 'proj', agent: 'b' })).token,
      'G',
    );
    const asGuest = createMeshClient({ hubUrl: hub.url, apiKey: guest.key });
    const member = await newAccount(hub.url, 'member');
    await getDb().query(`insert into mesh.members (meshwork_id, account_id, role) values ($1, $2, 'member')`, [
      id,
      (await member.client.whoami()).account.id,
    ]);
    const watch = (await spectate(owner.client, 'proj')).token!;

    // Refused, and nothing changes: a wrong or missing confirmation, a member, the agent's and the guest's keys, and
    // another account (to which the project does not exist).
    for (const confirm of ['beta', '', 'pro']) {
      await expect(owner.client.deleteMeshwork('proj', confirm)).rejects.toMatchObject({
        status: 400,
        message: "to delete project 'proj', confirm with its name",
        hint: "pass p_confirm: 'proj'; deleting a project cannot be undone",
      });
    }
    await expect(member.client.deleteMeshwork(id, 'proj')).rejects.toMatchObject({ status: 403 });
    await expect(asAgent.deleteMeshwork('proj', 'proj')).rejects.toMatchObject({ status: 403 });
    await expect(asGuest.deleteMeshwork('proj', 'proj')).rejects.toMatchObject({ status: 403 });
    await expect(bob.client.deleteMeshwork(id, 'proj')).rejects.toMatchObject({ status: 404 });
    expect((await owner.client.status('proj')).agents.map((x) => x.name)).toEqual(['a', 'b']);

    // Held: the guest's wait, the owner's live feed and a spectator's.
    const held = asGuest.wait({ meshwork: 'proj', afterSeq: 1, timeoutSeconds: 20 });
    await vi.waitFor(() => expect(hub.hub.waiters.size).toBe(1));
    const feed = await openStream(`${hub.url}/realtime/v1/meshworks/proj/activity`, {
      authorization: `Bearer ${owner.key}`,
    });
    const watching = await openStream(`${hub.url}/realtime/v1/watch/${watch}`);
    // Connected: each has sent its first event.
    await feed.waitFor(() => true);
    await watching.waitFor(() => true);

    expect(await owner.client.deleteMeshwork(' PROJ ', 'Proj')).toEqual({
      deleted: true,
      meshwork: 'proj',
      agents: 2,
      keys_revoked: 2,
    });
    await expect(held).rejects.toMatchObject(deleted);
    for (const c of [asAgent, asGuest]) {
      await expect(c.status('proj')).rejects.toMatchObject(deleted);
      await expect(c.send({ meshwork: 'proj', to: 'a', body: 'after' })).rejects.toMatchObject(deleted);
    }
    expect(JSON.parse((await feed.waitFor((e) => e.event === 'error')).data)).toMatchObject({ code: 'PT404' });
    await feed.ended;
    expect(JSON.parse((await watching.waitFor((e) => e.event === 'error')).data)).toMatchObject({
      message: 'this spectator link is not valid or was turned off',
    });
    await watching.ended;
    await expect(watchSnapshot(hub.url, watch)).rejects.toMatchObject({ status: 404 });
    await expect(owner.client.status('proj')).rejects.toMatchObject({ status: 404 });
    expect(await owner.client.listMeshworks()).toEqual([]);
    expect(await member.client.listMeshworks()).toEqual([]);

    // No row of it is left in any table that names a project, but its keys: kept revoked, to say why they stopped.
    const tables = (
      await getDb().query<{ table_name: string }>(
        `select table_name from information_schema.columns
          where table_schema = 'mesh' and column_name = 'meshwork_id'
            and table_name in (select table_name from information_schema.tables where table_schema = 'mesh' and table_type = 'BASE TABLE')`,
      )
    ).rows.map((r) => r.table_name);
    expect(tables).toContain('messages');
    const keys = await getDb().query(
      `select revoked_at is not null as revoked from mesh.api_keys where meshwork_id = $1`,
      [id],
    );
    expect(keys.rows).toEqual([{ revoked: true }, { revoked: true }]);
    for (const t of tables.filter((name) => name !== 'api_keys')) {
      const { rows } = await getDb().query<{ n: number }>(
        `select count(*)::int as n from mesh.${t} where meshwork_id = $1`,
        [id],
      );
      expect({ t, n: rows[0]!.n }).toEqual({ t, n: 0 });
    }
    expect((await getDb().query(`select 1 from mesh.links where target_id = $1`, [id])).rows).toEqual([]);

    // The linked project keeps what it was sent, named as it was; what it sent into the project went with it.
    const history = await bob.client.history('beta');
    expect(history.map((m) => `${m.from} -> ${m.to}: ${m.body}`)).toEqual(['proj/a -> back: sent out']);
    // Nobody receives a reply to it there, and the reply does not go to the replier's own overseer instead.
    await expect(
      bob.client.send({ meshwork: 'beta', from: 'back', to: '', body: 'thanks', replyTo: history[0]!.id }),
    ).rejects.toMatchObject({ status: 410, message: 'the project proj, which that message came from, was deleted' });
    // The name is free again, and a new project under it owns nothing of the old one.
    await owner.client.createMeshwork('proj');
    await owner.client.addAgent('proj', 'a');
    expect(await owner.client.history('proj')).toEqual([]);
    expect((await bob.client.history('beta')).map((m) => m.from)).toEqual(['proj/a']);
  });

  it('lists the keys scoped to it afterwards as revoked, under the names of the project and agents they were for', async () => {
    const owner = await newMesh(hub.url, 'gone', ['a', 'b']);
    await owner.client.createKey('gone', 'a', { label: 'for a' });
    const b = await owner.client.createKey('gone', 'b');
    await owner.client.revokeKey(b.id);
    type Listed = { kind: string; label: string; meshwork: string | null; agent: string | null; revoked_at: string };
    const listed = async () =>
      (await owner.client.rpc<Listed[]>('mc_list_keys')).map(({ kind, label, meshwork, agent, revoked_at }) => ({
        kind,
        label,
        meshwork,
        agent,
        revoked_at,
      }));
    const revokedByHand = (await listed())[2]!.revoked_at;
    // Only the key still in use counts as revoked by the deletion.
    expect(await owner.client.deleteMeshwork('gone', 'gone')).toMatchObject({ keys_revoked: 1 });
    expect(await listed()).toEqual([
      { kind: 'owner', label: expect.any(String) as unknown, meshwork: null, agent: null, revoked_at: null },
      { kind: 'agent', label: 'for a', meshwork: 'gone', agent: 'a', revoked_at: expect.any(String) as unknown },
      // Revoked before the project went: it keeps the time it was revoked.
      { kind: 'agent', label: '', meshwork: 'gone', agent: 'b', revoked_at: revokedByHand },
    ]);
  });
});
