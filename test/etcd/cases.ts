/**
 * Golden cases (docs/etcd-semantics.md §5, items 1–9 and 11, and item 10 as far as the engine's history
 * replay `changes()` goes). Each case is a script from a fresh store plus the expected normalized result
 * of every step, written from the rules (docs/etcd-semantics.md §2, docs/codec.md); golden.test.ts asserts
 * the same expectations on Debian's etcd and on both engines.
 */

import type { NError, NEvent, NKv, NLease, NRes, NTxn, NTxnResponse } from './normalize.js';
import { show } from './normalize.js';
import type { CompareStep, RangeStep, Step, TxnOpStep } from './script.js';

// ---------------------------------------------------------------------------------------------
// Builders of expected results.

/** The etcd the comparisons run against (named in skip reasons). */
export const DEBIAN_ETCD = 'Debian etcd 3.4.23';

export const ANY = Symbol('any result');
export type Expected = NRes | typeof ANY;

export function kv(key: string, value: string, createRevision: number, modRevision: number, version: number, lease: NLease = 0): NKv {
  return { key: show(key), value: show(value), createRevision, modRevision, version, lease };
}
/** The same kv as returned by a keys_only range. */
const keysOnly = (k: NKv): NKv => ({ ...k, value: '' });
const put = (revision: number, prevKv: NKv | null = null): NTxnResponse => ({ type: 'put', revision, prevKv });
const del = (revision: number, deleted: number, prevKvs: NKv[] = []): NTxnResponse => ({ type: 'deleteRange', revision, deleted, prevKvs });
const rng = (revision: number, count: number, kvs: NKv[], more = false): NTxnResponse => ({ type: 'range', revision, count, more, kvs });
const txn = (revision: number, succeeded: boolean, responses: NTxnResponse[]): NTxn => ({ type: 'txn', revision, succeeded, responses });
const grant = (revision: number, id: NLease, ttl: number): NRes => ({ type: 'leaseGrant', revision, id, ttl });
const revoke = (revision: number): NRes => ({ type: 'leaseRevoke', revision });
const compacted = (revision: number): NRes => ({ type: 'compact', revision });
const ttl = (found: boolean, grantedTtl: number, keys: string[] = []): NRes => ({ type: 'timeToLive', found, grantedTtl, keys });
const leases = (...ids: NLease[]): NRes => ({ type: 'leases', ids });
const watch = (events: NEvent[]): NRes => ({ type: 'watch', canceled: false, compactRevision: 0, events });
const watchCanceled = (compactRevision: number): NRes => ({ type: 'watch', canceled: true, compactRevision, events: [] });
const evPut = (k: NKv, prevKv: NKv | null = null): NEvent => ({ type: 'put', kv: k, prevKv });
/** A DELETE event: the key with modRevision = the deletion's revision, everything else zero/empty. */
const evDel = (key: string, revision: number, prevKv: NKv | null = null): NEvent => ({ type: 'delete', kv: kv(key, '', 0, revision, 0), prevKv });

const CATEGORY: Record<string, NError['category']> = {
  ERR_KEY_NOT_PROVIDED: 'InvalidArgument',
  ERR_KEY_NOT_FOUND: 'InvalidArgument',
  ERR_VALUE_PROVIDED: 'InvalidArgument',
  ERR_LEASE_PROVIDED: 'InvalidArgument',
  ERR_TOO_MANY_OPS: 'InvalidArgument',
  ERR_DUPLICATE_KEY: 'InvalidArgument',
  ERR_INVALID_SORT: 'InvalidArgument',
  ERR_COMPACTED: 'OutOfRange',
  ERR_FUTURE_REV: 'OutOfRange',
  ERR_LEASE_TTL_TOO_LARGE: 'OutOfRange',
  ERR_LEASE_NOT_FOUND: 'NotFound',
  ERR_LEASE_EXISTS: 'FailedPrecondition',
};
const err = (code: NError['code']): NError => ({ type: 'error', code, category: CATEGORY[code]! });

// Step builders.
const P = (key: string, value: string, f: Partial<Omit<Extract<Step, { op: 'put' }>, 'op' | 'key' | 'value'>> = {}): TxnOpStep => ({
  op: 'put',
  key,
  value,
  ...f,
});
const D = (key: string, end?: string, prevKv?: boolean): TxnOpStep => ({ op: 'delete', key, end, prevKv });
const R = (key: string, f: Omit<RangeStep, 'op' | 'key'> = {}): RangeStep => ({ op: 'range', key, ...f });
const T = (compare: CompareStep[], success: TxnOpStep[], failure: TxnOpStep[] = []): TxnOpStep => ({ op: 'txn', compare, success, failure });
const C = (key: string, target: number, result: number, operand?: number | string, end?: string): CompareStep => ({ key, target, result, operand, end });
const ALL = { end: '\0' } as const;
const W = (key: string, start: number, f: { end?: string; prevKv?: boolean } = {}): Step => ({ op: 'watch', key, start, ...f });

const VERSION = 0;
const CREATE = 1;
const MOD = 2;
const VALUE = 3;
const LEASE = 4;
const EQUAL = 0;
const GREATER = 1;
const LESS = 2;
const NOT_EQUAL = 3;
/** Range sort targets (a different numbering from the compare targets above). */
const SORT_VERSION = 1;
const SORT_MOD = 3;
const SORT_VALUE = 4;

export interface GoldenCase {
  name: string;
  steps: Step[];
  expected: Expected[];
  /** When set, the etcd run is skipped with this reason (known Debian 3.4.23 bugs). */
  etcdSkip?: string;
  /** When set, the engine runs are skipped with this reason (not expressible at the engine level). */
  oursSkip?: string;
}

function pairs(rows: Array<[Step, Expected]>): Pick<GoldenCase, 'steps' | 'expected'> {
  return { steps: rows.map((r) => r[0]), expected: rows.map((r) => r[1]) };
}

// ---------------------------------------------------------------------------------------------
// 1. Revisions and put.

