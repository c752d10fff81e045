/**
 * Which engine `MetaStore.open` picks. The fallback when the native binary cannot load is tested
 * separately (it needs a platform without the binary).
 */

import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import { createEngine } from '../ts/engines/create-engine.js';
import { MetaStoreError } from '../ts/errors.js';
import { MetaStore } from '../ts/store.js';
import { ENGINE_KINDS } from './engines.js';
import { b, catchAsync, catchSync, rangeOp } from './helpers.js';

describe('engine selection', () => {
  it('open() defaults to the native engine here, with no load error', async () => {
    const s = await MetaStore.open();
    try {
      expect(s.engine).toBe('native');
      expect(s.nativeLoadError).toBeUndefined();
      await s.put('a', '1');
      expect(s.revision).toBe(2);
    } finally {
      await s.close();
    }
  });

  it.each([
    ['auto', 'native'],
    ['native', 'native'],
    ['js', 'js'],
  ] as const)("engine '%s' gives the %s engine", async (engine, expected) => {
    const s = await MetaStore.open({ engine });
    try {
      expect(s.engine).toBe(expected);
      expect(s.nativeLoadError).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it.each(['rust', 'JS', '', 'wasm'])('an invalid engine name %j is ERR_INVALID_OPTION', async (engine) => {
    expect((await catchAsync(() => MetaStore.open({ engine: engine as 'js' }))).code).toBe('ERR_INVALID_OPTION');
    expect(catchSync(() => createEngine(engine as 'js')).code).toBe('ERR_INVALID_OPTION');
  });
});

describe.each(ENGINE_KINDS)('engine options (%s engine)', (kind) => {
  it.each([
    ['maxValueBytes', -1],
    ['maxValueBytes', 1.5],
    ['maxKeyBytes', Number.NaN],
    ['parallelThreshold', 2 ** 32],
    ['threads', -2],
  ] as const)('%s = %s is ERR_INVALID_OPTION', async (name, value) => {
    expect((await catchAsync(() => MetaStore.open({ engine: kind, [name]: value }))).code).toBe('ERR_INVALID_OPTION');
  });

  it('the engine options reach the engine', async () => {
    const s = await MetaStore.open({ engine: kind, maxValueBytes: 3, maxKeyBytes: 2, parallelThreshold: 2, threads: 1 });
    try {
      expect(s.engine).toBe(kind);
      expect(await s.put('ab', 'xyz')).toEqual({ revision: 2 });
      expect((await catchAsync(() => s.put('ab', 'wxyz'))).code).toBe('ERR_VALUE_TOO_LARGE');
      expect((await catchAsync(() => s.put('abc', 'x'))).code).toBe('ERR_KEY_TOO_LARGE');
    } finally {
      await s.close();
    }
  });
});

describe.each(ENGINE_KINDS)('engine lifecycle (%s engine)', (kind) => {
  it('after close() every engine call throws ERR_CLOSED', () => {
    const e = createEngine(kind);
    e.applyBatch(new BatchWriter().put('a', '1').peek());
    e.close();
    const calls: Array<[string, () => unknown]> = [
      ['revision', () => e.revision],
      ['size', () => e.size],
      ['get', () => e.get(b('a'))],
      ['get (empty key)', () => e.get(b(''))],
      ['get (large key)', () => e.get(new Uint8Array(100_000))],
      ['getText', () => e.getText('a')],
      ['getText (empty key)', () => e.getText('')],
      ['range', () => e.range(rangeOp('a'))],
      ['compactRevision', () => e.compactRevision],
      ['changes', () => e.changes(1, b('a'), b(''), false)],
      ['leaseInfo', () => e.leaseInfo(1)],
      ['leases', () => e.leases()],
      ['applyBatch', () => e.applyBatch(new BatchWriter().put('b', '1').peek())],
      ['applyBatch (empty)', () => e.applyBatch(new BatchWriter().peek())],
    ];
    for (const [name, call] of calls) expect({ name, code: catchSync(call).code }).toEqual({ name, code: 'ERR_CLOSED' });
  });
});

describe('both engines alike', () => {
  /** What a call did: returned (normally) or threw (which code). */
  function outcome(f: () => unknown): string {
    try {
      f();
      return 'ok';
    } catch (e) {
      return e instanceof MetaStoreError ? e.code : `non-MetaStoreError: ${String(e)}`;
    }
  }

  it('a second close() of an engine does the same on both engines', () => {
    const outcomes = ENGINE_KINDS.map((kind) => {
      const e = createEngine(kind);
      e.close();
      return { kind, secondClose: outcome(() => e.close()) };
    });
    expect(outcomes.map((o) => o.secondClose)).toEqual(ENGINE_KINDS.map(() => outcomes[0]!.secondClose));
  });

  it.each([
    ['maxValueBytes', 2 ** 29],
    ['maxValueBytes', 2 ** 32 - 1],
    ['maxKeyBytes', 2 ** 32 - 1],
  ] as const)('%s = %i (valid for createEngine: 0..2^32 − 1) is accepted by both engines', (name, value) => {
    const outcomes = ENGINE_KINDS.map((kind) => outcome(() => createEngine(kind, { [name]: value }).close()));
    expect(outcomes).toEqual(ENGINE_KINDS.map(() => 'ok'));
  });
});

describe('MetaStoreError across copies of the package', () => {
  it('instanceof holds for an error made by another copy (same registered brand)', async () => {
    // A second copy of the class, as the CommonJS build is beside the ESM one.
    const copy = await import('../ts/errors.js?copy' as string);
    expect(copy.MetaStoreError).not.toBe(MetaStoreError);
    const foreign = new copy.MetaStoreError('ERR_CLOSED', 'from another copy');
    expect(foreign).toBeInstanceOf(MetaStoreError);
    expect(new MetaStoreError('ERR_CLOSED', 'here')).toBeInstanceOf(copy.MetaStoreError);
    expect(new Error('plain')).not.toBeInstanceOf(MetaStoreError);
    expect({ code: 'ERR_CLOSED' }).not.toBeInstanceOf(MetaStoreError);
  });
});
