/**
 * Watch events at engine level (docs/codec.md "Events" and "Engine reads beside batches";
 * docs/etcd-semantics.md §2.8 event shapes): the changes of a batch in (revision, sub-revision) order
 * in the three events modes, and the history replay `changes()` a watch with a start revision
 * needs.
 */

import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import { EventsMode, type Engine } from '../ts/types.js';
import { ENGINE_KINDS, engineFactory } from './engines.js';
import { b, catchSync, kv, nevent, results, tomb, type NEvent } from './helpers.js';

const fresh = engineFactory();

const Z = b([0]);
const NONE = b([]);
const none = () => {};

function events(e: Engine, mode: EventsMode, build: (w: BatchWriter) => void): NEvent[] {
  const w = new BatchWriter();
  build(w);
  return e.applyBatch(w.peek(), mode).events().map(nevent);
}

/** A batch touching every event kind: creates, updates, a range delete, a txn, a lease revoke. */
const mixed = (w: BatchWriter) =>
  w
    .put('a', '1') // 2
    .put('b', '1') // 3
    .put('a', '2') // 4
    .range('a')
    .put('c', '', { ignoreValue: true }) // error: no event
    .deleteRange('a', 'c') // 5: a (sub 0), b (sub 1)
    .deleteRange('a') // nothing
    .leaseGrant(9, 60)
    .put('w', 'w') // 6
    .txn([], (s) => s.put('x', '1', { lease: 9 }).put('a', '3').deleteRange('w'), none) // 7: x, a, w
    .put('y', 'v', { lease: 9 }) // 8
    .leaseRevoke(9); // 9: x, y

/** The events of {@link mixed} with their previous key-values. */
const MIXED: NEvent[] = [
  { type: 'put', kv: kv('a', '1', 2, 2, 1), subRevision: 0 },
  { type: 'put', kv: kv('b', '1', 3, 3, 1), subRevision: 0 },
  { type: 'put', kv: kv('a', '2', 2, 4, 2), prevKv: kv('a', '1', 2, 2, 1), subRevision: 0 },
  { type: 'delete', kv: tomb('a', 5), prevKv: kv('a', '2', 2, 4, 2), subRevision: 0 },
  { type: 'delete', kv: tomb('b', 5), prevKv: kv('b', '1', 3, 3, 1), subRevision: 1 },
  { type: 'put', kv: kv('w', 'w', 6, 6, 1), subRevision: 0 },
  { type: 'put', kv: kv('x', '1', 7, 7, 1, 9), subRevision: 0 },
  { type: 'put', kv: kv('a', '3', 7, 7, 1), subRevision: 1 },
  { type: 'delete', kv: tomb('w', 7), prevKv: kv('w', 'w', 6, 6, 1), subRevision: 2 },
  { type: 'put', kv: kv('y', 'v', 8, 8, 1, 9), subRevision: 0 },
  { type: 'delete', kv: tomb('x', 9), prevKv: kv('x', '1', 7, 7, 1, 9), subRevision: 0 },
  { type: 'delete', kv: tomb('y', 9), prevKv: kv('y', 'v', 8, 8, 1, 9), subRevision: 1 },
];

function withoutPrev(list: NEvent[]): NEvent[] {
  return list.map(({ prevKv: _, ...rest }) => rest);
}

