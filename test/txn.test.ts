/**
 * TXN at engine level (docs/codec.md "TXN" and "Compare"; docs/etcd-semantics.md §2.6, §5 items 3, 6
 * and 7): one revision per changing txn with sub-revisions in execution order, the per-op header
 * revision rule, nested txns, the compare matrix, static validation (op budget, duplicate keys)
 * and the taken-path checks on the state before the txn.
 */

import { describe, expect, it } from 'vitest';
import { BatchWriter, type CompareFields } from '../ts/codec.js';
import type { EngineKind } from '../ts/engines/create-engine.js';
import type { ErrorCode } from '../ts/errors.js';
import { CompareResult as R, CompareTarget as T, EventsMode, type Engine } from '../ts/types.js';
import { ENGINE_KINDS, engineFactory } from './engines.js';
import { b, catchSync, dump, kv, nevent, rangeOp, results, tomb, type NResult } from './helpers.js';

/** The range end [0x00]: every key from the start key on. */
const Z = new Uint8Array([0]);

const fresh = engineFactory();

type Build = (w: BatchWriter) => void;

/** Applies one batch written by `build`; returns the normalised results. */
function run(e: Engine, build: Build): NResult[] {
  const w = new BatchWriter();
  build(w);
  return results(e.applyBatch(w.peek()));
}

/** The code (and op index) a batch written by `build` is rejected with. */
function rejected(e: Engine, build: Build): { code: ErrorCode; opIndex: number | undefined } {
  const w = new BatchWriter();
  build(w);
  const err = catchSync(() => e.applyBatch(w.peek()));
  return { code: err.code, opIndex: err.opIndex };
}

const none: Build = () => {};

/** A store at revision 4: a=1 (rev 2), b=2 (rev 3), a=3 (rev 4; a: create 2, version 2). */
function seeded(kind: EngineKind): Engine {
  const e = fresh(kind);
  run(e, (w) => w.put('a', '1').put('b', '2').put('a', '3'));
  return e;
}

