/**
 * Transactions through the façade (docs/etcd-semantics.md §2.6; §5 items 3, 6, 7): the builder and the
 * plain-object form, their encoding, response decoding, and etcd's txn rules on both engines.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { BatchWriter, decodeBatch } from '../ts/codec.js';
import { MetaStore } from '../ts/store.js';
import { op, toTxnOp, Txn, writeTxn, type TxnRequest, type TxnResponse } from '../ts/facade/txn.js';
import { CompareResult, CompareTarget, type TxnOp } from '../ts/types.js';
import { ENGINE_KINDS } from './engines.js';
import { b, catchAsync, catchSync, kv, nkv, show } from './helpers.js';

const stores: MetaStore[] = [];
async function openStore(engine: (typeof ENGINE_KINDS)[number]): Promise<MetaStore> {
  const s = await MetaStore.open({ engine, leaseCheckIntervalMs: 0 });
  stores.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** Encodes a plain-object txn alone in a batch and decodes it back. */
function roundTrip(request: TxnRequest): TxnOp {
  const w = new BatchWriter();
  writeTxn(w, request);
  const ops = decodeBatch(w.finish());
  expect(ops).toHaveLength(1);
  return ops[0] as TxnOp;
}

/** A txn response with bytes as strings. */
function ntxn(r: TxnResponse): unknown {
  return {
    succeeded: r.succeeded,
    revision: r.revision,
    responses: r.responses.map((x) => {
      switch (x.type) {
        case 'put':
          return x.prevKv === undefined ? { type: 'put', revision: x.revision } : { type: 'put', revision: x.revision, prevKv: nkv(x.prevKv) };
        case 'delete':
          return { type: 'delete', revision: x.revision, deleted: x.deleted, prevKvs: x.prevKvs.map(nkv) };
        case 'range':
          return { type: 'range', revision: x.revision, count: x.count, more: x.more, kvs: x.kvs.map(nkv) };
        case 'txn':
          return { type: 'txn', ...(ntxn(x) as object) };
      }
    }),
  };
}