const case1: GoldenCase = {
  name: '1 fresh store at revision 1, first put 2, same-value put bumps, prev_kv shapes',
  ...pairs([
    [R('a'), rng(1, 0, [])],
    [R('\0', ALL), rng(1, 0, [])],
    [P('a', '1'), put(2)],
    [R('a'), rng(2, 1, [kv('a', '1', 2, 2, 1)])],
    [P('a', '1', { prevKv: true }), put(3, kv('a', '1', 2, 2, 1))],
    [P('a', '2', { prevKv: true }), put(4, kv('a', '1', 2, 3, 2))],
    [P('b', 'x', { prevKv: true }), put(5, null)],
    [R('a'), rng(5, 1, [kv('a', '2', 2, 4, 3)])],
    [P('\xff', ''), put(6)],
    [R('\0', ALL), rng(6, 3, [kv('a', '2', 2, 4, 3), kv('b', 'x', 5, 5, 1), kv('\xff', '', 6, 6, 1)])],
  ]),
};

// ---------------------------------------------------------------------------------------------
// 2. Delete.

const case2: GoldenCase = {
  name: '2 delete ends the generation, re-create starts a new one, deleting nothing does not bump',
  ...pairs([
    [P('k', 'v2'), put(2)],
    [P('k', 'v3'), put(3)],
    [D('k', undefined, true), del(4, 1, [kv('k', 'v3', 2, 3, 2)])],
    [R('k'), rng(4, 0, [])],
    [D('k'), del(4, 0)],
    [D('a', 'z', true), del(4, 0)],
    [P('k', 'v6'), put(5)],
    [R('k'), rng(5, 1, [kv('k', 'v6', 5, 5, 1)])],
    [R('k', { revision: 3 }), rng(5, 1, [kv('k', 'v3', 2, 3, 2)])],
    [R('k', { revision: 4 }), rng(5, 0, [])],
    [P('x1', '1'), put(6)],
    [P('x2', '2'), put(7)],
    [P('x3', '3'), put(8)],
    [D('x1', 'x3', true), del(9, 2, [kv('x1', '1', 6, 6, 1), kv('x2', '2', 7, 7, 1)])],
    [D('x3', 'x1'), del(9, 0)],
    [D('x0', '\0'), del(10, 1)],
    [R('\0', ALL), rng(10, 1, [kv('k', 'v6', 5, 5, 1)])],
  ]),
};

// ---------------------------------------------------------------------------------------------
// 3. Txn revisions.

const case3: GoldenCase = {
  name: '3 txn: one revision for all writes, op order, per-op and nested revisions, read-only/no-op txns do not bump',
  ...pairs([
    [P('a', '1'), put(2)],
    [
      T([], [R('a'), P('x1', 'v1'), R('x1'), P('x2', 'v2', { prevKv: true }), D('a', undefined, true), R('a')]),
      txn(3, true, [
        rng(2, 1, [kv('a', '1', 2, 2, 1)]),
        put(3),
        rng(3, 1, [kv('x1', 'v1', 3, 3, 1)]),
        put(3, null),
        del(3, 1, [kv('a', '1', 2, 2, 1)]),
        rng(3, 0, []),
      ]),
    ],
    [W('\0', 3, ALL), watch([evPut(kv('x1', 'v1', 3, 3, 1)), evPut(kv('x2', 'v2', 3, 3, 1)), evDel('a', 3)])],
    [
      T([], [R('x1'), T([C('x1', VALUE, EQUAL, 'v1')], [P('n1', 'a'), R('n1')], [P('n1', 'b')]), R('n1')]),
      txn(4, true, [rng(3, 1, [kv('x1', 'v1', 3, 3, 1)]), txn(4, true, [put(4), rng(4, 1, [kv('n1', 'a', 4, 4, 1)])]), rng(4, 1, [kv('n1', 'a', 4, 4, 1)])]),
    ],
    [T([], [T([C('x1', VALUE, EQUAL, 'nope')], [P('n2', 'x')], [R('x2')])]), txn(4, true, [txn(4, false, [rng(4, 1, [kv('x2', 'v2', 3, 3, 1)])])])],
    [T([], [R('x1')]), txn(4, true, [rng(4, 1, [kv('x1', 'v1', 3, 3, 1)])])],
    [T([], [D('zz')]), txn(4, true, [del(4, 0)])],
    [T([], [D('zz'), D('x1'), R('x1')]), txn(5, true, [del(4, 0), del(5, 1), rng(5, 0, [])])],
    [P('y', '1'), put(6)],
    [T([C('y', VERSION, EQUAL, 5)], [P('y', '2')], [P('y', '3'), R('y')]), txn(7, false, [put(7), rng(7, 1, [kv('y', '3', 6, 7, 2)])])],
    [
      T([], [R('y'), T([], [D('zz')]), P('z', '1'), T([], [R('z')])]),
      txn(8, true, [rng(7, 1, [kv('y', '3', 6, 7, 2)]), txn(7, true, [del(7, 0)]), put(8), txn(8, true, [rng(8, 1, [kv('z', '1', 8, 8, 1)])])]),
    ],
  ]),
};

// ---------------------------------------------------------------------------------------------
// 4. Range matrix (TestV3RangeRequest-like).

const A = kv('a', '1', 2, 2, 1);
const B = kv('b', '2', 3, 3, 1);
const Cc = kv('c', '33', 4, 6, 2);
const Dd = kv('d', '4', 5, 5, 1);
const AF = kv('a\xff', 'x', 7, 7, 1);
const FF = kv('\xff\xff', 'y', 8, 8, 1);
const ALL_KVS = [A, AF, B, Cc, Dd, FF];
const byName: Record<string, NKv> = { A, AF, B, C: Cc, D: Dd, FF };
const kvsOf = (names: string) => names.split(' ').map((n) => byName[n]!);

/** Expected key orders of the sort matrix over ALL_KVS (ties in ascending key order). */
const SORTED: Record<string, string> = {
  '0/0': 'A AF B C D FF',
  '0/1': 'A AF B C D FF',
  '0/2': 'FF D C B AF A',
  '1/0': 'A AF B D FF C', // VERSION: c has 2, the rest 1
  '1/1': 'A AF B D FF C',
  '1/2': 'C A AF B D FF',
  '2/0': 'A B C D AF FF', // CREATE 2 3 4 5 7 8
  '2/1': 'A B C D AF FF',
  '2/2': 'FF AF D C B A',
  '3/0': 'A B D C AF FF', // MOD 2 3 5 6 7 8
  '3/1': 'A B D C AF FF',
  '3/2': 'FF AF C D B A',
  '4/0': 'A B C D AF FF', // VALUE "1" "2" "33" "4" "x" "y"
  '4/1': 'A B C D AF FF',
  '4/2': 'FF AF D C B A',
};

const D2 = kv('d', '44', 5, 9, 2);

