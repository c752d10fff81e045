/**
 * The lease table as apply keeps it (docs/codec.md "LEASE_GRANT", "LEASE_REVOKE", "Leases and
 * keys"; docs/etcd-semantics.md §2.9, §5 item 9, engine-level parts — no clocks here): grants with
 * engine-picked ids, TTL floor and ceiling, revoke deleting the attached keys in key order in one
 * revision, and keys attaching, moving and detaching.
 */

import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import type { ErrorCode } from '../ts/errors.js';
import { CompareResult, CompareTarget, EventsMode, MAX_LEASE_TTL, type Engine } from '../ts/types.js';
import { ENGINE_KINDS, engineFactory } from './engines.js';
import { b, catchSync, dump, kv, nevent, results, show, tomb, type NResult } from './helpers.js';

const fresh = engineFactory();

function run(e: Engine, build: (w: BatchWriter) => void): NResult[] {
  const w = new BatchWriter();
  build(w);
  return results(e.applyBatch(w.peek()));
}

/** A lease as leaseInfo reports it, keys shown as strings. */
function info(e: Engine, id: number): { ttl: number; keys: string[] } | undefined {
  const l = e.leaseInfo(id);
  if (l === undefined) return undefined;
  expect(l.id).toBe(id);
  return { ttl: l.ttl, keys: l.keys.map(show) };
}

describe.each(ENGINE_KINDS)('lease grant (%s engine)', (kind) => {
  it('id 0 takes the next id from 1; grants never change the revision', () => {
    const e = fresh(kind);
    expect(run(e, (w) => w.leaseGrant(0, 10).leaseGrant(0, 20).leaseGrant(0, 30))).toEqual([
      { type: 'leaseGrant', revision: 1, id: 1, ttl: 10 },
      { type: 'leaseGrant', revision: 1, id: 2, ttl: 20 },
      { type: 'leaseGrant', revision: 1, id: 3, ttl: 30 },
    ]);
    expect(e.revision).toBe(1);
    expect(e.leases()).toEqual([1, 2, 3]);
  });

  it('the counter skips ids in use', () => {
    const e = fresh(kind);
    expect(run(e, (w) => w.leaseGrant(1, 10).leaseGrant(2, 10).leaseGrant(4, 10).leaseGrant(0, 10).leaseGrant(0, 10).leaseGrant(0, 10))).toEqual([
      { type: 'leaseGrant', revision: 1, id: 1, ttl: 10 },
      { type: 'leaseGrant', revision: 1, id: 2, ttl: 10 },
      { type: 'leaseGrant', revision: 1, id: 4, ttl: 10 },
      { type: 'leaseGrant', revision: 1, id: 3, ttl: 10 },
      { type: 'leaseGrant', revision: 1, id: 5, ttl: 10 },
      { type: 'leaseGrant', revision: 1, id: 6, ttl: 10 },
    ]);
  });

  it('explicit ids: any non-zero id, negatives and large ones included; an id in use is ERR_LEASE_EXISTS', () => {
    const e = fresh(kind);
    const big = Number.MAX_SAFE_INTEGER;
    expect(run(e, (w) => w.leaseGrant(-7, 10).leaseGrant(big, 10).leaseGrant(-big, 10).leaseGrant(-7, 99).leaseGrant(big, 5))).toEqual([
      { type: 'leaseGrant', revision: 1, id: -7, ttl: 10 },
      { type: 'leaseGrant', revision: 1, id: big, ttl: 10 },
      { type: 'leaseGrant', revision: 1, id: -big, ttl: 10 },
      { type: 'error', revision: 1, code: 'ERR_LEASE_EXISTS' },
      { type: 'error', revision: 1, code: 'ERR_LEASE_EXISTS' },
    ]);
    expect(e.leases()).toEqual([-big, -7, big]);
    expect(info(e, -7)).toEqual({ ttl: 10, keys: [] }); // the failed grant changed nothing
  });

  it.each<[number, number]>([
    [-5, 2],
    [0, 2],
    [1, 2],
    [2, 2],
    [3, 3],
    [MAX_LEASE_TTL, MAX_LEASE_TTL],
  ])('TTL %i is granted as %i (minLeaseTtl 2)', (ttl, effective) => {
    const e = fresh(kind);
    expect(run(e, (w) => w.leaseGrant(0, ttl))).toEqual([{ type: 'leaseGrant', revision: 1, id: 1, ttl: effective }]);
    expect(info(e, 1)).toEqual({ ttl: effective, keys: [] });
  });

  it('the minLeaseTtl option sets the floor', () => {
    const e = fresh(kind, { minLeaseTtl: 30 });
    expect(run(e, (w) => w.leaseGrant(0, 5).leaseGrant(0, 30).leaseGrant(0, 31))).toEqual([
      { type: 'leaseGrant', revision: 1, id: 1, ttl: 30 },
      { type: 'leaseGrant', revision: 1, id: 2, ttl: 30 },
      { type: 'leaseGrant', revision: 1, id: 3, ttl: 31 },
    ]);
    expect(run(fresh(kind, { minLeaseTtl: 1 }), (w) => w.leaseGrant(0, 0))).toEqual([{ type: 'leaseGrant', revision: 1, id: 1, ttl: 1 }]);
  });

  it('a TTL over 9,000,000,000 rejects the batch (ERR_LEASE_TTL_TOO_LARGE), wherever the op is', () => {
    const e = fresh(kind);
    const w = new BatchWriter()
      .put('a', '1')
      .leaseGrant(1, 10)
      .leaseGrant(2, MAX_LEASE_TTL + 1);
    const err = catchSync(() => e.applyBatch(w.peek()));
    expect({ code: err.code, opIndex: err.opIndex }).toEqual({ code: 'ERR_LEASE_TTL_TOO_LARGE', opIndex: 2 });
    expect(e.leases()).toEqual([]);
    expect(e.revision).toBe(1);
  });

  it('leaseInfo and leases on unknown ids', () => {
    const e = fresh(kind);
    expect(e.leaseInfo(1)).toBeUndefined();
    expect(e.leaseInfo(0)).toBeUndefined();
    expect(e.leases()).toEqual([]);
  });
});