describe('txn encoding (engine-independent)', () => {
  it('the builder and the plain-object form write the same TXN op', () => {
    const captured: TxnRequest[] = [];
    const t = new Txn(async (r) => {
      captured.push(r);
      return { succeeded: true, revision: 0, responses: [] };
    });
    t.if('a', 'value', '==', 'x')
      .if({ prefix: 'p/' }, 'mod', '>', 3)
      .if('c', 'version', '!=', 0)
      .if('d', 'create', '<', 10)
      .if('e', 'lease', '===', 7)
      .then(op.put('a', 'y', { prevKv: true, lease: 5 }), op.get('a'), op.delete({ prefix: 'q/' }, { prevKv: true }))
      .else(op.range({ start: 'a', end: 'z', limit: 2, revision: 4, keysOnly: true }), op.txn({ success: [op.put('n', 'v', { ignoreLease: true })] }));
    const request = t.toRequest();
    const decoded = roundTrip(request);
    expect(decoded.type).toBe('txn');
    expect(decoded.compare.map((c) => [c.target, c.result, show(c.key), show(c.rangeEnd), c.operand, show(c.value)])).toEqual([
      [CompareTarget.VALUE, CompareResult.EQUAL, 'a', '', 0, 'x'],
      [CompareTarget.MOD, CompareResult.GREATER, 'p/', 'p0', 3, ''],
      [CompareTarget.VERSION, CompareResult.NOT_EQUAL, 'c', '', 0, ''],
      [CompareTarget.CREATE, CompareResult.LESS, 'd', '', 10, ''],
      [CompareTarget.LEASE, CompareResult.EQUAL, 'e', '', 7, ''],
    ]);
    const [put, get, del] = decoded.success;
    expect(put).toMatchObject({ type: 'put', lease: 5, prevKv: true, ignoreValue: false, ignoreLease: false });
    expect(show((put as { key: Uint8Array }).key)).toBe('a');
    expect(get).toMatchObject({ type: 'range', limit: 0, revision: 0 });
    expect(del).toMatchObject({ type: 'deleteRange', prevKv: true });
    expect(show((del as { rangeEnd: Uint8Array }).rangeEnd)).toBe('q0');
    const [range, nested] = decoded.failure;
    expect(range).toMatchObject({ type: 'range', limit: 2, revision: 4, keysOnly: true });
    expect(show((range as { rangeEnd: Uint8Array }).rangeEnd)).toBe('z');
    expect(nested).toMatchObject({ type: 'txn', compare: [], failure: [] });
    expect((nested as TxnOp).success[0]).toMatchObject({ type: 'put', ignoreLease: true });
    // The engine-level form encodes to the same bytes.
    const w0 = new BatchWriter();
    writeTxn(w0, request);
    expect(show(new BatchWriter().op(toTxnOp(request)).finish())).toBe(show(w0.finish()));
    // The plain form the builder produced encodes byte for byte like the builder's own commit.
    const w1 = new BatchWriter();
    writeTxn(w1, request);
    const w2 = new BatchWriter();
    writeTxn(w2, JSON.parse(JSON.stringify(request)) as TxnRequest);
    expect(show(w2.finish())).toBe(show(w1.finish()));
  });

  it('the builders give exactly the fields passed: no extra keys, no undefined ones', () => {
    const key = Uint8Array.of(1, 2);
    expect(op.put('a', 'v')).toStrictEqual({ put: { key: 'a', value: 'v' } });
    expect(op.put(key, 'v', { lease: 7, prevKv: true })).toStrictEqual({ put: { key, value: 'v', lease: 7, prevKv: true } });
    expect(op.put('a', '', { ignoreValue: true, ignoreLease: false })).toStrictEqual({ put: { key: 'a', value: '', ignoreValue: true, ignoreLease: false } });
    expect(op.delete('a')).toStrictEqual({ delete: { key: 'a' } });
    expect(op.delete({ prefix: 'p/' }, { prevKv: true })).toStrictEqual({ delete: { prefix: 'p/', prevKv: true } });
    expect(op.delete({ start: 'a', end: 'c' })).toStrictEqual({ delete: { start: 'a', end: 'c' } });
    expect(op.delete({ fromKey: 'm' }, {})).toStrictEqual({ delete: { fromKey: 'm' } });
    const selector = { prefix: 'q/' };
    const t = new Txn(async () => ({ succeeded: true, revision: 0, responses: [] }))
      .if('a', 'value', '==', 'x')
      .if(selector, 'mod', '>', 3)
      .if({ key: 'k', end: 'l' }, 'version', '<', 2);
    expect(t.toRequest().compare).toStrictEqual([
      { key: 'a', target: 'value', result: '==', value: 'x' },
      { prefix: 'q/', target: 'mod', result: '>', value: 3 },
      { key: 'k', end: 'l', target: 'version', result: '<', value: 2 },
    ]);
    // The caller's selector object is copied, not changed.
    expect(selector).toStrictEqual({ prefix: 'q/' });
  });

  it('an empty txn encodes as a TXN with no compares and no ops', () => {
    expect(roundTrip({})).toEqual({ type: 'txn', compare: [], success: [], failure: [] });
  });

  it('bad compares and ops are refused with typed errors before anything is written', () => {
    const t = new Txn(async () => ({ succeeded: true, revision: 0, responses: [] }));
    expect(catchSync(() => t.if('a', 'bogus' as never, '==', 1)).code).toBe('ERR_INVALID_OPTION');
    expect(catchSync(() => t.if('a', 'mod', '=~' as never, 1)).code).toBe('ERR_INVALID_OPTION');
    expect(catchSync(() => t.if('a', 'value', '==', 1)).code).toBe('ERR_INVALID_TYPE');
    expect(catchSync(() => t.if('a', 'mod', '==', 'x')).code).toBe('ERR_INVALID_TYPE');
    expect(catchSync(() => t.if('a', 'mod', '==', 1.5)).code).toBe('ERR_INVALID_TYPE');
    expect(catchSync(() => t.if({ start: 'b', end: 'a' }, 'mod', '==', 1)).code).toBe('ERR_INVALID_RANGE');
    expect(catchSync(() => t.if(null as never, 'mod', '==', 1)).code).toBe('ERR_INVALID_OPTION');
    expect(catchSync(() => t.if(7 as never, 'mod', '==', 1)).code).toBe('ERR_INVALID_OPTION');
    expect(catchSync(() => roundTrip({ success: [op.delete(null as never)] })).code).toBe('ERR_INVALID_OPTION');
    expect(catchSync(() => t.then(null as never)).code).toBe('ERR_INVALID_TYPE');
    expect(catchSync(() => roundTrip({ success: [{ put: { key: 'a', value: 'b' }, range: { key: 'a' } } as never] })).code).toBe('ERR_INVALID_OPTION');
    expect(catchSync(() => roundTrip({ success: [{ put: { key: 5, value: 'b' } } as never] })).code).toBe('ERR_INVALID_TYPE');
    expect(catchSync(() => roundTrip({ compare: 'x' as never })).code).toBe('ERR_INVALID_TYPE');
  });
});