const case4: GoldenCase = {
  name: '4 range matrix: intervals, prefixes, limit/more, count_only, keys_only, sort target x order, filters, revisions',
  ...pairs([
    [P('a', '1'), put(2)],
    [P('b', '2'), put(3)],
    [P('c', '3'), put(4)],
    [P('d', '4'), put(5)],
    [P('c', '33'), put(6)],
    [P('a\xff', 'x'), put(7)],
    [P('\xff\xff', 'y'), put(8)],
    [R('b'), rng(8, 1, [B])],
    [R('a', { end: 'z' }), rng(8, 5, [A, AF, B, Cc, Dd])],
    [R('b', { end: 'd' }), rng(8, 2, [B, Cc])],
    [R('c', { end: 'c' }), rng(8, 0, [])],
    [R('d', { end: 'b' }), rng(8, 0, [])],
    [R('\0', ALL), rng(8, 6, ALL_KVS)],
    [R('c', ALL), rng(8, 3, [Cc, Dd, FF])],
    [R('a', { end: 'b' }), rng(8, 2, [A, AF])], // prefix "a"
    [R('a\xff', { end: 'b' }), rng(8, 1, [AF])], // prefix "a\xff" ends at "b"
    [R('\xff\xff', ALL), rng(8, 1, [FF])], // prefix "\xff\xff" ends at "\0"
    [R('zz', { end: 'zz\0' }), rng(8, 0, [])],
    ...[1, 2, 3, 4, 5].map((limit): [Step, Expected] => [R('\0', { ...ALL, limit }), rng(8, 6, ALL_KVS.slice(0, limit), true)]),
    [R('\0', { ...ALL, limit: 6 }), rng(8, 6, ALL_KVS)],
    [R('\0', { ...ALL, limit: 7 }), rng(8, 6, ALL_KVS)],
    [R('\0', { ...ALL, countOnly: true }), rng(8, 6, [])],
    [R('\0', { ...ALL, countOnly: true, limit: 2 }), rng(8, 6, [])],
    [R('a', { end: 'z', keysOnly: true }), rng(8, 5, [A, AF, B, Cc, Dd].map(keysOnly))],
    [R('\0', { ...ALL, keysOnly: true, limit: 1, serializable: true }), rng(8, 6, [keysOnly(A)], true)],
    ...[0, 1, 2, 3, 4].flatMap((target) =>
      [0, 1, 2].map((order): [Step, Expected] => [R('\0', { ...ALL, sortTarget: target, sortOrder: order }), rng(8, 6, kvsOf(SORTED[`${target}/${order}`]!))]),
    ),
    [R('\0', { ...ALL, sortTarget: SORT_MOD, sortOrder: 2, limit: 2 }), rng(8, 6, [FF, AF], true)],
    [R('\0', { ...ALL, sortTarget: SORT_VERSION, sortOrder: 2, limit: 1 }), rng(8, 6, [Cc], true)],
    [R('\0', { ...ALL, sortTarget: SORT_VERSION, sortOrder: 1, limit: 2 }), rng(8, 6, [A, AF], true)],
    [R('\0', { ...ALL, sortTarget: SORT_VALUE, sortOrder: 2, limit: 3, keysOnly: true }), rng(8, 6, [FF, AF, Dd].map(keysOnly), true)],
    [R('\0', { ...ALL, minMod: 5 }), rng(8, 6, [AF, Cc, Dd, FF])],
    [R('\0', { ...ALL, maxMod: 4 }), rng(8, 6, [A, B])],
    [R('\0', { ...ALL, minCreate: 4, maxCreate: 5 }), rng(8, 6, [Cc, Dd])],
    [R('\0', { ...ALL, minMod: 3, maxMod: 6, limit: 2 }), rng(8, 6, [B, Cc], true)],
    [R('\0', { ...ALL, maxCreate: 2, limit: 1 }), rng(8, 6, [A])],
    [R('\0', { ...ALL, maxCreate: 99 }), rng(8, 6, ALL_KVS)],
    [R('\0', { ...ALL, minMod: 5, countOnly: true }), rng(8, 6, [])],
    [R('\0', { ...ALL, minCreate: 5, sortTarget: SORT_MOD, sortOrder: 1 }), rng(8, 6, [Dd, AF, FF])],
    [P('d', '44'), put(9)],
    [{ op: 'compact', revision: 6 }, compacted(9)],
    [R('\0', ALL), rng(9, 6, [A, AF, B, Cc, D2, FF])],
    [R('\0', { ...ALL, revision: -1 }), rng(9, 6, [A, AF, B, Cc, D2, FF])],
    [R('\0', { ...ALL, revision: 6 }), rng(9, 4, [A, B, Cc, Dd])],
    [R('\0', { ...ALL, revision: 5 }), err('ERR_COMPACTED')],
    [R('\0', { ...ALL, revision: 7 }), rng(9, 5, [A, AF, B, Cc, Dd])],
    [R('\0', { ...ALL, revision: 10 }), err('ERR_FUTURE_REV')],
    [R('\0', { ...ALL, revision: 7, countOnly: true }), rng(9, 5, [])],
    [R('\0', { ...ALL, revision: 7, sortTarget: SORT_MOD, sortOrder: 2, limit: 1 }), rng(9, 5, [AF], true)],
    [R('\0', { ...ALL, revision: 8, minMod: 7 }), rng(9, 6, [AF, FF])],
    [R('d', { revision: 8 }), rng(9, 1, [Dd])],
  ]),
};

/**
 * Found by the differential fuzz: a txn checks a range's revision against the compacted revision
 * BEFORE "<= 0 means latest" applies (etcd's checkRange: revision < FirstRev -> ErrCompacted), so a
 * negative revision inside a txn is "compacted" once it is below the compacted revision (-1 on a fresh
 * store), while a standalone range reads the latest revision.
 */
const case4b: GoldenCase = {
  name: '4b range with a negative revision: standalone reads the latest; inside a txn it is ErrCompacted when below the compacted revision',
  ...pairs([
    [P('a', '1'), put(2)],
    [R('a', { revision: -1 }), rng(2, 1, [kv('a', '1', 2, 2, 1)])],
    [T([], [R('a', { revision: -1 })]), txn(2, true, [rng(2, 1, [kv('a', '1', 2, 2, 1)])])],
    [T([], [R('a', { revision: -2 })]), err('ERR_COMPACTED')],
    [{ op: 'compact', revision: 1 }, compacted(2)],
    [T([], [R('a', { revision: -1 })]), err('ERR_COMPACTED')],
    [R('a', { revision: -1 }), rng(2, 1, [kv('a', '1', 2, 2, 1)])],
    [T([], [R('a', { revision: 1 })]), txn(2, true, [rng(2, 0, [])])],
    [T([C('a', VERSION, EQUAL, 99)], [R('a', { revision: -5 })], [R('a')]), txn(2, false, [rng(2, 1, [kv('a', '1', 2, 2, 1)])])],
  ]),
};

