// Delivery semantics through a real hub: gapless per-recipient sequences under concurrency, idempotent sends,
// long-poll wake-ups, broadcast, ask/reply, cursor acks stored server-side.
import { expect, it } from 'vitest';
import { createMeshClient, Inbox, memoryCursorStore } from '@meshcode/client';
import { describeBackends } from '@meshcode/db/testing';
import { newMesh, startTestHub, until, useTestHub } from '../testing/hub-fixture';

describeBackends('bus delivery', (getDb) => {
  const hub = useTestHub(getDb);

  it('20 concurrent senders to one agent: gapless sequence, nothing lost, nothing twice', async () => {
    const senders = Array.from({ length: 20 }, (_, i) => `s${i}`);
    const owner = await newMesh(hub.url, 'p', ['target', ...senders]);
    const perSender = 15;
    await Promise.all(
      senders.map(async (s) => {
        for (let i = 0; i < perSender; i++) {
          await owner.client.send({ meshwork: 'p', from: s, to: 'target', body: `${s}:${i}` });
        }
      }),
    );
    const inbox = new Inbox(owner.client, { meshwork: 'p', agent: 'target' });
    const got: { seq: number; body: string }[] = [];
    while (got.length < senders.length * perSender) {
      const batch = await inbox.next({ timeoutSeconds: 5, limit: 37 });
      expect(batch.length).toBeGreaterThan(0);
      for (const m of batch) got.push({ seq: m.seq!, body: m.body });
    }
    expect(got.map((g) => g.seq)).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
    expect(new Set(got.map((g) => g.body)).size).toBe(got.length);
    for (const s of senders) {
      const mine = got.filter((g) => g.body.startsWith(`${s}:`)).map((g) => Number(g.body.split(':')[1]));
      expect(mine).toEqual(Array.from({ length: perSender }, (_, i) => i)); // per-sender order kept
    }
    expect(await inbox.next({ timeoutSeconds: 0 })).toEqual([]);
  });

  it('a retried send with the same idempotency key is stored once', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'once', idempotencyKey: 'retry-1' }),
      ),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const res = await owner.client.wait({ meshwork: 'p', agent: 'b', timeoutSeconds: 0 });
    expect(res.messages).toHaveLength(1);
    const count = await getDb().query<{ n: number | string }>('select count(*) as n from mesh.messages');
    expect(Number(count.rows[0]?.n)).toBe(1);
  });

  it('a waiting agent is woken by a send, and the wait returns the message', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const started = Date.now();
    const waiting = owner.client.wait({ meshwork: 'p', agent: 'b', timeoutSeconds: 20 });
    await until(() => hub.hub.waiters.size > 0);
    expect(hub.hub.waiters.size).toBe(1);
    expect((await owner.client.status('p')).agents.find((x) => x.name === 'b')?.status).toBe('waiting');
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'wake up' });
    const res = await waiting;
    expect(res.messages.map((m) => m.body)).toEqual(['wake up']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(hub.hub.waiters.size).toBe(0);
  });

  /** mc_wait over plain fetch, for tests that cut the connection or the hub under it. */
  function rawWait(url: string, key: string, agent: string, seconds: number, signal?: AbortSignal) {
    return fetch(`${url}/rest/v1/rpc/mc_wait`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ p_meshwork: 'p', p_agent: agent, p_timeout_seconds: seconds }),
      signal,
    });
  }

  it('a waiter whose client goes away is let go at once, long before its timeout', async () => {
    const owner = await newMesh(hub.url, 'p', ['a']);
    const ac = new AbortController();
    const left = rawWait(hub.url, owner.key, 'a', 60, ac.signal).catch((e: unknown) => e);
    await until(() => hub.hub.waiters.asleep > 0);
    expect([hub.hub.waiters.size, hub.hub.waiters.asleep]).toEqual([1, 1]);
    ac.abort();
    expect(await left).toBeInstanceOf(Error);
    await until(() => hub.hub.waiters.size === 0);
    expect([hub.hub.waiters.size, hub.hub.waiters.asleep]).toEqual([0, 0]);
  });

  it('a hub shutting down ends every held wait at once instead of waiting out their timeouts', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b', 'c']);
    const second = await startTestHub(getDb());
    const waits = ['a', 'b', 'c'].map((agent) =>
      rawWait(second.url, owner.key, agent, 120).then(
        (res) => res.status,
        () => 'cut',
      ),
    );
    await until(() => second.hub.waiters.asleep >= 3);
    expect(second.hub.waiters.asleep).toBe(3);
    const started = Date.now();
    await second.close();
    expect(await Promise.all(waits)).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(second.hub.waiters.size).toBe(0);
  });

  it('a wait with nothing to deliver returns empty at its timeout', async () => {
    const owner = await newMesh(hub.url, 'p', ['a']);
    const res = await owner.client.wait({ meshwork: 'p', agent: 'a', timeoutSeconds: 1 });
    expect(res.messages).toEqual([]);
    expect(res.cursor).toBe(0);
  });

  it('a message to or from the overseer names the overseer', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'overseer', body: 'for the human' });
    await owner.client.send({ meshwork: 'p', to: 'a', body: 'from the human' });
    const history = await owner.client.history('p');
    expect(history.map((m) => [m.from, m.to, m.body])).toEqual([
      ['overseer', 'a', 'from the human'],
      ['a', 'overseer', 'for the human'],
    ]);
  });

  it('broadcast reaches every other agent once, not the sender', async () => {
    const owner = await newMesh(hub.url, 'p', ['lead', 'x', 'y', 'z']);
    const waits = ['x', 'y', 'z'].map((a) => owner.client.wait({ meshwork: 'p', agent: a, timeoutSeconds: 10 }));
    await new Promise((r) => setTimeout(r, 100));
    const sent = await owner.client.send({ meshwork: 'p', from: 'lead', to: '*', body: 'standup' });
    expect(sent.recipients).toBe(3);
    for (const w of await Promise.all(waits)) expect(w.messages.map((m) => [m.body, m.to])).toEqual([['standup', '*']]);
    expect((await owner.client.wait({ meshwork: 'p', agent: 'lead', timeoutSeconds: 0 })).messages).toEqual([]);
  });

  it('ask with a deadline: the reply wakes the asker, threaded to the ask', async () => {
    const owner = await newMesh(hub.url, 'p', ['asker', 'expert']);
    const ask = await owner.client.send({
      meshwork: 'p',
      from: 'asker',
      to: 'expert',
      body: 'port?',
      kind: 'ask',
      deadlineSeconds: 30,
    });
    const replyWait = owner.client.waitReply({ meshwork: 'p', agent: 'asker', messageId: ask.id, timeoutSeconds: 20 });
    const got = await owner.client.wait({ meshwork: 'p', agent: 'expert', timeoutSeconds: 5 });
    expect(got.messages[0]).toMatchObject({ kind: 'ask', body: 'port?', from: 'asker' });
    expect(got.messages[0]?.deadline_at).toBeTruthy();
    await owner.client.send({ meshwork: 'p', from: 'expert', to: '', body: '7700', replyTo: ask.id });
    const reply = await replyWait;
    expect(reply.reply).toMatchObject({
      kind: 'reply',
      body: '7700',
      from: 'expert',
      to: 'asker',
      reply_to: ask.id,
      thread_id: ask.thread_id,
    });
  });

  it('only an agent that can read a message answers it or adds to its thread; the asker gets the reply sent to it', async () => {
    const owner = await newMesh(hub.url, 'p', ['asker', 'expert', 'outsider']);
    const ask = await owner.client.send({ meshwork: 'p', from: 'asker', to: 'expert', body: 'port?', kind: 'ask' });
    const notFound = { status: 404, message: 'the message you reply to does not exist in this project' };
    // Its own key, and an owner's key acting as it, alike.
    const outsider = createMeshClient({ hubUrl: hub.url, apiKey: (await owner.client.createKey('p', 'outsider')).key });
    await expect(outsider.send({ meshwork: 'p', to: '', body: '1', replyTo: ask.id })).rejects.toMatchObject(notFound);
    await expect(
      owner.client.send({ meshwork: 'p', from: 'outsider', to: '', body: '1', replyTo: ask.id }),
    ).rejects.toMatchObject(notFound);
    await expect(
      outsider.send({ meshwork: 'p', to: 'asker', body: 'in your thread', threadId: ask.thread_id }),
    ).rejects.toMatchObject({ status: 404, message: 'no thread with that id in this project' });
    // A reply to the ask sent elsewhere is not the asker's answer; the one sent to the asker is.
    await owner.client.send({ meshwork: 'p', from: 'expert', to: 'outsider', body: 'fyi', replyTo: ask.id });
    const waitReply = () =>
      owner.client.waitReply({ meshwork: 'p', agent: 'asker', messageId: ask.id, timeoutSeconds: 0 });
    expect((await waitReply()).reply).toBeNull();
    await owner.client.send({ meshwork: 'p', from: 'expert', to: '', body: '7700', replyTo: ask.id });
    expect((await waitReply()).reply).toMatchObject({ body: '7700', from: 'expert', to: 'asker' });
    // Now that the outsider got a message of that thread, it may answer that message and write in the thread.
    const fyi = (await owner.client.wait({ meshwork: 'p', agent: 'outsider', timeoutSeconds: 0 })).messages[0]!;
    await outsider.send({ meshwork: 'p', to: '', body: 'thanks', replyTo: fyi.id });
    await outsider.send({ meshwork: 'p', to: 'asker', body: 'me too', threadId: ask.thread_id });
    // A broadcast is everyone's to answer, and the overseer answers anything.
    const all = await owner.client.send({ meshwork: 'p', from: 'asker', to: '*', body: 'anyone?', kind: 'ask' });
    await outsider.send({ meshwork: 'p', to: '', body: 'here', replyTo: all.id });
    await owner.client.send({ meshwork: 'p', to: '', body: 'from the person', replyTo: ask.id });
  });

  it('an idempotency key already used for a different message is refused, not taken for a retry', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b', 'c']);
    const first = { meshwork: 'p', from: 'a', to: 'b', body: 'once', idempotencyKey: 'k1' };
    const sent = await owner.client.send(first);
    expect(await owner.client.send(first)).toMatchObject({ id: sent.id, duplicate: true });
    const refused = {
      status: 409,
      message: "idempotency key 'k1' was already used for a different message",
      hint: 'a retry repeats the same arguments; give a new message a new key',
    };
    await expect(owner.client.send({ ...first, body: 'twice' })).rejects.toMatchObject(refused);
    await expect(owner.client.send({ ...first, to: 'c' })).rejects.toMatchObject(refused);
    await expect(owner.client.send({ ...first, kind: 'ask' })).rejects.toMatchObject(refused);
    // The same key from another sender is another message.
    expect(await owner.client.send({ ...first, from: 'c' })).toMatchObject({ duplicate: false });
    const count = await getDb().query<{ n: number | string }>('select count(*) as n from mesh.messages');
    expect(Number(count.rows[0]?.n)).toBe(2);
  });

  it('an ask whose deadline passed reports expired, also to a reply wait held across the deadline', async () => {
    const owner = await newMesh(hub.url, 'p', ['asker', 'expert']);
    const ask = await owner.client.send({
      meshwork: 'p',
      from: 'asker',
      to: 'expert',
      body: 'q',
      kind: 'ask',
      deadlineSeconds: 1,
    });
    const waitReply = (timeoutSeconds: number) =>
      owner.client.waitReply({ meshwork: 'p', agent: 'asker', messageId: ask.id, timeoutSeconds });
    const started = Date.now();
    expect(await waitReply(20)).toMatchObject({ reply: null, expired: true });
    expect(Date.now() - started).toBeLessThan(10_000); // it was held 20 s, and answered expired: false
    expect(await waitReply(5)).toMatchObject({ reply: null, expired: true }); // at once
    // A reply after the deadline is still taken, and a wait sees it.
    await owner.client.send({ meshwork: 'p', from: 'expert', to: 'asker', body: 'late', replyTo: ask.id });
    expect((await waitReply(0)).reply?.body).toBe('late');
  });

  it('the acked cursor is stored server-side: a new process resumes where the last one acked', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    for (let i = 1; i <= 5; i++) await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: `m${i}` });
    const first = new Inbox(owner.client, { meshwork: 'p', agent: 'b', store: memoryCursorStore() });
    expect((await first.next({ limit: 2 })).map((m) => m.body)).toEqual(['m1', 'm2']);
    await first.commit();
    // A brand-new inbox (new window, new machine) with no local cursor resumes from the hub's stored cursor.
    const second = new Inbox(owner.client, { meshwork: 'p', agent: 'b' });
    expect((await second.next({ limit: 10 })).map((m) => m.body)).toEqual(['m3', 'm4', 'm5']);
    // Not acked yet: a crash now would redeliver m3..m5 (at-least-once), never skip them.
    const third = new Inbox(owner.client, { meshwork: 'p', agent: 'b' });
    expect((await third.next({ limit: 10 })).map((m) => m.body)).toEqual(['m3', 'm4', 'm5']);
  });

  it("a page's fields as the README gives them: last_seq is the inbox's newest, the last message's seq is the ack", async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    for (let i = 1; i <= 5; i++) await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: `m${i}` });
    const page = await owner.client.wait({ meshwork: 'p', agent: 'b', limit: 2, timeoutSeconds: 0 });
    expect(page).toMatchObject({ cursor: 0, last_seq: 5, has_more: true });
    expect(page.messages.map((m) => [m.seq, m.body])).toEqual([
      [1, 'm1'],
      [2, 'm2'],
    ]);
    // Acknowledged by the last message handled, the next page starts right after it: nothing skipped.
    expect(await owner.client.ack('p', 'b', page.messages.at(-1)!.seq!)).toEqual({ cursor: 2 });
    const rest = await owner.client.wait({ meshwork: 'p', agent: 'b', timeoutSeconds: 0 });
    expect(rest).toMatchObject({ cursor: 2, last_seq: 5, has_more: false });
    expect(rest.messages.map((m) => m.body)).toEqual(['m3', 'm4', 'm5']);
    // A seq the inbox has not reached acknowledges nothing (it used to acknowledge everything up to the inbox's end).
    await expect(owner.client.ack('p', 'b', 6)).rejects.toMatchObject({
      status: 400,
      message: 'seq 6 is ahead of the inbox (last seq 5)',
      hint: "pass the seq of the last message you handled (a message's seq), not a larger one; nothing was acknowledged",
    });
    expect((await owner.client.wait({ meshwork: 'p', agent: 'b', timeoutSeconds: 0 })).cursor).toBe(2);
    expect(await owner.client.ack('p', 'b', 1)).toEqual({ cursor: 2 }); // never backwards
  });

  /** A scoped key's wait on project p, returned once the hub holds it asleep; its outcome is {page} or {err}. */
  async function heldGuestWait(key: string) {
    const { createMeshClient } = await import('@meshcode/client');
    const guest = createMeshClient({ hubUrl: hub.url, apiKey: key });
    const outcome = guest.wait({ meshwork: 'p', timeoutSeconds: 20 }).then(
      (page) => ({ page }),
      (err: unknown) => ({ err }),
    );
    await until(() => hub.hub.waiters.asleep > 0);
    expect(hub.hub.waiters.asleep).toBe(1);
    return { guest, outcome };
  }

  it("a wait for an agent removed and added again under the same name gets the new agent's messages only", async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    // The first wait teaches the hub where this caller's waits for p/b register.
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'to the old b' });
    expect((await owner.client.wait({ meshwork: 'p', agent: 'b', timeoutSeconds: 5 })).messages).toHaveLength(1);
    await owner.client.removeAgent('p', 'b');
    await owner.client.addAgent('p', 'b');
    const waiting = owner.client.wait({ meshwork: 'p', agent: 'b', timeoutSeconds: 20 });
    await until(() => hub.hub.waiters.asleep > 0);
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'to the new b' });
    const got = await waiting;
    expect(got.messages.map((m) => [m.seq, m.body])).toEqual([[1, 'to the new b']]);
  });

  it('a key revoked while its wait is held: the wait ends with 401 at once and gets nothing', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const scoped = await owner.client.createKey('p', 'b');
    const { guest, outcome } = await heldGuestWait(scoped.key);
    await owner.client.revokeKey(scoped.id);
    // No message is needed to end it: the revocation itself re-checks every held wait.
    expect(await outcome).toMatchObject({ err: { status: 401 } });
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'secret after revocation' });
    await expect(guest.wait({ meshwork: 'p', timeoutSeconds: 0 })).rejects.toMatchObject({ status: 401 });
  });

  it("a wait held past its key's expiry is not answered from a delivery", async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const scoped = await owner.client.createKey('p', 'b', { days: 1 });
    // Expiring soon is set before the wait starts: nothing is revoked while it is held, only time passes.
    await getDb().query(`update mesh.api_keys set expires_at = now() + interval '1500 milliseconds' where id = $1`, [
      scoped.id,
    ]);
    const { outcome } = await heldGuestWait(scoped.key);
    await new Promise((r) => setTimeout(r, 1800));
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'after expiry' });
    expect(await outcome).toMatchObject({ err: { status: 401 } });
  });

  it('a wait answered from the delivery returns exactly what reading the inbox returns, and shows the agent working', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const first = await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'earlier' });
    const before = await owner.client.wait({ meshwork: 'p', agent: 'b', timeoutSeconds: 0 });
    const answered = hub.hub.delivered.count;
    const waiting = owner.client.wait({ meshwork: 'p', agent: 'b', afterSeq: before.last_seq, timeoutSeconds: 20 });
    await until(() => hub.hub.waiters.size > 0);
    await owner.client.send({
      meshwork: 'p',
      from: 'a',
      to: 'b',
      body: 'with everything',
      kind: 'ask',
      threadId: first.thread_id,
      deadlineSeconds: 600,
      data: { pr: 7, labels: ['x'] },
    });
    const fast = await waiting;
    expect(hub.hub.delivered.count).toBe(answered + 1);
    const reread = await owner.client.wait({ meshwork: 'p', agent: 'b', afterSeq: before.last_seq, timeoutSeconds: 0 });
    expect(fast).toEqual(reread);
    expect(fast.messages.map((m) => m.body)).toEqual(['with everything']);
    await hub.hub.delivered.settled();
    const board = await owner.client.status('p');
    expect(board.agents.find((x) => x.name === 'b')?.status).toBe('working');
  });

  it('presence after a delivered answer is written shortly after, unless the agent is already back waiting', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b', 'c']);
    const statusOf = async (name: string) =>
      (await owner.client.status('p')).agents.find((x) => x.name === name)?.status;
    // b takes its message and waits again at once: it was never working, and nothing is written for it.
    const written = hub.hub.delivered.written;
    const waitB = owner.client.wait({ meshwork: 'p', agent: 'b', timeoutSeconds: 20 });
    await until(() => hub.hub.waiters.size > 0);
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'quick one' });
    const got = await waitB;
    expect(got.messages.map((m) => m.body)).toEqual(['quick one']);
    await owner.client.wait({ meshwork: 'p', agent: 'b', afterSeq: got.last_seq, timeoutSeconds: 0 });
    await hub.hub.delivered.settled();
    expect(hub.hub.delivered.written).toBe(written);
    expect(await statusOf('b')).toBe('waiting');
    // c takes its message and goes to work: the board shows it working without anyone flushing the marks.
    const waitC = owner.client.wait({ meshwork: 'p', agent: 'c', timeoutSeconds: 20 });
    await until(() => hub.hub.waiters.size > 0);
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'c', body: 'long job' });
    expect((await waitC).messages.map((m) => m.body)).toEqual(['long job']);
    await until(async () => (await statusOf('c')) === 'working');
    expect(hub.hub.delivered.written).toBe(written + 1);
  });

  it('many woken waits are answered together (one broadcast, 40 waiters)', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const owner = await newMesh(hub.url, 'p', ['lead', ...names]);
    const waits = names.map((a) => owner.client.wait({ meshwork: 'p', agent: a, timeoutSeconds: 20 }));
    await until(() => hub.hub.waiters.size >= names.length);
    expect(hub.hub.waiters.size).toBe(names.length);
    await owner.client.send({ meshwork: 'p', from: 'lead', to: '*', body: 'all hands' });
    const results = await Promise.all(waits);
    for (const r of results) expect(r.messages.map((m) => [m.seq, m.body])).toEqual([[1, 'all hands']]);
    await hub.hub.delivered.settled();
    const board = await owner.client.status('p');
    expect(board.agents.filter((x) => x.status === 'working').length).toBe(names.length);
  });

  it('the SSE feed streams activity live to a member and refuses another account', async () => {
    const owner = await newMesh(hub.url, 'p', ['a', 'b']);
    const ac = new AbortController();
    const res = await fetch(`${hub.url}/realtime/v1/meshworks/p/activity`, {
      headers: { authorization: `Bearer ${owner.key}` },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await owner.client.send({ meshwork: 'p', from: 'a', to: 'b', body: 'live!' });
    const deadline = Date.now() + 5000;
    while (!text.includes('live!') && Date.now() < deadline) {
      const { value } = await reader.read();
      text += decoder.decode(value);
    }
    ac.abort();
    expect(text).toContain('event: status');
    expect(text).toContain('event: activity');
    expect(text).toContain('a -> b: live!');

    const stranger = await newMesh(hub.url, 'q', ['x']);
    const denied = await fetch(`${hub.url}/realtime/v1/meshworks/p/activity`, {
      headers: { authorization: `Bearer ${stranger.key}` },
    });
    expect(denied.status).toBe(404);
  });
});