describe.each(ENGINE_KINDS)('lease revoke (%s engine)', (kind) => {
  it('an unknown id is ERR_LEASE_NOT_FOUND; a revoked lease is gone', () => {
    const e = fresh(kind);
    expect(run(e, (w) => w.leaseRevoke(1).leaseGrant(1, 10).leaseRevoke(1).leaseRevoke(1).leaseRevoke(0))).toEqual([
      { type: 'error', revision: 1, code: 'ERR_LEASE_NOT_FOUND' },
      { type: 'leaseGrant', revision: 1, id: 1, ttl: 10 },
      { type: 'leaseRevoke', revision: 1 },
      { type: 'error', revision: 1, code: 'ERR_LEASE_NOT_FOUND' },
      { type: 'error', revision: 1, code: 'ERR_LEASE_NOT_FOUND' },
    ]);
    expect(e.leaseInfo(1)).toBeUndefined();
    expect(e.leases()).toEqual([]);
  });

  it('revoke deletes the attached keys in key order in ONE revision, one DELETE event each', () => {
    const e = fresh(kind);
    run(e, (w) => w.leaseGrant(5, 10).put('zeta', 'z', { lease: 5 }).put('alpha', 'a', { lease: 5 }).put('mid', 'm', { lease: 5 }).put('free', 'f')); // 2..5
    expect(info(e, 5)).toEqual({ ttl: 10, keys: ['alpha', 'mid', 'zeta'] });
    const w = new BatchWriter().leaseRevoke(5).range('a', { rangeEnd: b('zz') });
    const r = e.applyBatch(w.peek(), EventsMode.EVENTS_WITH_PREV);
    expect(results(r)).toEqual([
      { type: 'leaseRevoke', revision: 6 },
      { type: 'range', revision: 6, count: 1, more: false, kvs: [kv('free', 'f', 5, 5, 1)] },
    ]);
    expect(r.events().map(nevent)).toEqual([
      { type: 'delete', kv: tomb('alpha', 6), prevKv: kv('alpha', 'a', 3, 3, 1, 5), subRevision: 0 },
      { type: 'delete', kv: tomb('mid', 6), prevKv: kv('mid', 'm', 4, 4, 1, 5), subRevision: 1 },
      { type: 'delete', kv: tomb('zeta', 6), prevKv: kv('zeta', 'z', 2, 2, 1, 5), subRevision: 2 },
    ]);
    expect(e.leases()).toEqual([]);
  });

  it('revoking a lease without keys does not bump the revision', () => {
    const e = fresh(kind);
    run(e, (w) => w.put('a', '1').leaseGrant(1, 10));
    const w = new BatchWriter().leaseRevoke(1);
    const r = e.applyBatch(w.peek(), EventsMode.EVENTS);
    expect(results(r)).toEqual([{ type: 'leaseRevoke', revision: 2 }]);
    expect(r.events()).toEqual([]);
    expect(e.revision).toBe(2);
  });

  it('a put with a revoked lease is ERR_LEASE_NOT_FOUND', () => {
    const e = fresh(kind);
    expect(run(e, (w) => w.leaseGrant(1, 10).put('a', '1', { lease: 1 }).leaseRevoke(1).put('a', '2', { lease: 1 }).put('b', '1', { lease: 2 }))).toEqual([
      { type: 'leaseGrant', revision: 1, id: 1, ttl: 10 },
      { type: 'put', revision: 2 },
      { type: 'leaseRevoke', revision: 3 },
      { type: 'error', revision: 3, code: 'ERR_LEASE_NOT_FOUND' },
      { type: 'error', revision: 3, code: 'ERR_LEASE_NOT_FOUND' },
    ]);
    expect(dump(e).kvs).toEqual([]);
  });
});