/**
 * Found by the differential fuzz: etcd decides whether to fetch everything from the REQUESTED
 * sort_order (executeRange: `if r.SortOrder != NONE || filters { limit = 0 }`), and only afterwards turns
 * "target != KEY with order NONE" into ASCEND. So a non-KEY target with order NONE and a limit (and no
 * min/max filter) sorts only the first limit+1 keys in key order, then truncates; `more` is whether a
 * (limit+1)-th key existed. Same code in Debian's 3.4.23 and in current etcd (server/etcdserver/txn).
 */
const case4c: GoldenCase = {
  name: '4c range: a non-KEY sort target with order NONE and a limit sorts only the first limit+1 keys (etcd executeRange)',
  ...pairs([
    [P('a', '3'), put(2)],
    [P('b', '1'), put(3)],
    [P('c', '2'), put(4)],
    [P('d', '0'), put(5)],
    [R('a', { end: 'z', sortTarget: SORT_VALUE, limit: 2 }), rng(5, 4, [kv('b', '1', 3, 3, 1), kv('c', '2', 4, 4, 1)], true)],
    [R('a', { end: 'z', sortTarget: SORT_VALUE, sortOrder: 1, limit: 2 }), rng(5, 4, [kv('d', '0', 5, 5, 1), kv('b', '1', 3, 3, 1)], true)],
    [R('a', { end: 'z', sortTarget: SORT_VALUE, limit: 2, minMod: 2 }), rng(5, 4, [kv('d', '0', 5, 5, 1), kv('b', '1', 3, 3, 1)], true)],
    [R('a', { end: 'z', sortTarget: SORT_VALUE, limit: 3 }), rng(5, 4, [kv('d', '0', 5, 5, 1), kv('b', '1', 3, 3, 1), kv('c', '2', 4, 4, 1)], true)],
    [
      R('a', { end: 'z', sortTarget: SORT_VALUE, limit: 4 }),
      rng(5, 4, [kv('d', '0', 5, 5, 1), kv('b', '1', 3, 3, 1), kv('c', '2', 4, 4, 1), kv('a', '3', 2, 2, 1)]),
    ],
    [T([], [R('a', { end: 'z', sortTarget: SORT_VALUE, limit: 2 })]), txn(5, true, [rng(5, 4, [kv('b', '1', 3, 3, 1), kv('c', '2', 4, 4, 1)], true)])],
  ]),
};

// ---------------------------------------------------------------------------------------------
// 5. Put flags.

const case5: GoldenCase = {
  name: '5 put flags: ignore_value / ignore_lease effects, the InvalidArgument errors, missing lease',
  ...pairs([
    [{ op: 'grant', id: 1001, ttl: 60 }, grant(1, 'L0', 60)],
    [P('k', 'v', { lease: 1001 }), put(2)],
    [P('k', '', { ignoreValue: true, lease: 1001, prevKv: true }), put(3, kv('k', 'v', 2, 2, 1, 'L0'))],
    [R('k'), rng(3, 1, [kv('k', 'v', 2, 3, 2, 'L0')])],
    [P('k', 'w', { ignoreLease: true }), put(4)],
    [R('k'), rng(4, 1, [kv('k', 'w', 2, 4, 3, 'L0')])],
    [P('k', '', { ignoreValue: true, ignoreLease: true }), put(5)],
    [R('k'), rng(5, 1, [kv('k', 'w', 2, 5, 4, 'L0')])],
    [{ op: 'timeToLive', id: 1001, keys: true }, ttl(true, 60, ['k'])],
    [P('k', 'x'), put(6)],
    [R('k'), rng(6, 1, [kv('k', 'x', 2, 6, 5)])],
    [{ op: 'timeToLive', id: 1001, keys: true }, ttl(true, 60, [])],
    [P('k', 'y', { ignoreValue: true }), err('ERR_VALUE_PROVIDED')],
    [P('k', '', { lease: 1001, ignoreLease: true }), err('ERR_LEASE_PROVIDED')],
    [P('missing', '', { ignoreValue: true }), err('ERR_KEY_NOT_FOUND')],
    [P('missing', 'z', { ignoreLease: true }), err('ERR_KEY_NOT_FOUND')],
    [P('k', 'z', { lease: 4242 }), err('ERR_LEASE_NOT_FOUND')],
    [P('', 'v'), err('ERR_KEY_NOT_PROVIDED')],
    [R(''), err('ERR_KEY_NOT_PROVIDED')],
    [D(''), err('ERR_KEY_NOT_PROVIDED')],
    [R('k'), rng(6, 1, [kv('k', 'x', 2, 6, 5)])],
    [{ op: 'grant', id: 1002, ttl: 60 }, grant(6, 'L1', 60)],
    [P('k', 'x2', { lease: 1001 }), put(7)],
    // ignore_value with another lease moves the key, keeping the value
    [P('k', '', { ignoreValue: true, lease: 1002 }), put(8)],
    [R('k'), rng(8, 1, [kv('k', 'x2', 2, 8, 7, 'L1')])],
    [{ op: 'timeToLive', id: 1001, keys: true }, ttl(true, 60, [])],
    [{ op: 'timeToLive', id: 1002, keys: true }, ttl(true, 60, ['k'])],
    // ignore_value without ignore_lease and lease 0 detaches the key
    [P('k', '', { ignoreValue: true }), put(9)],
    [R('\0', ALL), rng(9, 1, [kv('k', 'x2', 2, 9, 8)])],
    [{ op: 'timeToLive', id: 1002, keys: true }, ttl(true, 60, [])],
  ]),
};

/**
 * Which check wins for a standalone put with ignore_value on a missing key AND a missing lease: etcd's
 * Put checks the lease first (applierV3backend.Put / txn.Put: lessor.Lookup before the range for
 * ignore_*), so a standalone put gets "requested lease not found"; inside a txn, checkRequestPut looks
 * at ignore_* first, so the same put in a txn gets "key not found".
 */