describe.each(ENGINE_KINDS)('batch events (%s engine)', (kind) => {
  it('mode 0 (the default) lists nothing', () => {
    const e = fresh(kind);
    expect(events(e, EventsMode.NONE, mixed)).toEqual([]);
    const w = new BatchWriter().put('z', '1');
    expect(e.applyBatch(w.peek()).events()).toEqual([]);
  });

  it('mode 1 lists every change in revision then sub-revision order, without previous values', () => {
    expect(events(fresh(kind), EventsMode.EVENTS, mixed)).toEqual(withoutPrev(MIXED));
  });

  it('mode 2 adds the key as it was before each change, when it existed', () => {
    expect(events(fresh(kind), EventsMode.EVENTS_WITH_PREV, mixed)).toEqual(MIXED);
  });

  it('the mode does not change results or state', () => {
    const outcomes = [EventsMode.NONE, EventsMode.EVENTS, EventsMode.EVENTS_WITH_PREV].map((mode) => {
      const e = fresh(kind);
      const w = new BatchWriter();
      mixed(w);
      const r = e.applyBatch(w.peek(), mode);
      return { results: results(r), revision: r.revision, size: e.size };
    });
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[2]).toEqual(outcomes[0]);
  });

  it('events() can be read more than once', () => {
    const e = fresh(kind);
    const w = new BatchWriter().put('a', '1').put('a', '2');
    const r = e.applyBatch(w.peek(), EventsMode.EVENTS_WITH_PREV);
    expect(r.events().map(nevent)).toEqual(r.events().map(nevent));
    expect(r.events()).toHaveLength(2);
  });

  it('a put event after a delete has no prevKv (the key did not exist); ignoreValue and ignoreLease events carry the kept fields', () => {
    // j: put with lease 3 (4); ignoreValue without a lease keeps the value and detaches (6); ignoreLease keeps lease 0 (7).
    const e = fresh(kind);
    run0(e, (w) => w.leaseGrant(3, 60).put('k', 'v', { lease: 3 }).deleteRange('k').put('j', 'old', { lease: 3 })); // 2, 3, 4
    expect(
      events(e, EventsMode.EVENTS_WITH_PREV, (w) =>
        w.put('k', 'new', { prevKv: true }).put('j', '', { ignoreValue: true }).put('j', 'new', { ignoreLease: true }),
      ),
    ).toEqual([
      { type: 'put', kv: kv('k', 'new', 5, 5, 1), subRevision: 0 },
      { type: 'put', kv: kv('j', 'old', 4, 6, 2), prevKv: kv('j', 'old', 4, 4, 1, 3), subRevision: 0 },
      { type: 'put', kv: kv('j', 'new', 4, 7, 3), prevKv: kv('j', 'old', 4, 6, 2), subRevision: 0 },
    ]);
  });

  it('failed ops, failed txns, no-op deletes and reads make no events', () => {
    const e = fresh(kind);
    run0(e, (w) => w.put('a', '1'));
    expect(
      events(e, EventsMode.EVENTS_WITH_PREV, (w) =>
        w
          .put('a', '2', { lease: 4 })
          .txn([], (s) => s.put('b', '1').put('c', '1', { lease: 4 }), none)
          .txn([{ key: 'a', target: 0, result: 0, operand: 99 }], (s) => s.put('b', '1'), none)
          .deleteRange('zz')
          .range('a')
          .leaseGrant(0, 10)
          .leaseRevoke(1)
          .compact(2)
          .compact(2),
      ),
    ).toEqual([]);
  });

  it('a compaction inside the batch does not cut its events or their previous values', () => {
    const e = fresh(kind);
    expect(
      events(e, EventsMode.EVENTS_WITH_PREV, (w) => w.put('k', '1').put('k', '2').compact(3).put('k', '3').deleteRange('k').compact(5).put('k', '4')),
    ).toEqual([
      { type: 'put', kv: kv('k', '1', 2, 2, 1), subRevision: 0 },
      { type: 'put', kv: kv('k', '2', 2, 3, 2), prevKv: kv('k', '1', 2, 2, 1), subRevision: 0 },
      { type: 'put', kv: kv('k', '3', 2, 4, 3), prevKv: kv('k', '2', 2, 3, 2), subRevision: 0 },
      { type: 'delete', kv: tomb('k', 5), prevKv: kv('k', '3', 2, 4, 3), subRevision: 0 },
      { type: 'put', kv: kv('k', '4', 6, 6, 1), subRevision: 0 },
    ]);
  });

  it('binary keys and values, empty values', () => {
    const e = fresh(kind);
    expect(
      events(e, EventsMode.EVENTS_WITH_PREV, (w) =>
        w
          .put(b([0x00, 0xff]), b([]))
          .put(b([0x00, 0xff]), b([0x80]))
          .deleteRange(b([0x00]), Z),
      ),
    ).toEqual([
      { type: 'put', kv: kv('hex:00ff', '', 2, 2, 1), subRevision: 0 },
      { type: 'put', kv: kv('hex:00ff', 'hex:80', 2, 3, 2), prevKv: kv('hex:00ff', '', 2, 2, 1), subRevision: 0 },
      { type: 'delete', kv: tomb('hex:00ff', 4), prevKv: kv('hex:00ff', 'hex:80', 2, 3, 2), subRevision: 0 },
    ]);
  });
});

function run0(e: Engine, build: (w: BatchWriter) => void): void {
  const w = new BatchWriter();
  build(w);
  e.applyBatch(w.peek());
}