describe.each(ENGINE_KINDS)('txn through the façade (%s engine)', (kind) => {
  it('a true compare runs the success branch: one revision for all writes, per-op header revisions', async () => {
    const s = await openStore(kind);
    await s.put('a', '1'); // rev 2
    const r = await s
      .txn()
      .if('a', 'value', '==', '1')
      .then(op.get('a'), op.put('b', '2'), op.put('c', '3', { prevKv: true }), op.get('b'))
      .else(op.put('x', 'no'))
      .commit();
    expect(ntxn(r)).toEqual({
      succeeded: true,
      revision: 3,
      responses: [
        { type: 'range', revision: 2, count: 1, more: false, kvs: [kv('a', '1', 2, 2, 1)] },
        { type: 'put', revision: 3 },
        { type: 'put', revision: 3 },
        { type: 'range', revision: 3, count: 1, more: false, kvs: [kv('b', '2', 3, 3, 1)] },
      ],
    });
    expect(s.revision).toBe(3);
    expect(s.get('x')).toBeUndefined();
    expect(nkv(s.get('c')!)).toEqual(kv('c', '3', 3, 3, 1));
  });

  it('a false compare runs the failure branch', async () => {
    const s = await openStore(kind);
    await s.put('a', '1');
    const r = await s
      .txn()
      .if('a', 'value', '==', 'other')
      .then(op.put('x', 'yes'))
      .else(op.put('y', 'no'), op.delete('a', { prevKv: true }))
      .commit();
    expect(ntxn(r)).toEqual({
      succeeded: false,
      revision: 3,
      responses: [
        { type: 'put', revision: 3 },
        { type: 'delete', revision: 3, deleted: 1, prevKvs: [kv('a', '1', 2, 2, 1)] },
      ],
    });
    expect(s.get('x')).toBeUndefined();
    expect(s.get('a')).toBeUndefined();
    expect(s.getString('y')).toBe('no');
  });

  it('compares: every target on an existing key, a missing key, and a range', async () => {
    const s = await openStore(kind);
    await s.put('k', 'v'); // 2
    await s.put('k', 'w'); // 3: create 2, mod 3, version 2
    await s.put('p/1', 'x'); // 4
    await s.put('p/2', 'x'); // 5
    const holds = async (...c: Parameters<Txn['if']>): Promise<boolean> =>
      (
        await s
          .txn()
          .if(...c)
          .commit()
      ).succeeded;
    expect(await holds('k', 'value', '==', 'w')).toBe(true);
    expect(await holds('k', 'value', '>', 'v')).toBe(true);
    expect(await holds('k', 'value', '<', 'v')).toBe(false);
    expect(await holds('k', 'version', '==', 2)).toBe(true);
    expect(await holds('k', 'create', '==', 2)).toBe(true);
    expect(await holds('k', 'mod', '>', 2)).toBe(true);
    expect(await holds('k', 'mod', '!=', 3)).toBe(false);
    expect(await holds('k', 'lease', '==', 0)).toBe(true);
    // A missing key compares as a zero KeyValue, except value compares, which are false.
    expect(await holds('none', 'version', '==', 0)).toBe(true);
    expect(await holds('none', 'create', '<', 1)).toBe(true);
    expect(await holds('none', 'value', '==', '')).toBe(false);
    expect(await holds('none', 'value', '!=', 'x')).toBe(false);
    // A range: every key must satisfy it.
    expect(await holds({ prefix: 'p/' }, 'value', '==', 'x')).toBe(true);
    expect(await holds({ prefix: 'p/' }, 'mod', '>', 4)).toBe(false);
    expect(await holds({ prefix: 'p/' }, 'mod', '>', 3)).toBe(true);
    expect(await holds({ prefix: 'none/' }, 'value', '==', 'x')).toBe(false);
    // All compares of one txn must hold.
    expect((await s.txn().if('k', 'version', '==', 2).if('k', 'value', '==', 'nope').commit()).succeeded).toBe(false);
    expect(s.revision).toBe(5); // read-only txns never bump
  });

  it('the plain-object form and nested txns', async () => {
    const s = await openStore(kind);
    await s.put('a', '1'); // 2
    const r = await s.txn({
      compare: [{ key: 'a', target: 'version', result: '>', value: 0 }],
      success: [
        { put: { key: 'b', value: 'B' } },
        op.txn({ compare: [{ key: 'b', target: 'value', result: '==', value: 'B' }], success: [op.put('c', 'C')], failure: [] }),
        { range: { prefix: '', keysOnly: true } },
      ],
    });
    expect(ntxn(r)).toEqual({
      succeeded: true,
      revision: 3,
      responses: [
        { type: 'put', revision: 3 },
        // The nested compare saw the state before the whole txn: b did not exist.
        { type: 'txn', succeeded: false, revision: 3, responses: [] },
        { type: 'range', revision: 3, count: 2, more: false, kvs: [kv('a', '', 2, 2, 1), kv('b', '', 3, 3, 1)] },
      ],
    });
  });

  it('a txn whose taken branch cannot run fails whole; the untaken branch is not checked', async () => {
    const s = await openStore(kind);
    await s.put('a', '1');
    const e = await catchAsync(() =>
      s
        .txn()
        .then(op.put('x', '1'), op.put('y', '2', { lease: 99 }))
        .commit(),
    );
    expect(e.code).toBe('ERR_LEASE_NOT_FOUND');
    expect(s.revision).toBe(2);
    expect(s.get('x')).toBeUndefined();
    const ok = await s
      .txn()
      .if('a', 'value', '==', '1')
      .then(op.put('x', '1'))
      .else(op.put('y', '2', { lease: 99 }))
      .commit();
    expect(ok.succeeded).toBe(true);
    expect(
      (
        await catchAsync(() =>
          s
            .txn()
            .then(op.put('m', '', { ignoreValue: true }))
            .commit(),
        )
      ).code,
    ).toBe('ERR_KEY_NOT_FOUND');
    expect(
      (
        await catchAsync(() =>
          s
            .txn()
            .then(op.range({ key: 'a', revision: 99 }))
            .commit(),
        )
      ).code,
    ).toBe('ERR_FUTURE_REV');
  });

  it('static checks: duplicate keys, too many ops, input types', async () => {
    const s = await openStore(kind);
    expect((await catchAsync(() => s.txn().then(op.put('a', '1'), op.put('a', '2')).commit())).code).toBe('ERR_DUPLICATE_KEY');
    expect(
      (
        await catchAsync(() =>
          s
            .txn()
            .then(op.put('a', '1'), op.delete({ prefix: 'a' }))
            .commit(),
        )
      ).code,
    ).toBe('ERR_DUPLICATE_KEY');
    // then/else of one nested txn may put the same key; overlapping deletes are fine.
    await s
      .txn()
      .then(op.txn({ success: [op.put('a', '1')], failure: [op.put('a', '2')] }), op.delete({ prefix: 'b' }), op.delete('b1'))
      .commit();
    const many = Array.from({ length: 129 }, (_, i) => op.put(`k${i}`, 'v'));
    expect(
      (
        await catchAsync(() =>
          s
            .txn()
            .then(...many)
            .commit(),
        )
      ).code,
    ).toBe('ERR_TOO_MANY_OPS');
    await s
      .txn()
      .then(...many.slice(0, 128))
      .commit();
    expect(s.size).toBe(129);
    expect((await catchAsync(() => s.txn({ success: [op.put('', 'x')] }))).code).toBe('ERR_KEY_NOT_PROVIDED');
  });

  it('awaiting a builder without commit() rejects instead of hanging', async () => {
    const s = await openStore(kind);
    const e = await catchAsync(async () => {
      await (s.txn().then(op.put('a', '1')) as unknown as Promise<unknown>);
    });
    expect(e.code).toBe('ERR_INVALID_TYPE');
    expect(s.get('a')).toBeUndefined();
  });

  it('bytes keys and values work in compares and ops', async () => {
    const s = await openStore(kind);
    await s.put(b([1, 2, 0xff]), b([0, 0]));
    const r = await s
      .txn()
      .if(b([1, 2, 0xff]), 'value', '==', b([0, 0]))
      .then(op.get(b([1, 2, 0xff])))
      .commit();
    expect(r.succeeded).toBe(true);
    expect(r.responses[0]!.type === 'range' && [...r.responses[0].kvs[0]!.value]).toEqual([0, 0]);
  });
});
