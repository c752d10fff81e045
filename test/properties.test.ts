/**
 * Property tests over random op sequences on a small key space: the engines agree with each
 * other, batching never changes an outcome, and the native parallel path equals the serial one.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import { MetaStoreError } from '../ts/errors.js';
import type { EngineKind } from '../ts/engine.js';
import type { Engine, EngineOptions, Op, RangeOp, SortOrder, SortTarget } from '../ts/types.js';
import { ENGINE_KINDS, newEngine } from './engines.js';
import { applyOneByOne, b, delOp, dump, nres, putOp, rangeOp, results, type Dump, type NResult } from './helpers.js';

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
    lease: fc.constantFrom(0, 0, 0, 1),
  })
  // Keep ops statically valid, so batching cannot turn one op's rejection into a batch's.
  .map((p) => putOp(p.key, p.ignoreValue ? b([]) : p.value, { prevKv: p.prevKv, ignoreValue: p.ignoreValue, ignoreLease: p.ignoreLease, lease: p.ignoreLease ? 0 : p.lease }));
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

const op: fc.Arbitrary<Op> = fc.oneof({ weight: 5, arbitrary: put }, { weight: 2, arbitrary: deleteOne }, { weight: 1, arbitrary: deleteRange }, { weight: 2, arbitrary: range });
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
  state: Dump;
  /** Every RANGE op of the script read again, standalone, on the final state. */
  reads: Array<NResult | { error: string }>;
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
    if (mode.kind === 'oneByOne') out.push(...applyOneByOne(engine, ops));
    else {
      const w = new BatchWriter();
      for (const part of split(ops, mode.at)) {
        w.reset();
        for (const o of part) w.op(o);
        const r = engine.applyBatch(w.peek());
        if (r.size !== part.length) throw new Error(`batch of ${part.length} ops gave ${r.size} results`);
        out.push(...results(r));
      }
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
    return { results: out, state: dump(engine), reads };
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