describe.each(ENGINE_KINDS)('changes(): history replay (%s engine)', (kind) => {
  function replayed(): Engine {
    const e = fresh(kind);
    run0(e, mixed);
    return e;
  }

  it('from the start: every retained change, as the batch listed them', () => {
    const e = replayed();
    expect(e.changes(0, Z, Z, true).map(nevent)).toEqual(MIXED);
    expect(e.changes(1, Z, Z, false).map(nevent)).toEqual(withoutPrev(MIXED));
  });

  it.each([2, 4, 5, 6, 7, 8, 9, 10])('from revision %i: the changes at and after it', (from) => {
    const e = replayed();
    expect(e.changes(from, Z, Z, true).map(nevent)).toEqual(MIXED.filter((ev) => ev.kv.modRevision >= from));
  });

  it.each<[string, Uint8Array, Uint8Array, string[]]>([
    ['a single key', b('a'), NONE, ['a', 'a', 'a', 'a']],
    ['a key with no history', b('q'), NONE, []],
    ['an interval', b('b'), b('y'), ['b', 'b', 'w', 'x', 'w', 'x']],
    ['from a key on', b('x'), Z, ['x', 'y', 'x', 'y']],
    ['an empty interval', b('y'), b('b'), []],
  ])('%s', (_name, key, end, keys) => {
    const e = replayed();
    const list = e.changes(0, key, end, true).map(nevent);
    expect(list.map((ev) => ev.kv.key)).toEqual(keys);
    expect(list).toEqual(MIXED.filter((ev) => keys.includes(ev.kv.key)));
  });

  it('the replay of every batch equals the events the batches reported', () => {
    const e = fresh(kind);
    const reported: NEvent[] = [];
    const w = new BatchWriter();
    for (let i = 0; i < 40; i++) {
      w.reset();
      w.put(`k${i % 5}`, `v${i}`).put(`k${(i * 3) % 7}`, `w${i}`);
      if (i % 4 === 0) w.deleteRange('k2', 'k5');
      if (i % 6 === 0) w.txn([], (s) => s.put(`t${i % 3}`, 't').deleteRange('k0'), none);
      reported.push(...e.applyBatch(w.peek(), EventsMode.EVENTS_WITH_PREV).events().map(nevent));
    }
    expect(e.changes(0, Z, Z, true).map(nevent)).toEqual(reported);
    const from = reported[reported.length >> 1]!.kv.modRevision;
    expect(e.changes(from, b('k'), b('l'), true).map(nevent)).toEqual(reported.filter((ev) => ev.kv.modRevision >= from && ev.kv.key.startsWith('k')));
  });

  it('below the compacted revision: ERR_COMPACTED; at it: served, a delete there included', () => {
    const e = replayed();
    run0(e, (w) => w.compact(5));
    for (const from of [-1, 0, 4]) expect({ from, code: catchSync(() => e.changes(from, Z, Z, false)).code }).toEqual({ from, code: 'ERR_COMPACTED' });
    // The deletions at 5 stay; the versions before them are gone, and with them their prevKv.
    const list = e.changes(5, Z, Z, true).map(nevent);
    expect(list).toEqual(
      MIXED.filter((ev) => ev.kv.modRevision >= 5).map((ev) => (ev.prevKv !== undefined && ev.prevKv.modRevision < 5 ? withoutPrev([ev])[0]! : ev)),
    );
    // A later replay whose previous version was compacted away reports none.
    run0(e, (w) => w.put('b', '2').compact(6));
    expect(e.changes(10, b('b'), NONE, true).map(nevent)).toEqual([{ type: 'put', kv: kv('b', '2', 10, 10, 1), subRevision: 0 }]);
  });

  it('a fresh store: nothing, from any revision down to the compacted revision −1', () => {
    const e = fresh(kind);
    expect(e.changes(-1, Z, Z, true)).toEqual([]);
    expect(e.changes(0, Z, Z, true)).toEqual([]);
    expect(e.changes(5, Z, Z, true)).toEqual([]);
    expect(catchSync(() => e.changes(-2, Z, Z, true)).code).toBe('ERR_COMPACTED');
  });

  it('replayed prevKv is the previous version while history has it', () => {
    const e = fresh(kind);
    run0(e, (w) => w.put('k', '1').put('k', '2').put('k', '3')); // 2, 3, 4
    run0(e, (w) => w.compact(3));
    expect(e.changes(3, b('k'), NONE, true).map(nevent)).toEqual([
      { type: 'put', kv: kv('k', '2', 2, 3, 2), subRevision: 0 }, // its previous version (2) is compacted
      { type: 'put', kv: kv('k', '3', 2, 4, 3), prevKv: kv('k', '2', 2, 3, 2), subRevision: 0 },
    ]);
  });
});

/**
 * A point the spec leaves open (reported): which previous key-value an event carries when one txn
 * changed the key twice (a put, then a from-key delete over it: etcd's interval quirk). etcd reads
 * the previous key-value at modRevision − 1 (and sends none for a create), so the DELETE carries
 * the key as it was before the txn, not the put of the same txn; the JS engine does the same.
 */
describe.each(ENGINE_KINDS)('spec question: prevKv of a key changed twice in one revision (%s engine)', (kind) => {
  it('the DELETE after a put of the same txn carries the key as it was before the txn', () => {
    const e = fresh(kind);
    run0(e, (w) => w.put('k', 'old').put('n', 'x')); // 2, 3
    const w = new BatchWriter().txn([], (s) => s.put('k', 'mid').put('m', 'new').deleteRange('k', Z), none); // 4
    const expected: NEvent[] = [
      { type: 'put', kv: kv('k', 'mid', 2, 4, 2), prevKv: kv('k', 'old', 2, 2, 1), subRevision: 0 },
      { type: 'put', kv: kv('m', 'new', 4, 4, 1), subRevision: 1 },
      { type: 'delete', kv: tomb('k', 4), prevKv: kv('k', 'old', 2, 2, 1), subRevision: 2 },
      { type: 'delete', kv: tomb('m', 4), subRevision: 3 }, // created in the same txn: nothing at revision 3
      { type: 'delete', kv: tomb('n', 4), prevKv: kv('n', 'x', 3, 3, 1), subRevision: 4 },
    ];
    expect(e.applyBatch(w.peek(), EventsMode.EVENTS_WITH_PREV).events().map(nevent)).toEqual(expected);
    expect(e.changes(4, Z, Z, true).map(nevent)).toEqual(expected);
  });
});
