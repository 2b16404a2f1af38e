// The delivery notes a transaction hands the hub, and the page a held wait builds from them.
import { describe, expect, it } from 'vitest';
import { pageFromDeliveries, resultJson } from './long-poll';
import { parseNotes, type Delivery } from './notes';

const last = { agent: 'b', agent_id: 'B', cursor: 4, messages: [], last_seq: 4, has_more: false };
const d = (seq: number, message: Record<string, unknown> = { id: `m${seq}`, body: `#${seq}` }): Delivery => ({
  seq,
  message,
  json: JSON.stringify(message),
});

describe('parseNotes', () => {
  it('splits wake-ups and feeds, and groups deliveries per recipient in commit order', () => {
    const notes = parseNotes({
      wake: 'A,B',
      changed: 'W',
      deliver: [
        JSON.stringify({
          m: { id: 'm1', body: 'hi\nthere' },
          to: [
            ['A', 3],
            ['B', '7'],
          ],
        }),
        JSON.stringify({ m: { id: 'm2', body: 'again' }, to: [['B', 8]] }),
      ].join('\n'),
      revoked: true,
    });
    expect(notes.wake).toEqual(['A', 'B']);
    expect(notes.changed).toEqual(['W']);
    expect(notes.revoked).toBe(true);
    expect(notes.deliver.get('A')).toEqual([
      { seq: 3, message: { id: 'm1', body: 'hi\nthere' }, json: '{"id":"m1","body":"hi\\nthere"}' },
    ]);
    expect(notes.deliver.get('B')?.map((x) => [x.seq, x.message.id])).toEqual([
      [7, 'm1'],
      [8, 'm2'],
    ]);
  });

  it('reads empty notes as nothing to do', () => {
    const notes = parseNotes({ wake: null, changed: null, deliver: null, revoked: false });
    expect([notes.wake, notes.changed, notes.deliver.size, notes.revoked]).toEqual([[], [], 0, false]);
  });
});

describe('pageFromDeliveries', () => {
  it('answers with the messages right after the last page, in seq order, as an inbox read would', () => {
    expect(pageFromDeliveries(last, [d(6), d(5)], 100)).toEqual({
      agent: 'b',
      agent_id: 'B',
      cursor: 4,
      messages: [
        { seq: 5, id: 'm5', body: '#5' },
        { seq: 6, id: 'm6', body: '#6' },
      ],
      last_seq: 6,
      has_more: false,
    });
  });

  it('carries its JSON text, equal to the page itself, whatever the messages hold', () => {
    const odd = { id: 'm6', body: 'quote " backslash \\ line\n\u2028 emoji 🎉', data: { n: [1, null, { x: true }] } };
    const page = pageFromDeliveries({ ...last, agent: 'a "quoted" name' }, [d(5, {}), d(6, odd)], 100)!;
    const text = resultJson(page);
    expect(text).toBe(JSON.stringify(page)); // byte for byte what serializing the page gives
    expect(JSON.parse(text).messages).toEqual([{ seq: 5 }, { seq: 6, ...odd }]);
    page.has_more = true; // the text was made with the page, not serialized again when sent
    expect(resultJson(page)).toBe(text);
    expect(resultJson({ a: 1 })).toBe('{"a":1}');
    expect(resultJson(undefined)).toBe('null');
  });

  it('ignores deliveries the last page already holds', () => {
    expect(pageFromDeliveries(last, [d(4), d(5)], 100)?.messages).toEqual([{ seq: 5, id: 'm5', body: '#5' }]);
  });

  it('refuses a gap (another hub or a late commit got a seq in between): the wait re-reads', () => {
    expect(pageFromDeliveries(last, [d(6)], 100)).toBeUndefined();
    expect(pageFromDeliveries(last, [d(5), d(7)], 100)).toBeUndefined();
  });

  it('refuses more messages than the wait asked for, and nothing new', () => {
    expect(pageFromDeliveries(last, [d(5), d(6)], 1)).toBeUndefined();
    expect(pageFromDeliveries(last, [d(3), d(4)], 100)).toBeUndefined();
  });
});
