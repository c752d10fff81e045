/**
 * Property tests over random op sequences on a small key space: the engines agree with each
 * other, batching never changes an outcome, and the native parallel path equals the serial one.
 * The ops cover puts, deletes and ranges (at past revisions too), transactions (nested, with
 * compares), lease grants and revokes with puts on those leases, and compactions; an outcome is
 * every result, the events of every batch, the final state, the lease table and the replay of
 * the retained history.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchWriter, validateBatch } from '../ts/codec.js';
import { MetaStoreError } from '../ts/errors.js';
import type { EngineKind } from '../ts/engines/create-engine.js';
import {
  EventsMode,
  type Compare,
  type CompareResult,
  type CompareTarget,
  type Engine,
  type EngineOptions,
  type Op,
  type RangeOp,
  type RequestOp,
  type SortOrder,
  type SortTarget,
  type TxnOp,
} from '../ts/types.js';
import { ENGINE_KINDS, newEngine } from './engines.js';
import { b, delOp, dump, nevent, nres, putOp, rangeOp, results, show, type Dump, type NEvent, type NResult } from './helpers.js';

// Ten keys, with 0x00 and 0xff bytes and prefixes of each other.
const KEYS = [[0x61], [0x62], [0x63], [0x64], [0x65], [0x61, 0x00], [0x61, 0xff], [0x62, 0x62], [0xff], [0x00]].map((k) => b(k));
const VALUES = [[], [0x78], [0x79], [0x78, 0x78], [0x00], [0xff, 0x00]].map((v) => b(v));

const key = fc.constantFrom(...KEYS);
const rangeEnd = fc.oneof(
  { weight: 2, arbitrary: fc.constant(b([])) }, // single key
  { weight: 1, arbitrary: fc.constant(b([0])) }, // from key
  { weight: 3, arbitrary: fc.constantFrom(...KEYS, b([0x63, 0x63]), b([0xff, 0xff])) }, // interval, may be empty or inverted
);
// Mostly "latest"; otherwise a revision that may be compacted, current or future.
const revision = fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -2, max: 30 }) });
// Mostly unset, so that most reads return keys.
const filter = fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 }) });
const rarely = fc.constantFrom(false, false, false, true);

const put = fc
  .record({
    key,
    value: fc.constantFrom(...VALUES),
    prevKv: fc.boolean(),
    ignoreValue: rarely,
    ignoreLease: rarely,
    lease: fc.constantFrom(0, 0, 0, 0, 0, 1, 2, -7),
  })
  // Keep ops statically valid, so batching cannot turn one op's rejection into a batch's.
  .map((p) =>
    putOp(p.key, p.ignoreValue ? b([]) : p.value, {
      prevKv: p.prevKv,
      ignoreValue: p.ignoreValue,
      ignoreLease: p.ignoreLease,
      lease: p.ignoreLease ? 0 : p.lease,
    }),
  );
const deleteOne = fc.record({ key, prevKv: fc.boolean() }).map((d) => delOp(d.key, [], d.prevKv));
const deleteRange = fc.record({ key, end: rangeEnd, prevKv: fc.boolean() }).map((d) => delOp(d.key, d.end, d.prevKv));
const range = fc
  .record({
    key,
    end: rangeEnd,
    limit: fc.integer({ min: -1, max: 5 }),
    revision,
    sortOrder: fc.constantFrom<SortOrder>(0, 1, 2),
    sortTarget: fc.constantFrom<SortTarget>(0, 1, 2, 3, 4),
    serializable: fc.boolean(),
    keysOnly: rarely,
    countOnly: rarely,
    minModRevision: filter,
    maxModRevision: filter,
    minCreateRevision: filter,
    maxCreateRevision: filter,
  })
  .map(({ key: k, end, ...fields }) => rangeOp(k, { ...fields, rangeEnd: end }));

const compare: fc.Arbitrary<Compare> = fc
  .record({
    key,
    end: fc.oneof({ weight: 3, arbitrary: fc.constant(b([])) }, { weight: 1, arbitrary: rangeEnd }),
    target: fc.constantFrom<CompareTarget>(0, 1, 2, 3, 4),
    result: fc.constantFrom<CompareResult>(0, 1, 2, 3),
    number: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.integer({ min: 0, max: 30 }), fc.constantFrom(1, 2, -7)),
    value: fc.constantFrom(...VALUES),
  })
  // VALUE compares a value (operand 0); the others an operand (empty value).
  .map(
    (c): Compare => ({
      key: c.key,
      rangeEnd: c.end,
      target: c.target,
      result: c.result,
      operand: c.target === 3 ? 0 : c.number,
      value: c.target === 3 ? c.value : b([]),
    }),
  );

/** Whether an op alone makes a valid batch (transactions may break the duplicate-key rules). */
function valid(o: Op): boolean {
  try {
    validateBatch(new BatchWriter().op(o).peek());
    return true;
  } catch {
    return false;
  }
}