const case5b: GoldenCase = {
  name: '5b put on a missing key with ignore_value and a missing lease: lease checked first standalone, key first in a txn',
  ...pairs([
    [P('missing', '', { ignoreValue: true, lease: 4242 }), err('ERR_LEASE_NOT_FOUND')],
    [T([], [P('missing', '', { ignoreValue: true, lease: 4242 })]), err('ERR_KEY_NOT_FOUND')],
    [R('\0', ALL), rng(1, 0, [])],
  ]),
};

// ---------------------------------------------------------------------------------------------
// 6. Compare matrix.

const K6 = kv('k', 'v', 2, 3, 2, 'L0');

function cmpHolds(diff: number, result: number): boolean {
  return result === EQUAL ? diff === 0 : result === GREATER ? diff > 0 : result === LESS ? diff < 0 : diff !== 0;
}

const compareMatrix: Array<[Step, Expected]> = [];
{
  // target, actual value on k, operands below / at / above it
  const rows: Array<[number, number | string, Array<number | string>]> = [
    [VERSION, 2, [1, 2, 3]],
    [CREATE, 2, [1, 2, 3]],
    [MOD, 3, [2, 3, 4]],
    [VALUE, 'v', ['u', 'v', 'w']],
    [LEASE, 1001, [0, 1001, 1002]],
  ];
  for (const [target, actual, operands] of rows) {
    for (const operand of operands) {
      const diff = typeof actual === 'number' ? actual - (operand as number) : Buffer.compare(Buffer.from(actual), Buffer.from(operand as string));
      for (const result of [EQUAL, GREATER, LESS, NOT_EQUAL]) {
        compareMatrix.push([T([C('k', target, result, operand)], []), txn(7, cmpHolds(diff, result), [])]);
      }
    }
  }
  // A missing key compares as a zero KeyValue, except VALUE, which is always false.
  for (const target of [VERSION, CREATE, MOD, LEASE]) {
    for (const result of [EQUAL, GREATER, LESS, NOT_EQUAL]) {
      compareMatrix.push([T([C('m', target, result, 0)], []), txn(7, result === EQUAL, [])]);
    }
    compareMatrix.push([T([C('m', target, LESS, 1)], []), txn(7, true, [])]);
  }
  for (const result of [EQUAL, GREATER, LESS, NOT_EQUAL]) {
    compareMatrix.push([T([C('m', VALUE, result, '')], []), txn(7, false, [])]);
    compareMatrix.push([T([C('m', VALUE, result, 'zzz')], []), txn(7, false, [])]);
  }
}

const case6: GoldenCase = {
  name: '6 compare matrix: 5 targets x 4 results, missing key (VALUE always false), range_end, unset target_union, conjunction',
  ...pairs([
    [{ op: 'grant', id: 1001, ttl: 60 }, grant(1, 'L0', 60)],
    [P('k', 'v1', { lease: 1001 }), put(2)],
    [P('k', 'v', { lease: 1001 }), put(3)],
    [P('e', ''), put(4)],
    [P('p1', 'x'), put(5)],
    [P('p2', 'x'), put(6)],
    [P('p3', 'y'), put(7)],
    ...compareMatrix,
    // range_end: every key in the range must satisfy the compare; an empty range is the zero KeyValue
    [T([C('p', MOD, GREATER, 0, 'q')], []), txn(7, true, [])],
    [T([C('p1', VALUE, EQUAL, 'x', 'p3')], []), txn(7, true, [])],
    [T([C('p', VALUE, EQUAL, 'x', 'q')], []), txn(7, false, [])],
    [T([C('p', VERSION, EQUAL, 1, 'q')], []), txn(7, true, [])],
    [T([C('p', CREATE, LESS, 7, 'q')], []), txn(7, false, [])],
    [T([C('p', CREATE, LESS, 8, 'q')], []), txn(7, true, [])],
    [T([C('p2', MOD, GREATER, 5, '\0')], []), txn(7, true, [])],
    [T([C('q', VERSION, EQUAL, 0, 'r')], []), txn(7, true, [])],
    [T([C('q', MOD, GREATER, 0, 'r')], []), txn(7, false, [])],
    [T([C('q', VALUE, EQUAL, '', 'r')], []), txn(7, false, [])],
    [T([C('q', VALUE, NOT_EQUAL, 'x', 'r')], []), txn(7, false, [])],
    [T([C('p3', VERSION, EQUAL, 0, 'p1')], []), txn(7, true, [])],
    // unset target_union compares against 0 / empty
    [T([C('m', VERSION, EQUAL)], []), txn(7, true, [])],
    [T([C('k', VERSION, EQUAL)], []), txn(7, false, [])],
    [T([C('k', MOD, GREATER)], []), txn(7, true, [])],
    [T([C('e', VALUE, EQUAL)], []), txn(7, true, [])],
    [T([C('k', VALUE, EQUAL)], []), txn(7, false, [])],
    [T([C('e', LEASE, EQUAL)], []), txn(7, true, [])],
    [T([C('k', LEASE, EQUAL)], []), txn(7, false, [])],
    // conjunction, and the branch taken
    [T([C('k', VERSION, EQUAL, 2), C('k', VALUE, EQUAL, 'nope')], [R('k')], [R('e')]), txn(7, false, [rng(7, 1, [kv('e', '', 4, 4, 1)])])],
    [T([C('k', VERSION, EQUAL, 2), C('k', VALUE, EQUAL, 'v'), C('p', MOD, GREATER, 4, 'q')], [R('k')], [R('e')]), txn(7, true, [rng(7, 1, [K6])])],
  ]),
};

// ---------------------------------------------------------------------------------------------
// 7. Txn validation.

const many = (n: number, f: (i: number) => TxnOpStep): TxnOpStep[] => Array.from({ length: n }, (_, i) => f(i));
const name3 = (prefix: string, i: number) => `${prefix}${String(i).padStart(3, '0')}`;