describe.each(ENGINE_KINDS)('txn (%s engine)', (kind) => {
  describe('revisions', () => {
    it('three writes take one revision; per-op headers show the old revision before the first change and the new one from it on', () => {
      const e = seeded(kind);
      const w = new BatchWriter();
      w.txn([], (s) => s.range('a').deleteRange('zz').put('c', '1').range('c').deleteRange('b').put('d', '2', { prevKv: true }), none);
      const r = e.applyBatch(w.peek(), EventsMode.EVENTS);
      expect(results(r)).toEqual([
        {
          type: 'txn',
          revision: 5,
          succeeded: true,
          responses: [
            { type: 'range', revision: 4, count: 1, more: false, kvs: [kv('a', '3', 2, 4, 2)] },
            { type: 'deleteRange', revision: 4, deleted: 0, prevKvs: [] },
            { type: 'put', revision: 5 },
            { type: 'range', revision: 5, count: 1, more: false, kvs: [kv('c', '1', 5, 5, 1)] },
            { type: 'deleteRange', revision: 5, deleted: 1, prevKvs: [] },
            { type: 'put', revision: 5 },
          ],
        },
      ]);
      expect(r.revision).toBe(5);
      expect(r.events().map(nevent)).toEqual([
        { type: 'put', kv: kv('c', '1', 5, 5, 1), subRevision: 0 },
        { type: 'delete', kv: tomb('b', 5), subRevision: 1 },
        { type: 'put', kv: kv('d', '2', 5, 5, 1), subRevision: 2 },
      ]);
      expect(dump(e)).toEqual({ revision: 5, size: 3, kvs: [kv('a', '3', 2, 4, 2), kv('c', '1', 5, 5, 1), kv('d', '2', 5, 5, 1)] });
    });

    it.each<[string, Build]>([
      ['an empty success branch', (w) => w.txn([], none, none)],
      ['a read-only branch', (w) => w.txn([], (s) => s.range('a').range('a', { rangeEnd: Z }), none)],
      ['deletes that match nothing', (w) => w.txn([], (s) => s.deleteRange('x').deleteRange('m', 'p'), none)],
      [
        'a failed compare with an empty failure branch',
        (w) => w.txn([{ key: 'a', target: T.VALUE, result: R.EQUAL, value: 'nope' }], (s) => s.put('z', 'z'), none),
      ],
      ['a nested read-only txn', (w) => w.txn([], (s) => s.txn([], (n) => n.range('b'), none), none)],
    ])('%s does not bump the revision', (_name, build) => {
      const e = seeded(kind);
      const before = dump(e);
      const [r] = run(e, build);
      expect(r).toMatchObject({ type: 'txn', revision: 4 });
      expect(dump(e)).toEqual(before);
    });

    it('every txn result of a batch reports its own revision; ops after a txn get the next one', () => {
      const e = fresh(kind);
      expect(
        run(e, (w) =>
          w
            .txn([], (s) => s.put('a', '1').put('b', '1'), none)
            .txn([], (s) => s.range('a'), none)
            .put('c', '1')
            .txn([], (s) => s.deleteRange('a', 'c'), none),
        ),
      ).toEqual([
        {
          type: 'txn',
          revision: 2,
          succeeded: true,
          responses: [
            { type: 'put', revision: 2 },
            { type: 'put', revision: 2 },
          ],
        },
        { type: 'txn', revision: 2, succeeded: true, responses: [{ type: 'range', revision: 2, count: 1, more: false, kvs: [kv('a', '1', 2, 2, 1)] }] },
        { type: 'put', revision: 3 },
        { type: 'txn', revision: 4, succeeded: true, responses: [{ type: 'deleteRange', revision: 4, deleted: 2, prevKvs: [] }] },
      ]);
    });

    it('nested txns: one revision for the whole tree; a nested result shows the revision after it ran', () => {
      const e = seeded(kind);
      const w = new BatchWriter();
      w.txn(
        [{ key: 'a', target: T.VERSION, result: R.EQUAL, operand: 2 }],
        (s) =>
          s
            .txn([], (n) => n.range('a'), none) // before any change: revision 4
            .txn(
              [{ key: 'b', target: T.VALUE, result: R.EQUAL, value: 'x' }],
              (n) => n.put('x', 'then'),
              (n) => n.put('y', 'else').range('y'),
            )
            .txn([], (n) => n.txn([], (m) => m.put('z', '1'), none), none)
            .range('a', { rangeEnd: Z, countOnly: true }),
        (f) => f.put('never', '1'),
      );
      const r = e.applyBatch(w.peek(), EventsMode.EVENTS);
      expect(results(r)).toEqual([
        {
          type: 'txn',
          revision: 5,
          succeeded: true,
          responses: [
            { type: 'txn', revision: 4, succeeded: true, responses: [{ type: 'range', revision: 4, count: 1, more: false, kvs: [kv('a', '3', 2, 4, 2)] }] },
            {
              type: 'txn',
              revision: 5,
              succeeded: false,
              responses: [
                { type: 'put', revision: 5 },
                { type: 'range', revision: 5, count: 1, more: false, kvs: [kv('y', 'else', 5, 5, 1)] },
              ],
            },
            {
              type: 'txn',
              revision: 5,
              succeeded: true,
              responses: [{ type: 'txn', revision: 5, succeeded: true, responses: [{ type: 'put', revision: 5 }] }],
            },
            { type: 'range', revision: 5, count: 4, more: false, kvs: [] },
          ],
        },
      ]);
      expect(r.events().map((ev) => [ev.type, ev.subRevision, ev.kv.modRevision])).toEqual([
        ['put', 0, 5],
        ['put', 1, 5],
      ]);
    });

    it('prevKv of puts and deletes inside a txn', () => {
      const e = seeded(kind);
      expect(run(e, (w) => w.txn([], (s) => s.put('a', 'new', { prevKv: true }).put('n', 'new', { prevKv: true }).deleteRange('b', 'c', true), none))).toEqual([
        {
          type: 'txn',
          revision: 5,
          succeeded: true,
          responses: [
            { type: 'put', revision: 5, prevKv: kv('a', '3', 2, 4, 2) },
            { type: 'put', revision: 5 },
            { type: 'deleteRange', revision: 5, deleted: 1, prevKvs: [kv('b', '2', 3, 3, 1)] },
          ],
        },
      ]);
    });

    it('ops see the earlier writes of the txn; a range at the pre-txn revision sees the state before it', () => {
      const e = seeded(kind);
      expect(
        run(e, (w) =>
          w.txn(
            [],
            (s) =>
              s
                .put('b', 'B')
                .range('b')
                .range('b', { revision: 4 })
                .range('b', { revision: 3 })
                .deleteRange('a')
                .range('a', { rangeEnd: b('z') }),
            none,
          ),
        ),
      ).toEqual([
        {
          type: 'txn',
          revision: 5,
          succeeded: true,
          responses: [
            { type: 'put', revision: 5 },
            { type: 'range', revision: 5, count: 1, more: false, kvs: [kv('b', 'B', 3, 5, 2)] },
            { type: 'range', revision: 5, count: 1, more: false, kvs: [kv('b', '2', 3, 3, 1)] },
            { type: 'range', revision: 5, count: 1, more: false, kvs: [kv('b', '2', 3, 3, 1)] },
            { type: 'deleteRange', revision: 5, deleted: 1, prevKvs: [] },
            { type: 'range', revision: 5, count: 1, more: false, kvs: [kv('b', 'B', 3, 5, 2)] },
          ],
        },
      ]);
    });

    it("a from-key delete then a put of a key it removed (etcd's interval quirk): two versions of the key in one revision", () => {
      const e = seeded(kind);
      const w = new BatchWriter();
      w.txn([], (s) => s.deleteRange('a', Z, true).put('b', 'again', { prevKv: true }), none);
      const r = e.applyBatch(w.peek(), EventsMode.EVENTS_WITH_PREV);
      expect(results(r)).toEqual([
        {
          type: 'txn',
          revision: 5,
          succeeded: true,
          responses: [
            { type: 'deleteRange', revision: 5, deleted: 2, prevKvs: [kv('a', '3', 2, 4, 2), kv('b', '2', 3, 3, 1)] },
            { type: 'put', revision: 5 }, // b was gone when the put ran: no prevKv
          ],
        },
      ]);
      expect(r.events().map(nevent)).toEqual([
        { type: 'delete', kv: tomb('a', 5), prevKv: kv('a', '3', 2, 4, 2), subRevision: 0 },
        { type: 'delete', kv: tomb('b', 5), prevKv: kv('b', '2', 3, 3, 1), subRevision: 1 },
        { type: 'put', kv: kv('b', 'again', 5, 5, 1), subRevision: 2 },
      ]);
      expect(dump(e)).toEqual({ revision: 5, size: 1, kvs: [kv('b', 'again', 5, 5, 1)] });
      // History orders the two versions of b by sub-revision: at 5 the put is the newest.
      expect(e.range(rangeOp('b', { revision: 5 })).kvs.map((x) => x.version)).toEqual([1]);
      expect(e.changes(5, new TextEncoder().encode('b'), new Uint8Array(0), false).map((ev) => [ev.type, ev.subRevision])).toEqual([
        ['delete', 1],
        ['put', 2],
      ]);
    });
  });

  describe('compares (etcd compareKV on the state before the txn)', () => {
    // State: a = "3" (create 2, mod 4, version 2, lease 0); b = "2" (create 3, mod 3, version 1); c missing.
    type Row = [string, CompareFields, boolean];
    const rows: Row[] = [];
    const targets: Array<[string, T, number, number]> = [
      // name, target, a's value of it, operand compared against
      ['VERSION', T.VERSION, 2, 2],
      ['CREATE', T.CREATE, 2, 2],
      ['MOD', T.MOD, 4, 4],
      ['LEASE', T.LEASE, 0, 0],
    ];
    for (const [name, target, , operand] of targets) {
      rows.push(
        [`${name} = ${operand} on a`, { key: 'a', target, result: R.EQUAL, operand }, true],
        [`${name} != ${operand} on a`, { key: 'a', target, result: R.NOT_EQUAL, operand }, false],
        [`${name} > ${operand - 1} on a`, { key: 'a', target, result: R.GREATER, operand: operand - 1 }, true],
        [`${name} > ${operand} on a`, { key: 'a', target, result: R.GREATER, operand }, false],
        [`${name} < ${operand + 1} on a`, { key: 'a', target, result: R.LESS, operand: operand + 1 }, true],
        [`${name} < ${operand} on a`, { key: 'a', target, result: R.LESS, operand }, false],
        // A missing key compares as a zero KeyValue.
        [`${name} = 0 on missing c`, { key: 'c', target, result: R.EQUAL, operand: 0 }, true],
        [`${name} < 1 on missing c`, { key: 'c', target, result: R.LESS, operand: 1 }, true],
        [`${name} > -1 on missing c`, { key: 'c', target, result: R.GREATER, operand: -1 }, true],
        [`${name} != 0 on missing c`, { key: 'c', target, result: R.NOT_EQUAL, operand: 0 }, false],
      );
    }
    rows.push(
      ['VALUE = "3" on a', { key: 'a', target: T.VALUE, result: R.EQUAL, value: '3' }, true],
      ['VALUE != "3" on a', { key: 'a', target: T.VALUE, result: R.NOT_EQUAL, value: '3' }, false],
      ['VALUE > "2" on a', { key: 'a', target: T.VALUE, result: R.GREATER, value: '2' }, true],
      ['VALUE > "30" on a (bytewise, shorter first)', { key: 'a', target: T.VALUE, result: R.GREATER, value: '30' }, false],
      ['VALUE < "30" on a', { key: 'a', target: T.VALUE, result: R.LESS, value: '30' }, true],
      ['VALUE < "" on a', { key: 'a', target: T.VALUE, result: R.LESS, value: '' }, false],
      // VALUE on a missing key is false whatever the operator.
      ['VALUE = "" on missing c', { key: 'c', target: T.VALUE, result: R.EQUAL, value: '' }, false],
      ['VALUE != "x" on missing c', { key: 'c', target: T.VALUE, result: R.NOT_EQUAL, value: 'x' }, false],
      ['VALUE < "x" on missing c', { key: 'c', target: T.VALUE, result: R.LESS, value: 'x' }, false],
      ['VALUE > "" on missing c', { key: 'c', target: T.VALUE, result: R.GREATER, value: '' }, false],
      // Over a range every key must satisfy it.
      ['MOD > 0 over [a, c)', { key: 'a', rangeEnd: 'c', target: T.MOD, result: R.GREATER, operand: 0 }, true],
      ['MOD > 3 over [a, c): b has mod 3', { key: 'a', rangeEnd: 'c', target: T.MOD, result: R.GREATER, operand: 3 }, false],
      ['VERSION < 3 over from-key a', { key: 'a', rangeEnd: Z, target: T.VERSION, result: R.LESS, operand: 3 }, true],
      ['VALUE > "1" over [a, c)', { key: 'a', rangeEnd: 'c', target: T.VALUE, result: R.GREATER, value: '1' }, true],
      ['VALUE = "3" over [a, c): b is "2"', { key: 'a', rangeEnd: 'c', target: T.VALUE, result: R.EQUAL, value: '3' }, false],
      ['CREATE = 3 over [b, z)', { key: 'b', rangeEnd: 'z', target: T.CREATE, result: R.EQUAL, operand: 3 }, true],
      // An empty range compares the zero KeyValue, and VALUE on it is false.
      ['VERSION = 0 over empty [c, z)', { key: 'c', rangeEnd: 'z', target: T.VERSION, result: R.EQUAL, operand: 0 }, true],
      ['MOD = 0 over inverted [b, a)', { key: 'b', rangeEnd: 'a', target: T.MOD, result: R.EQUAL, operand: 0 }, true],
      ['LEASE != 0 over empty [c, z)', { key: 'c', rangeEnd: 'z', target: T.LEASE, result: R.NOT_EQUAL, operand: 0 }, false],
      ['VALUE = "" over empty [c, z)', { key: 'c', rangeEnd: 'z', target: T.VALUE, result: R.EQUAL, value: '' }, false],
      ['VALUE != "" over empty [c, z)', { key: 'c', rangeEnd: 'z', target: T.VALUE, result: R.NOT_EQUAL, value: '' }, false],
      // An unset operand compares against 0 / the empty value.
      ['unset operand: VERSION > 0 on a', { key: 'a', target: T.VERSION, result: R.GREATER }, true],
      ['unset value: VALUE > "" on a', { key: 'a', target: T.VALUE, result: R.GREATER }, true],
    );

    it.each(rows.map(([name, compare, expected]) => [name, expected, compare] as const))('%s → %s', (_name, expected, compare) => {
      const e = seeded(kind);
      const [r] = run(e, (w) =>
        w.txn(
          [compare],
          (s) => s.range('then'),
          (f) => f.range('else'),
        ),
      );
      expect(r).toMatchObject({ type: 'txn', succeeded: expected });
    });

    it('compares are a conjunction; an empty compare list succeeds', () => {
      const e = seeded(kind);
      const a3: CompareFields = { key: 'a', target: T.VALUE, result: R.EQUAL, value: '3' };
      const b1: CompareFields = { key: 'b', target: T.VERSION, result: R.EQUAL, operand: 1 };
      const bad: CompareFields = { key: 'b', target: T.VERSION, result: R.EQUAL, operand: 7 };
      const outcomes = run(e, (w) => w.txn([a3, b1], none, none).txn([a3, bad, b1], none, none).txn([], none, none));
      expect(outcomes.map((r) => r.type === 'txn' && r.succeeded)).toEqual([true, false, true]);
    });

    it('lease compares see the lease a key is attached to', () => {
      const e = fresh(kind);
      run(e, (w) => w.leaseGrant(7, 60).put('k', 'v', { lease: 7 }));
      const outcomes = run(e, (w) =>
        w
          .txn([{ key: 'k', target: T.LEASE, result: R.EQUAL, operand: 7 }], none, none)
          .txn([{ key: 'k', target: T.LEASE, result: R.GREATER, operand: 6 }], none, none)
          .txn([{ key: 'k', target: T.LEASE, result: R.EQUAL, operand: 0 }], none, none),
      );
      expect(outcomes.map((r) => r.type === 'txn' && r.succeeded)).toEqual([true, true, false]);
    });

    it("nested compares are evaluated on the state before the txn, not after the parent's earlier writes", () => {
      const e = seeded(kind);
      const [r] = run(e, (w) =>
        w.txn(
          [],
          (s) =>
            s.put('c', 'new').txn(
              [{ key: 'c', target: T.VERSION, result: R.EQUAL, operand: 0 }],
              (n) => n.put('seen-missing', '1'),
              (n) => n.put('seen-new', '1'),
            ),
          none,
        ),
      );
      expect(r).toMatchObject({ type: 'txn', revision: 5, responses: [{ type: 'put' }, { type: 'txn', succeeded: true }] });
      expect(e.get(new TextEncoder().encode('seen-missing'))).toBeDefined();
    });
  });

  describe('taken-path checks (state before the txn; the first failure is the whole op, nothing applies)', () => {
    type Row = [string, Build, ErrorCode | null];
    const rows: Row[] = [
      ['a put with a missing lease in the taken branch', (w) => w.txn([], (s) => s.put('x', '1').put('y', '1', { lease: 99 }), none), 'ERR_LEASE_NOT_FOUND'],
      [
        'a put with a missing lease in the branch not taken',
        (w) =>
          w.txn(
            [],
            (s) => s.put('x', '1'),
            (f) => f.put('y', '1', { lease: 99 }),
          ),
        null,
      ],
      ['ignoreValue on a missing key', (w) => w.txn([], (s) => s.put('x', '1').put('c', '', { ignoreValue: true }), none), 'ERR_KEY_NOT_FOUND'],
      ['ignoreLease on a missing key', (w) => w.txn([], (s) => s.put('c', 'v', { ignoreLease: true }), none), 'ERR_KEY_NOT_FOUND'],
      [
        'ignoreValue on a key the txn creates first (checked before the txn)',
        (w) => w.txn([], (s) => s.txn([], (n) => n.put('c', '1'), none).put('d', '', { ignoreValue: true }), none),
        'ERR_KEY_NOT_FOUND',
      ],
      ['ignoreValue on an existing key', (w) => w.txn([], (s) => s.put('a', '', { ignoreValue: true }), none), null],
      ['a range at a future revision', (w) => w.txn([], (s) => s.put('x', '1').range('a', { revision: 5 }), none), 'ERR_FUTURE_REV'],
      ['a range at the current revision', (w) => w.txn([], (s) => s.put('x', '1').range('a', { revision: 4 }), none), null],
      ['a range at a compacted revision', (w) => w.compact(3).txn([], (s) => s.put('x', '1').range('a', { revision: 2 }), none), 'ERR_COMPACTED'],
      ['a range at the compacted revision', (w) => w.compact(3).txn([], (s) => s.put('x', '1').range('a', { revision: 3 }), none), null],
      [
        'a failure deep in a nested taken branch',
        (w) => w.txn([], (s) => s.put('x', '1').txn([], (n) => n.txn([], none, none).put('y', '1', { lease: 5 }), none), none),
        'ERR_LEASE_NOT_FOUND',
      ],
      [
        'a nested txn whose failing branch is not taken',
        (w) =>
          w.txn(
            [],
            (s) =>
              s.txn(
                [{ key: 'a', target: T.VERSION, result: R.EQUAL, operand: 2 }],
                (n) => n.put('y', '1'),
                (n) => n.put('z', '1', { lease: 5 }),
              ),
            none,
          ),
        null,
      ],
      [
        'the first failure in op order, depth first, decides',
        (w) => w.txn([], (s) => s.txn([], (n) => n.range('a', { revision: 9 }), none).put('c', '', { ignoreValue: true }), none),
        'ERR_FUTURE_REV',
      ],
      [
        'ignoreValue and a missing lease on one missing key: key first',
        (w) => w.txn([], (s) => s.put('c', '', { ignoreValue: true, lease: 9 }), none),
        'ERR_KEY_NOT_FOUND',
      ],
    ];

    it.each(rows)('%s → %s', (_name, build, code) => {
      const e = seeded(kind);
      const before = dump(e);
      const last = run(e, build).at(-1)!;
      if (code === null) {
        expect(last).toMatchObject({ type: 'txn' });
        expect(e.revision).toBeGreaterThan(before.revision);
      } else {
        expect(last).toEqual({ type: 'error', revision: before.revision, code });
        expect(dump(e)).toEqual(before);
      }
    });

    it('a failed txn leaves the other ops of its batch applying normally', () => {
      const e = seeded(kind);
      expect(
        run(e, (w) =>
          w
            .put('x', '1')
            .txn([], (s) => s.put('y', '1').put('z', '1', { lease: 3 }), none)
            .put('x', '2'),
        ),
      ).toEqual([
        { type: 'put', revision: 5 },
        { type: 'error', revision: 5, code: 'ERR_LEASE_NOT_FOUND' },
        { type: 'put', revision: 6 },
      ]);
      expect(e.get(new TextEncoder().encode('y'))).toBeUndefined();
    });
  });

  describe('static validation: the whole batch is rejected', () => {
    const put = (k: string) => (w: BatchWriter) => void w.put(k, 'v');
    const puts = (n: number) => (w: BatchWriter) => {
      for (let i = 0; i < n; i++) w.put(`k${i}`, 'v');
    };
    const cmp = (n: number): CompareFields[] => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, target: T.VERSION, result: R.EQUAL }));
    type Row = [string, Build, ErrorCode | null, number?];
    const rows: Row[] = [
      // Duplicate keys (etcd checkIntervals).
      ['two puts of one key in a branch', (w) => w.txn([], (s) => s.put('a', '1').put('a', '2'), none), 'ERR_DUPLICATE_KEY'],
      ['the same key put in success and in failure', (w) => w.txn([], put('a'), put('a')), null],
      ['a put inside a delete range of the same branch', (w) => w.txn([], (s) => s.deleteRange('a', 'c').put('b', '1'), none), 'ERR_DUPLICATE_KEY'],
      ['a put before a delete of the same key', (w) => w.txn([], (s) => s.put('b', '1').deleteRange('b'), none), 'ERR_DUPLICATE_KEY'],
      ['a put at the end of a delete range (exclusive)', (w) => w.txn([], (s) => s.deleteRange('a', 'c').put('c', '1'), none), null],
      ['a nested put vs a parent put', (w) => w.txn([], (s) => s.put('a', '1').txn([], put('a'), none), none), 'ERR_DUPLICATE_KEY'],
      ['a nested put vs a parent delete', (w) => w.txn([], (s) => s.txn([], put('b'), none).deleteRange('a', 'z'), none), 'ERR_DUPLICATE_KEY'],
      ['a nested delete vs a later parent put', (w) => w.txn([], (s) => s.txn([], (n) => n.deleteRange('b'), none).put('b', '1'), none), 'ERR_DUPLICATE_KEY'],
      ['puts of one key in then and else of a nested txn', (w) => w.txn([], (s) => s.txn([], put('a'), put('a')), none), null],
      ['puts of one key in two sibling nested txns', (w) => w.txn([], (s) => s.txn([], put('a'), none).txn([], none, put('a')), none), 'ERR_DUPLICATE_KEY'],
      ['overlapping deletes', (w) => w.txn([], (s) => s.deleteRange('a', 'c').deleteRange('b', 'd').deleteRange('b'), none), null],
      [
        'ranges over put keys',
        (w) =>
          w.txn(
            [],
            (s) =>
              s
                .put('a', '1')
                .range('a')
                .range('a', { rangeEnd: b('z') }),
            none,
          ),
        null,
      ],
      ["a put after a from-key delete (etcd's interval quirk: no duplicate)", (w) => w.txn([], (s) => s.deleteRange('a', Z).put('b', '1'), none), null],
      ['a duplicate in the second op of the batch', (w) => w.put('x', '1').txn([], none, (f) => f.put('a', '1').put('a', '1')), 'ERR_DUPLICATE_KEY', 1],
      // Op budget (--max-txn-ops, default 128).
      ['128 ops in a branch', (w) => w.txn([], puts(128), none), null],
      ['129 ops in a branch', (w) => w.txn([], puts(129), none), 'ERR_TOO_MANY_OPS'],
      ['129 ops in the failure branch', (w) => w.txn([], none, puts(129)), 'ERR_TOO_MANY_OPS'],
      ['128 compares', (w) => w.txn(cmp(128), none, none), null],
      ['129 compares', (w) => w.txn(cmp(129), none, none), 'ERR_TOO_MANY_OPS'],
      ['a nested txn within the remaining budget (2 + 126)', (w) => w.txn([], (s) => s.put('x', '1').txn([], puts(126), none), none), null],
      ['a nested txn over the remaining budget (2 + 127)', (w) => w.txn([], (s) => s.put('x', '1').txn([], puts(127), none), none), 'ERR_TOO_MANY_OPS'],
      ['too many ops is checked before duplicates', (w) => w.txn([], (s) => s.put('k0', '1').put('k0', '1'), puts(129)), 'ERR_TOO_MANY_OPS'],
      // Compares.
      ['a compare with an empty key', (w) => w.txn([{ key: '', target: T.VERSION, result: R.EQUAL }], none, none), 'ERR_KEY_NOT_PROVIDED'],
      ['an empty key in a branch op', (w) => w.txn([], (s) => s.range(''), none), 'ERR_KEY_NOT_PROVIDED'],
      ['a lease op inside a txn branch', (w) => w.txn([], (s) => s.leaseGrant(1, 10), none), 'ERR_MALFORMED_BATCH'],
      ['a compact inside a txn branch', (w) => w.txn([], (s) => s.compact(1), none), 'ERR_MALFORMED_BATCH'],
    ];

    it.each(rows)('%s → %s', (_name, build, code, opIndex = 0) => {
      const e = seeded(kind);
      const before = dump(e);
      if (code === null) {
        expect(() => run(e, build)).not.toThrow();
      } else {
        expect(rejected(e, build)).toEqual({ code, opIndex });
        expect(dump(e)).toEqual(before);
      }
    });

    it('maxTxnOps sets the budget', () => {
      const e = fresh(kind, { maxTxnOps: 3 });
      expect(() => run(e, (w) => w.txn(cmp(3), puts(3), puts(3)))).not.toThrow();
      expect(rejected(e, (w) => w.txn([], puts(4), none)).code).toBe('ERR_TOO_MANY_OPS');
      expect(rejected(e, (w) => w.txn([], (s) => s.put('x', '1').txn([], puts(3), none), none)).code).toBe('ERR_TOO_MANY_OPS');
      expect(() => run(e, (w) => w.txn([], (s) => s.put('x', '1').txn([], puts(1), none), none))).not.toThrow(); // budget 3 − 2
    });

    it('a compare key over maxKeyBytes and a compare value over maxValueBytes', () => {
      const e = fresh(kind, { maxKeyBytes: 4, maxValueBytes: 4 });
      expect(rejected(e, (w) => w.txn([{ key: 'abcde', target: T.VERSION, result: R.EQUAL }], none, none)).code).toBe('ERR_KEY_TOO_LARGE');
      expect(rejected(e, (w) => w.txn([{ key: 'a', target: T.VALUE, result: R.EQUAL, value: 'abcde' }], none, none)).code).toBe('ERR_VALUE_TOO_LARGE');
    });
  });
});