/** A transaction, nested up to `depth` levels, that passes the static checks. */
function txnOf(depth: number): fc.Arbitrary<TxnOp> {
  const inner: fc.Arbitrary<RequestOp> =
    depth <= 1
      ? fc.oneof({ weight: 4, arbitrary: put }, { weight: 2, arbitrary: deleteOne }, { weight: 1, arbitrary: deleteRange }, { weight: 2, arbitrary: range })
      : fc.oneof(
          { weight: 4, arbitrary: put },
          { weight: 2, arbitrary: deleteOne },
          { weight: 1, arbitrary: deleteRange },
          { weight: 2, arbitrary: range },
          { weight: 1, arbitrary: txnOf(depth - 1) },
        );
  return fc
    .record({
      compare: fc.array(compare, { maxLength: 3 }),
      success: fc.array(inner, { maxLength: 4 }),
      failure: fc.array(inner, { maxLength: 3 }),
    })
    .map((t): TxnOp => ({ type: 'txn', ...t }))
    .filter(valid);
}
const txn = txnOf(3);

const leaseGrant = fc.record({ id: fc.constantFrom(0, 0, 1, 2, -7), ttl: fc.constantFrom(-5, 0, 1, 5) }).map((g): Op => ({ type: 'leaseGrant', ...g }));
const leaseRevoke = fc.constantFrom(1, 2, 3, -7, 99).map((id): Op => ({ type: 'leaseRevoke', id }));
const compact = fc.record({ revision: fc.integer({ min: -1, max: 20 }), physical: fc.boolean() }).map((c): Op => ({ type: 'compact', ...c }));

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: put },
  { weight: 2, arbitrary: deleteOne },
  { weight: 1, arbitrary: deleteRange },
  { weight: 2, arbitrary: range },
  { weight: 2, arbitrary: txn },
  { weight: 2, arbitrary: leaseGrant },
  { weight: 1, arbitrary: leaseRevoke },
  { weight: 1, arbitrary: compact },
);
/** Single ops mixed with runs of puts and of single-key deletes (what the native engine parallelises). */
const script: fc.Arbitrary<Op[]> = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: op.map((o) => [o]) },
      { weight: 1, arbitrary: fc.array(put, { minLength: 2, maxLength: 8 }) },
      { weight: 1, arbitrary: fc.array(deleteOne, { minLength: 2, maxLength: 6 }) },
    ),
    { maxLength: 25, size: 'max' },
  )
  .map((chunks) => chunks.flat());
/** Cut points for splitting a script into several batches (repeats give empty batches). */
const cuts = fc.array(fc.nat({ max: 200 }), { maxLength: 6 });

interface Outcome {
  results: NResult[];
  /** The events of every batch, in order (applied with events and their previous values). */
  events: NEvent[];
  state: Dump;
  /** Every RANGE op of the script read again, standalone, on the final state. */
  reads: Array<NResult | { error: string }>;
  compactRevision: number;
  leases: Array<{ id: number; ttl: number; keys: string[] }>;
  /** The retained history replayed from the compacted revision on. */
  replay: NEvent[];
}