const case7: GoldenCase = {
  name: '7 txn validation: duplicate keys, op limits, empty compare key, taken-branch-only checks',
  ...pairs([
    [P('d', '0'), put(2)],
    [P('a', '0'), put(3)],
    [T([], [P('d', '1'), P('d', '2')]), err('ERR_DUPLICATE_KEY')],
    [T([], [P('d', '1'), D('d')]), err('ERR_DUPLICATE_KEY')],
    [T([], [D('a', 'z'), P('d', '1')]), err('ERR_DUPLICATE_KEY')],
    [T([], [P('d', '1'), T([], [P('d', '2')])]), err('ERR_DUPLICATE_KEY')],
    [T([], [D('a', 'e'), T([], [P('d', '2')])]), err('ERR_DUPLICATE_KEY')],
    [T([], [T([], [P('d', '1')]), P('d', '2')]), err('ERR_DUPLICATE_KEY')],
    [T([C('d', VERSION, EQUAL, 1)], [], [P('d', '1'), P('d', '2')]), err('ERR_DUPLICATE_KEY')],
    // allowed: then/else of one nested txn, overlapping deletes, ranges anywhere
    [T([], [T([C('d', VERSION, EQUAL, 1)], [P('d', 'then')], [P('d', 'else')])]), txn(4, true, [txn(4, true, [put(4)])])],
    [T([], [D('a', 'z', true), D('d', undefined, true)]), txn(5, true, [del(5, 2, [kv('a', '0', 3, 3, 1), kv('d', 'then', 2, 4, 2)]), del(5, 0)])],
    [T([], [R('d'), P('d', '1'), R('d')]), txn(6, true, [rng(5, 0, []), put(6), rng(6, 1, [kv('d', '1', 6, 6, 1)])])],
    [T([], [D('d'), T([], [D('d')])]), txn(7, true, [del(7, 1), txn(7, true, [del(7, 0)])])],
    // op limits (max-txn-ops 128; a nested txn gets the parent's budget minus the parent's count)
    [
      T(
        [],
        many(128, (i) => P(name3('k', i), 'v')),
      ),
      txn(8, true, many(128, () => put(8) as never) as never),
    ],
    [
      T(
        [],
        many(129, (i) => P(name3('j', i), 'v')),
      ),
      err('ERR_TOO_MANY_OPS'),
    ],
    [
      T(
        Array.from({ length: 129 }, () => C('k000', VERSION, EQUAL, 1)),
        [],
      ),
      err('ERR_TOO_MANY_OPS'),
    ],
    [
      T(
        [C('k000', VERSION, EQUAL, 99)],
        [],
        many(129, () => R('zz')),
      ),
      err('ERR_TOO_MANY_OPS'),
    ],
    [
      T(
        [],
        [
          ...many(99, () => R('zz')),
          T(
            [],
            many(28, () => R('zz')),
          ),
        ],
      ),
      txn(8, true, [...many(99, () => rng(8, 0, []) as never), txn(8, true, many(28, () => rng(8, 0, []) as never) as never)] as never),
    ],
    [
      T(
        [],
        [
          ...many(99, () => R('zz')),
          T(
            [],
            many(29, () => R('zz')),
          ),
        ],
      ),
      err('ERR_TOO_MANY_OPS'),
    ],
    // empty keys / bad flags are static checks, on both branches
    [T([C('', VERSION, EQUAL, 0)], []), err('ERR_KEY_NOT_PROVIDED')],
    [T([C('a', VERSION, EQUAL, 999)], [P('', '1')]), err('ERR_KEY_NOT_PROVIDED')],
    [T([C('a', VERSION, EQUAL, 999)], [P('k000', 'x', { ignoreValue: true })]), err('ERR_VALUE_PROVIDED')],
    // state checks only on the taken path: untaken bad lease is fine...
    [T([C('k000', VERSION, EQUAL, 99)], [P('x', '1', { lease: 4242 })], [R('k000')]), txn(8, false, [rng(8, 1, [kv('k000', 'v', 8, 8, 1)])])],
    // ...a taken one fails the whole txn, nothing applied
    [T([], [P('x', '1'), P('y', '1', { lease: 4242 })]), err('ERR_LEASE_NOT_FOUND')],
    [R('x'), rng(8, 0, [])],
    [T([], [P('x', '1'), P('q', '', { ignoreValue: true })]), err('ERR_KEY_NOT_FOUND')],
    [T([], [P('x', '1'), R('k000', { revision: 99 })]), err('ERR_FUTURE_REV')],
    [T([], [P('x', '1'), T([], [P('z', '1', { lease: 4242 })])]), err('ERR_LEASE_NOT_FOUND')],
    [R('x'), rng(8, 0, [])],
    [T([], [T([C('a', VERSION, EQUAL, 999)], [P('z', '1', { lease: 4242 })], [P('z', '2')])]), txn(9, true, [txn(9, false, [put(9)])])],
    [{ op: 'compact', revision: 8 }, compacted(9)],
    [T([], [P('x', '1'), R('k000', { revision: 3 })]), err('ERR_COMPACTED')],
    [T([], [R('k000', { revision: 8 }), P('x', '1')]), txn(10, true, [rng(9, 1, [kv('k000', 'v', 8, 8, 1)]), put(10)])],
  ]),
};

/** etcd's empty RequestOp has no counterpart in the op codec (a façade would map it to ERR_KEY_NOT_FOUND). */
const case7b: GoldenCase = {
  name: '7b txn with an empty RequestOp: InvalidArgument "key not found"',
  ...pairs([[T([], [{ op: 'emptyOp' }]), err('ERR_KEY_NOT_FOUND')]]),
  oursSkip: 'the op codec cannot carry an empty RequestOp (nothing to send to the engine); etcd-only reference check',
};

/**
 * Found by the differential fuzz: etcd runs every static check of the whole txn tree
 * (checkTxnRequest: op counts, empty keys, ignore_* flags, both branches, nested txns) BEFORE the
 * duplicate-key check (checkIntervals), so a static error anywhere beats a duplicate inside a nested txn.
 */
const case7d: GoldenCase = {
  name: '7d txn: static checks of the whole tree come before the duplicate-key check',
  ...pairs([
    [T([], [P('a', '1'), P('a', '2')], [P('', 'x')]), err('ERR_KEY_NOT_PROVIDED')],
    [T([], [T([], [P('a', '1'), P('a', '2')]), P('', 'x')]), err('ERR_KEY_NOT_PROVIDED')],
    [T([], [T([], [P('a', '1'), P('a', '2')])], [P('b', 'x', { ignoreValue: true })]), err('ERR_VALUE_PROVIDED')],
    [T([], [T([], [], [T([], [P('a', '1'), D('a')])])], [P('b', '', { ignoreLease: true, lease: 4242 })]), err('ERR_LEASE_PROVIDED')],
    [T([], [T([], [P('a', '1'), P('a', '2')]), T([C('', VERSION, EQUAL, 0)], [])]), err('ERR_KEY_NOT_PROVIDED')],
    [T([], [T([], [P('a', '1'), P('a', '2')])]), err('ERR_DUPLICATE_KEY')],
  ]),
};