/**
 * etcd's duplicate check lets a from-key delete through over a later IGNORE_* put of a key it
 * removes, and etcd then panics mid-apply; here the taken-path checks see the earlier deletes of
 * the path, so the whole TXN fails with ERR_KEY_NOT_FOUND and applies nothing.
 */
describe.each(ENGINE_KINDS)('IGNORE_* put of a key an earlier from-key delete of the txn removes (%s engine)', (kind) => {
  it.each<[string, Build]>([
    ['ignoreValue', (w) => w.txn([], (s) => s.deleteRange('a', Z).put('b', '', { ignoreValue: true }), none)],
    [
      'ignoreLease, the delete in an earlier nested txn',
      (w) => w.txn([], (s) => s.txn([], (n) => n.deleteRange('a', Z), none).put('b', 'v', { ignoreLease: true }), none),
    ],
    ['a key below the delete start is not removed: applies', (w) => w.txn([], (s) => s.deleteRange('b', Z).put('a', '', { ignoreValue: true }), none)],
  ])('%s', (name, build) => {
    const e = seeded(kind);
    const before = dump(e);
    const out = run(e, build);
    if (name.endsWith('applies')) {
      expect(out).toMatchObject([{ type: 'txn', revision: 5 }]);
    } else {
      expect(out).toEqual([{ type: 'error', revision: 4, code: 'ERR_KEY_NOT_FOUND' }]);
      expect(dump(e)).toEqual(before);
    }
  });
});