function split(ops: Op[], at: number[]): Op[][] {
  const points = [...new Set(at.map((n) => n % (ops.length + 1)))].sort((x, y) => x - y);
  const parts: Op[][] = [];
  let from = 0;
  for (const p of [...points, ops.length]) {
    parts.push(ops.slice(from, p));
    from = p;
  }
  return parts;
}

type Mode = { kind: 'batches'; at: number[] } | { kind: 'oneByOne' };

function run(kind: EngineKind, options: EngineOptions, ops: Op[], mode: Mode): Outcome {
  const engine: Engine = newEngine(kind, options);
  try {
    const out: NResult[] = [];
    const events: NEvent[] = [];
    const w = new BatchWriter();
    const parts = mode.kind === 'oneByOne' ? ops.map((o) => [o]) : split(ops, mode.at);
    for (const part of parts) {
      w.reset();
      for (const o of part) w.op(o);
      const r = engine.applyBatch(w.peek(), EventsMode.EVENTS_WITH_PREV);
      if (r.size !== part.length) throw new Error(`batch of ${part.length} ops gave ${r.size} results`);
      out.push(...results(r));
      events.push(...r.events().map(nevent));
    }
    const reads = ops
      .filter((o): o is RangeOp => o.type === 'range')
      .map((o) => {
        try {
          return nres(engine.range(o));
        } catch (e) {
          if (e instanceof MetaStoreError) return { error: e.code };
          throw e;
        }
      });
    const leases = engine.leases().map((id) => {
      const l = engine.leaseInfo(id)!;
      return { id, ttl: l.ttl, keys: l.keys.map(show) };
    });
    const compactRevision = engine.compactRevision;
    const replay = engine.changes(compactRevision, b([0]), b([0]), true).map(nevent);
    return { results: out, events, state: dump(engine), reads, compactRevision, leases, replay };
  } finally {
    engine.close();
  }
}

const ONE_BATCH: Mode = { kind: 'batches', at: [] };

it('(a) native and JS engines give identical per-op results and final state', () => {
  expect(ENGINE_KINDS).toEqual(['native', 'js']);
  fc.assert(
    fc.property(script, cuts, (ops, at) => {
      const mode: Mode = { kind: 'batches', at };
      expect(run('js', {}, ops, mode)).toEqual(run('native', {}, ops, mode));
    }),
    { numRuns: 1000 },
  );
});

describe.each(ENGINE_KINDS)('(b) batching never changes an outcome (%s engine)', (kind) => {
  it('one by one, one batch and a random split into several batches agree', () => {
    fc.assert(
      fc.property(script, cuts, (ops, at) => {
        const single = run(kind, {}, ops, { kind: 'oneByOne' });
        expect(run(kind, {}, ops, ONE_BATCH)).toEqual(single);
        expect(run(kind, {}, ops, { kind: 'batches', at })).toEqual(single);
      }),
      { numRuns: 300 },
    );
  });
});

describe.each(ENGINE_KINDS)('(c) the parallel apply path is invisible (%s engine)', (kind) => {
  it('parallelThreshold 2 with threads 1 and threads 2 agree with the default options', () => {
    fc.assert(
      fc.property(script, (ops) => {
        const reference = run(kind, {}, ops, ONE_BATCH);
        expect(run(kind, { parallelThreshold: 2, threads: 1 }, ops, ONE_BATCH)).toEqual(reference);
        expect(run(kind, { parallelThreshold: 2, threads: 2 }, ops, ONE_BATCH)).toEqual(reference);
        expect(run(kind, { parallelThreshold: 2 }, ops, ONE_BATCH)).toEqual(reference);
      }),
      { numRuns: kind === 'native' ? 300 : 100 },
    );
  });
});