/**
 * Taken-path checks in op order (current etcd, #16372): the first failing op decides. Debian's 3.4.23
 * checks every put of the path first, then every range.
 */
const case7c: GoldenCase = {
  name: '7c txn: taken-path state checks run in op order (a future-revision range before a put with a missing lease)',
  ...pairs([
    [P('a', '1'), put(2)],
    [T([], [R('a', { revision: 99 }), P('b', '1', { lease: 4242 })]), err('ERR_FUTURE_REV')],
    [T([], [P('b', '1', { lease: 4242 }), R('a', { revision: 99 })]), err('ERR_LEASE_NOT_FOUND')],
    [T([], [T([], [R('a', { revision: 99 })]), P('b', '', { ignoreValue: true })]), err('ERR_FUTURE_REV')],
    [R('\0', ALL), rng(2, 1, [kv('a', '1', 2, 2, 1)])],
  ]),
  etcdSkip: `${DEBIAN_ETCD} checks every put of the taken path before every range (two passes); current etcd checks in op order since etcd PR #16372 (3.6)`,
};

// ---------------------------------------------------------------------------------------------
// 8. Compaction.

const case8: GoldenCase = {
  name: '8 compaction: compact(0)/(1) on a fresh store, repeat, future, header unchanged, reads at/below the compacted revision',
  ...pairs([
    [{ op: 'compact', revision: 0 }, compacted(1)],
    [{ op: 'compact', revision: 1 }, compacted(1)],
    [{ op: 'compact', revision: 1 }, err('ERR_COMPACTED')],
    [{ op: 'compact', revision: 0 }, err('ERR_COMPACTED')],
    [{ op: 'compact', revision: 2 }, err('ERR_FUTURE_REV')],
    [P('a', '1'), put(2)],
    [P('a', '2'), put(3)],
    [P('b', '1'), put(4)],
    [D('b'), del(5, 1)],
    [P('a', '3'), put(6)],
    [P('c', '1'), put(7)],
    [{ op: 'compact', revision: 8 }, err('ERR_FUTURE_REV')],
    [{ op: 'compact', revision: 4 }, compacted(7)],
    [{ op: 'compact', revision: 4 }, err('ERR_COMPACTED')],
    [{ op: 'compact', revision: 3 }, err('ERR_COMPACTED')],
    [R('\0', { ...ALL, revision: 4 }), rng(7, 2, [kv('a', '2', 2, 3, 2), kv('b', '1', 4, 4, 1)])],
    [R('\0', { ...ALL, revision: 3 }), err('ERR_COMPACTED')],
    [R('\0', { ...ALL, revision: 5 }), rng(7, 1, [kv('a', '2', 2, 3, 2)])],
    [R('a'), rng(7, 1, [kv('a', '3', 2, 6, 3)])],
    [W('\0', 3, ALL), watchCanceled(4)],
    [W('\0', 4, ALL), watch([evPut(kv('b', '1', 4, 4, 1)), evDel('b', 5), evPut(kv('a', '3', 2, 6, 3)), evPut(kv('c', '1', 7, 7, 1))])],
    [{ op: 'compact', revision: 6, physical: true }, compacted(7)],
    [R('\0', { ...ALL, revision: 6 }), rng(7, 1, [kv('a', '3', 2, 6, 3)])],
    [R('b', { revision: 5 }), err('ERR_COMPACTED')],
    [W('\0', 6, { ...ALL, prevKv: true }), watch([evPut(kv('a', '3', 2, 6, 3)), evPut(kv('c', '1', 7, 7, 1))])],
    [P('a', '4'), put(8)],
    [W('a', 7, { prevKv: true }), watch([evPut(kv('a', '4', 2, 8, 4), kv('a', '3', 2, 6, 3))])],
  ]),
};

// ---------------------------------------------------------------------------------------------
// 9. Leases.

const case9: GoldenCase = {
  name: '9 leases: min TTL, too large TTL, duplicate and negative ids, unknown ids, revoke deletes keys in key order in one revision',
  ...pairs([
    [{ op: 'grant', id: 0, ttl: 0, name: 'auto' }, grant(1, 'L0', 2)],
    [{ op: 'revoke', id: 'auto' }, revoke(1)],
    [{ op: 'grant', id: 1001, ttl: -5 }, grant(1, 'L1', 2)],
    [{ op: 'revoke', id: 1001 }, revoke(1)],
    [{ op: 'grant', id: 1003, ttl: 9_000_000_001 }, err('ERR_LEASE_TTL_TOO_LARGE')],
    [{ op: 'grant', id: 1003, ttl: 9_000_000_000 }, grant(1, 'L2', 9_000_000_000)],
    [{ op: 'revoke', id: 1003 }, revoke(1)],
    [{ op: 'grant', id: 1001, ttl: 60 }, grant(1, 'L3', 60)],
    [{ op: 'grant', id: 1001, ttl: 60 }, err('ERR_LEASE_EXISTS')],
    [{ op: 'grant', id: -7, ttl: 60 }, grant(1, 'L4', 60)],
    [{ op: 'revoke', id: 4242 }, err('ERR_LEASE_NOT_FOUND')],
    [{ op: 'timeToLive', id: 4242, keys: true }, ttl(false, 0)],
    [P('b', '1', { lease: 1001 }), put(2)],
    [P('a', '1', { lease: 1001 }), put(3)],
    [P('c', '1'), put(4)],
    [P('d', '1', { lease: -7 }), put(5)],
    [P('d', '2'), put(6)],
    [{ op: 'timeToLive', id: 1001, keys: true }, ttl(true, 60, ['a', 'b'])],
    [{ op: 'timeToLive', id: -7, keys: true }, ttl(true, 60, [])],
    [{ op: 'leases' }, leases('L3', 'L4')],
    [{ op: 'revoke', id: 1001 }, revoke(7)],
    [R('\0', ALL), rng(7, 2, [kv('c', '1', 4, 4, 1), kv('d', '2', 5, 6, 2)])],
    [W('\0', 7, ALL), watch([evDel('a', 7), evDel('b', 7)])],
    [{ op: 'revoke', id: -7 }, revoke(7)],
    [{ op: 'leases' }, leases()],
    [{ op: 'timeToLive', id: 1001 }, ttl(false, 0)],
    [P('e', '1', { lease: 1001 }), err('ERR_LEASE_NOT_FOUND')],
    [R('\0', ALL), rng(7, 2, [kv('c', '1', 4, 4, 1), kv('d', '2', 5, 6, 2)])],
  ]),
};