describe.each(ENGINE_KINDS)('keys and leases (%s engine)', (kind) => {
  /** Leases 1 and 2 granted. */
  function leased(): Engine {
    const e = fresh(kind);
    run(e, (w) => w.leaseGrant(1, 10).leaseGrant(2, 10));
    return e;
  }

  type Step = [string, (w: BatchWriter) => void, { 1: string[]; 2: string[] }, string[]];
  // name, the batch, keys of leases 1 and 2 afterwards, key:lease of every live key afterwards
  const steps: Step[] = [
    ['a put with a lease attaches the key', (w) => w.put('k', 'v', { lease: 1 }), { 1: ['k'], 2: [] }, ['k:1']],
    ['a put with another lease moves it', (w) => w.put('k', 'v', { lease: 1 }).put('k', 'v', { lease: 2 }), { 1: [], 2: ['k'] }, ['k:2']],
    ['a put with lease 0 detaches it', (w) => w.put('k', 'v', { lease: 1 }).put('k', 'w'), { 1: [], 2: [] }, ['k:0']],
    ['ignoreLease keeps it', (w) => w.put('k', 'v', { lease: 1 }).put('k', 'w', { ignoreLease: true }), { 1: ['k'], 2: [] }, ['k:1']],
    [
      'ignoreValue with a lease moves it and keeps the value',
      (w) => w.put('k', 'v', { lease: 1 }).put('k', '', { ignoreValue: true, lease: 2 }),
      { 1: [], 2: ['k'] },
      ['k:2'],
    ],
    ['a put to the same lease keeps it', (w) => w.put('k', 'v', { lease: 1 }).put('k', 'w', { lease: 1 }), { 1: ['k'], 2: [] }, ['k:1']],
    ['a delete detaches it', (w) => w.put('k', 'v', { lease: 1 }).put('j', 'v', { lease: 1 }).deleteRange('k'), { 1: ['j'], 2: [] }, ['j:1']],
    [
      'a range delete detaches every key',
      (w) => w.put('k', 'v', { lease: 1 }).put('j', 'v', { lease: 2 }).put('l', 'v', { lease: 1 }).deleteRange('j', 'l'),
      { 1: ['l'], 2: [] },
      ['l:1'],
    ],
    ['a re-created key starts without a lease', (w) => w.put('k', 'v', { lease: 1 }).deleteRange('k').put('k', 'v'), { 1: [], 2: [] }, ['k:0']],
    [
      'txn puts attach and move too',
      (w) =>
        w.put('k', 'v', { lease: 1 }).txn(
          [],
          (s) => s.put('k', 'v', { lease: 2 }).put('m', 'v', { lease: 1 }),
          () => {},
        ),
      { 1: ['m'], 2: ['k'] },
      ['k:2', 'm:1'],
    ],
    ['a failed put changes nothing', (w) => w.put('k', 'v', { lease: 1 }).put('k', 'w', { lease: 3 }), { 1: ['k'], 2: [] }, ['k:1']],
    [
      'a failed txn changes nothing',
      (w) =>
        w.put('k', 'v', { lease: 1 }).txn(
          [],
          (s) => s.put('k', 'v', { lease: 2 }).put('x', 'v', { lease: 3 }),
          () => {},
        ),
      { 1: ['k'], 2: [] },
      ['k:1'],
    ],
  ];

  it.each(steps)('%s', (_name, build, keys, live) => {
    const e = leased();
    run(e, build);
    expect({ 1: info(e, 1)!.keys, 2: info(e, 2)!.keys }).toEqual(keys);
    expect(dump(e).kvs.map((x) => `${x.key}:${x.lease}`)).toEqual(live);
  });

  it('revoke deletes only the keys still attached', () => {
    const e = leased();
    run(e, (w) => w.put('a', '1', { lease: 1 }).put('b', '1', { lease: 1 }).put('c', '1', { lease: 1 }).put('b', '2', { lease: 2 }).put('c', '2')); // 2..6
    expect(run(e, (w) => w.leaseRevoke(1))).toEqual([{ type: 'leaseRevoke', revision: 7 }]);
    expect(dump(e).kvs).toEqual([kv('b', '2', 3, 5, 2, 2), kv('c', '2', 4, 6, 2)]);
    expect(e.leases()).toEqual([2]);
  });

  it('attached keys are listed in bytewise key order', () => {
    const e = leased();
    const keys = [b([0xff]), b('b'), b([0x61, 0x00]), b('a'), b([0x00]), b('ab')];
    const w = new BatchWriter();
    for (const k of keys) w.put(k, 'v', { lease: 1 });
    e.applyBatch(w.peek());
    expect(info(e, 1)!.keys).toEqual(['hex:00', 'a', 'hex:6100', 'ab', 'b', 'hex:ff']);
  });

  it('a LEASE compare sees attachments made before the txn only', () => {
    const e = leased();
    run(e, (w) => w.put('k', 'v', { lease: 1 }));
    const [r] = run(e, (w) =>
      w.txn(
        [{ key: 'k', target: CompareTarget.LEASE, result: CompareResult.EQUAL, operand: 1 }],
        (s) => s.put('k', 'v', { lease: 2 }).range('k'),
        (f) => f.range('k'),
      ),
    );
    expect(r).toMatchObject({
      type: 'txn',
      succeeded: true,
      responses: [
        { type: 'put', revision: 3 },
        { type: 'range', kvs: [kv('k', 'v', 2, 3, 2, 2)] },
      ],
    });
  });

  it('a put with a lease in a txn needs the lease before the txn', () => {
    const e = leased();
    const codes = run(e, (w) =>
      w.leaseRevoke(2).txn(
        [],
        (s) => s.put('k', 'v', { lease: 2 }),
        () => {},
      ),
    );
    expect(codes.map((r) => (r.type === 'error' ? r.code : r.type))).toEqual<Array<string | ErrorCode>>(['leaseRevoke', 'ERR_LEASE_NOT_FOUND']);
  });
});

