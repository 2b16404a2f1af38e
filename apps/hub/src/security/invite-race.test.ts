// 50 people redeem one single-use invite at the same moment: exactly one gets in, the rest hear it was used.
import { createInvite } from '@meshcode/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends } from '@meshcode/db/testing';
import { newMesh, startTestHub, type HubFixture } from '../testing/hub-fixture';

const RACERS = 50;

describeBackends('concurrent invite redemption', (getDb) => {
  let hub: HubFixture;
  beforeAll(async () => {
    hub = await startTestHub(getDb());
  });
  afterAll(async () => {
    await hub.close();
  });

  it(`${RACERS} concurrent redemptions of a single-use invite: exactly one succeeds`, async () => {
    const owner = await newMesh(hub.url, 'race', ['lead']);
    const inv = await createInvite(owner.client, { meshwork: 'race', agent: 'guest-slot', maxUses: 1 });
    const results = await Promise.all(
      Array.from({ length: RACERS }, async (_, i) => {
        const res = await fetch(`${hub.url}/rest/v1/rpc/mc_redeem_invite`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ p_token: inv.token, p_display_name: `racer ${i}` }),
        });
        return { status: res.status, body: (await res.json()) as { message?: string; key?: string } };
      }),
    );
    const won = results.filter((r) => r.status === 200);
    const lost = results.filter((r) => r.status !== 200);
    expect(won).toHaveLength(1);
    expect(won[0]?.body.key).toMatch(/^mc_/);
    expect(new Set(lost.map((r) => `${r.status} ${r.body.message}`))).toEqual(
      new Set(['409 this invite has already been used']),
    );

    const db = getDb();
    const state = await db.query<{ uses: number; redemptions: string; guests: string }>(
      `select i.uses,
              (select count(*) from mesh.invite_redemptions r where r.invite_id = i.id)::text as redemptions,
              (select count(*) from mesh.members mb where mb.meshwork_id = i.meshwork_id and mb.role = 'guest')::text as guests
         from mesh.invites i where i.id = $1`,
      [inv.id],
    );
    expect(state.rows[0]).toEqual({ uses: 1, redemptions: '1', guests: '1' });
  });

  it('a limit of 3 admits exactly 3 of 20 concurrent redemptions', async () => {
    const owner = await newMesh(hub.url, 'race3', ['lead']);
    const inv = await createInvite(owner.client, { meshwork: 'race3', agent: 'pair', maxUses: 3 });
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await fetch(`${hub.url}/rest/v1/rpc/mc_redeem_invite`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ p_token: inv.token }),
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(17);
  });
});