/** Found by the differential fuzz: an id picked for ID 0 is never handed out again after a revoke. */
const case9b: GoldenCase = {
  name: '9b leases: an engine-picked id is not reused after its lease is revoked',
  ...pairs([
    [{ op: 'grant', id: 0, ttl: 60, name: 'auto0' }, grant(1, 'L0', 60)],
    [{ op: 'revoke', id: 'auto0' }, revoke(1)],
    [{ op: 'grant', id: 0, ttl: 60, name: 'auto1' }, grant(1, 'L1', 60)],
    [P('b', 'v', { lease: 'auto0' }), err('ERR_LEASE_NOT_FOUND')],
    [{ op: 'timeToLive', id: 'auto0' }, ttl(false, 0)],
    [{ op: 'leases' }, leases('L1')],
    [P('b', 'v', { lease: 'auto1' }), put(2)],
    [R('b'), rng(2, 1, [kv('b', 'v', 2, 2, 1, 'L1')])],
  ]),
};

// ---------------------------------------------------------------------------------------------
// 10. Watch replay (engine-level history replay vs an etcd watch with a start revision).

const A2 = kv('a', '1', 2, 2, 1);
const A4 = kv('a', '2', 2, 4, 2);
const A6 = kv('a', '3', 6, 6, 1);
const B3 = kv('b', '1', 3, 3, 1);
const C4 = kv('c', '1', 4, 4, 1);

const case10: GoldenCase = {
  name: '10 watch replay from a start revision: inclusive, op order within a txn, prev_kv (none on create), DELETE shape, compacted start',
  ...pairs([
    [P('a', '1'), put(2)],
    [P('b', '1'), put(3)],
    [T([], [P('a', '2'), P('c', '1'), D('b')]), txn(4, true, [put(4), put(4), del(4, 1)])],
    [D('a'), del(5, 1)],
    [P('a', '3'), put(6)],
    [W('\0', 1, { ...ALL, prevKv: true }), watch([evPut(A2), evPut(B3), evPut(A4, A2), evPut(C4), evDel('b', 4, B3), evDel('a', 5, A4), evPut(A6)])],
    [W('\0', 4, ALL), watch([evPut(A4), evPut(C4), evDel('b', 4), evDel('a', 5), evPut(A6)])],
    [W('a', 1), watch([evPut(A2), evPut(A4), evDel('a', 5), evPut(A6)])],
    [W('b', 4, { end: 'c' }), watch([evDel('b', 4)])],
    [W('\0', 6, ALL), watch([evPut(A6)])],
    [W('\0', 7, ALL), watch([])],
    [{ op: 'compact', revision: 3 }, compacted(6)],
    [W('\0', 2, ALL), watchCanceled(3)],
    [W('\0', 3, { ...ALL, prevKv: true }), watch([evPut(B3), evPut(A4, A2), evPut(C4), evDel('b', 4, B3), evDel('a', 5, A4), evPut(A6)])],
  ]),
};

/**
 * Found by the differential fuzz: a txn can change one key twice in one revision (a put, then a delete
 * through a from-key range, whose "\0" end is an empty interval for the duplicate-key check). etcd
 * fills an event's prev_kv from the key AT revision - 1, so both events carry the pre-txn version.
 */
const case10b: GoldenCase = {
  name: '10b watch prev_kv when a txn puts then deletes (from-key) the same key: both events carry the key at revision - 1',
  ...pairs([
    [P('c', 'v1'), put(2)],
    [T([], [P('c', 'w'), D('c', '\0', true)]), txn(3, true, [put(3), del(3, 1, [kv('c', 'w', 2, 3, 2)])])],
    [R('\0', ALL), rng(3, 0, [])],
    [W('\0', 3, { ...ALL, prevKv: true }), watch([evPut(kv('c', 'w', 2, 3, 2), kv('c', 'v1', 2, 2, 1)), evDel('c', 3, kv('c', 'v1', 2, 2, 1))])],
    [W('\0', 2, ALL), watch([evPut(kv('c', 'v1', 2, 2, 1)), evPut(kv('c', 'w', 2, 3, 2)), evDel('c', 3)])],
  ]),
};

// ---------------------------------------------------------------------------------------------
// 11. Known Debian 3.4.23 divergences: asserted on ours with current etcd's behaviour.

const case11a: GoldenCase = {
  name: '11a #18089: a tombstone at the compacted revision is kept, a watch from it sees DELETE then PUT',
  ...pairs([
    [P('k', 'v2'), put(2)],
    [P('k', 'v3'), put(3)],
    [D('k'), del(4, 1)],
    [P('k', 'v6'), put(5)],
    [{ op: 'compact', revision: 4, physical: true }, compacted(5)],
    [W('k', 4), watch([evDel('k', 4), evPut(kv('k', 'v6', 5, 5, 1))])],
    [W('k', 4, { prevKv: true }), watch([evDel('k', 4), evPut(kv('k', 'v6', 5, 5, 1))])],
  ]),
  etcdSkip: `${DEBIAN_ETCD} has etcd issue #18089 (fixed in 3.4.34 / 3.5.16): after compaction at a key's deletion revision, a watch from that revision misses the DELETE (only "PUT k v6")`,
};

const case11b: GoldenCase = {
  name: '11b #13554: out-of-range sort order / target are InvalidArgument "invalid sort option"',
  ...pairs([
    [P('a', '1'), put(2)],
    [R('a', { sortOrder: 3 }), err('ERR_INVALID_SORT')],
    [R('a', { sortTarget: 5 }), err('ERR_INVALID_SORT')],
    [R('a', { sortOrder: 1, sortTarget: 4 }), rng(2, 1, [kv('a', '1', 2, 2, 1)])],
  ]),
  etcdSkip: `${DEBIAN_ETCD} accepts an out-of-range sort_order and dereferences a nil sorter on an out-of-range sort_target, killing the server (etcd issue #13554, fixed by #13555); current etcd rejects both in checkRangeRequest with InvalidArgument "etcdserver: invalid sort option"`,
};

export const GOLDEN: GoldenCase[] = [
  case1,
  case2,
  case3,
  case4,
  case4b,
  case4c,
  case5,
  case5b,
  case6,
  case7,
  case7b,
  case7c,
  case7d,
  case8,
  case9,
  case9b,
  case10,
  case10b,
  case11a,
  case11b,
];