describe.each(ENGINE_KINDS)('engine-picked ids are never handed out twice (%s engine)', (kind) => {
  it('a revoked id is not handed out again', () => {
    const e = fresh(kind);
    expect(run(e, (w) => w.leaseGrant(0, 10).leaseRevoke(1).leaseGrant(0, 10).leaseGrant(0, 10))).toEqual([
      { type: 'leaseGrant', revision: 1, id: 1, ttl: 10 },
      { type: 'leaseRevoke', revision: 1 },
      { type: 'leaseGrant', revision: 1, id: 2, ttl: 10 },
      { type: 'leaseGrant', revision: 1, id: 3, ttl: 10 },
    ]);
  });
});

describe.each(ENGINE_KINDS)('put check order (%s engine)', (kind) => {
  it("a put on its own checks the lease first (etcd's applyPut), inside a txn the key first", () => {
    const e = fresh(kind);
    expect(
      run(e, (w) =>
        w.put('missing', '', { ignoreValue: true, lease: 42 }).txn(
          [],
          (s) => s.put('missing', '', { ignoreValue: true, lease: 42 }),
          () => {},
        ),
      ),
    ).toEqual([
      { type: 'error', revision: 1, code: 'ERR_LEASE_NOT_FOUND' },
      { type: 'error', revision: 1, code: 'ERR_KEY_NOT_FOUND' },
    ]);
  });
});
