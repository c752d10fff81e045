/**
 * The options of `MetaStore.open` and `createEngine` (issue #13, item 8), table-driven: every
 * option's edge values are accepted and each invalid value (out of range, a fraction, another
 * type, an unknown name) is ERR_INVALID_OPTION naming the option and its range — the same
 * refusal on every engine, decided before an engine is chosen or anything is allocated.
 */

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../ts/engines/create-engine.js';
import { MetaStoreError } from '../ts/errors.js';
import { monotonicClock } from '../ts/lease/lessor.js';
import { resolveOpenOptions } from '../ts/facade/open-options.js';
import { MetaStore, type OpenOptions } from '../ts/store.js';
import { ENGINE_KINDS } from './engines.js';
import { catchAsync, catchSync } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'metastore-options-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newPath = () => join(root, `s${dirs++}`);

const KiB = 1024;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;
const MAX_U32 = 2 ** 32 - 1;
const DAY_MS = 86_400_000;
type Any = any;

/** Opens with `options` on `engine`, closes, and says 'ok' or the error's code and message. */
async function outcome(engine: 'auto' | 'native' | 'js', options: Record<string, unknown>): Promise<string> {
  try {
    const s = await MetaStore.open({ engine, leaseCheckIntervalMs: 0, ...options } as OpenOptions);
    await s.close();
    return 'ok';
  } catch (e) {
    if (!(e instanceof MetaStoreError)) throw e;
    return `${e.code}: ${e.message}`;
  }
}

/** Integer options: valid edges, invalid values, and the range the message must name. */
const INTEGER_OPTIONS: Array<{ name: string; valid: number[]; invalid: number[]; range: string; engine?: true }> = [
  { name: 'maxKeyBytes', valid: [1, MAX_U32], invalid: [0, MAX_U32 + 1], range: 'from 1 to 4294967295', engine: true },
  { name: 'maxValueBytes', valid: [0, MAX_U32], invalid: [-1, MAX_U32 + 1], range: 'from 0 to 4294967295', engine: true },
  { name: 'parallelThreshold', valid: [0, MAX_U32], invalid: [-1, MAX_U32 + 1], range: 'from 0 to 4294967295', engine: true },
  { name: 'threads', valid: [0, 1, 256], invalid: [-1, 257, 10_000, 100_000, MAX_U32], range: 'from 0 to 256 (0: one per core but one)', engine: true },
  { name: 'maxTxnOps', valid: [1, MAX_U32], invalid: [0, MAX_U32 + 1], range: 'from 1 to 4294967295', engine: true },
  { name: 'maxTxnDepth', valid: [1, 512], invalid: [0, 513], range: 'from 1 to 512', engine: true },
  { name: 'minLeaseTtl', valid: [1, 9_000_000_000], invalid: [0, 9_000_000_001], range: 'from 1 to 9000000000', engine: true },
  { name: 'maxEntryOps', valid: [1, MAX_U32], invalid: [0, MAX_U32 + 1], range: 'from 1 to 4294967295' },
  { name: 'maxEntryBytes', valid: [1, GiB], invalid: [0, GiB + 1], range: 'from 1 to 1073741824 (1 GiB)' },
  { name: 'maxAppendsInFlight', valid: [1, 64], invalid: [0, -1, 65], range: 'from 1 to 64' },
  { name: 'flushAtOps', valid: [1, MAX_U32], invalid: [0, -1, MAX_U32 + 1], range: 'from 1 to 4294967295' },
  { name: 'snapshotEveryBytes', valid: [1, TiB], invalid: [0, TiB + 1], range: 'from 1 to 1099511627776 (1 TiB)' },
  { name: 'walSegmentBytes', valid: [64 * KiB, GiB], invalid: [64 * KiB - 1, GiB + 1, 2 ** 40], range: 'from 65536 (64 KiB) to 1073741824 (1 GiB)' },
  { name: 'leaseCheckIntervalMs', valid: [0, 2 ** 31 - 1], invalid: [-1, 2 ** 31], range: 'from 0 to 2147483647 (0: no timer)' },
];

/** Not integers at all: refused by every integer option. */
const NOT_INTEGERS: unknown[] = [1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53, '8', null, true, {}, [4], 8n];

/** The other options: valid values and invalid ones, with what the message must say. */
const OTHER_OPTIONS: Array<{ name: string; valid: unknown[]; invalid: unknown[]; says: RegExp }> = [
  { name: 'engine', valid: ['auto', 'native', 'js'], invalid: ['rust', 'JS', '', null, 5], says: /^engine must be 'auto', 'native' or 'js', got / },
  { name: 'path', valid: [], invalid: ['', 5, null, {}, ['dir']], says: /^path must be a non-empty string, got / },
  {
    name: 'clock',
    valid: [{ now: () => 0 }, monotonicClock],
    invalid: [null, {}, { now: 5 }, 5, 'now'],
    says: /^clock must be an object with a now\(\) method/,
  },
  {
    name: 'autoCompaction',
    valid: [
      { mode: 'revision', retention: 1 },
      { mode: 'revision', retention: Number.MAX_SAFE_INTEGER },
      { mode: 'periodic', periodMs: 1 },
      { mode: 'periodic', periodMs: 366 * DAY_MS },
    ],
    invalid: [
      null,
      'revision',
      {},
      { mode: 'hourly' },
      { mode: 'revision' },
      { mode: 'revision', retention: 0 },
      { mode: 'revision', retention: 1.5 },
      { mode: 'revision', retention: '10' },
      { mode: 'periodic', periodMs: 0 },
      { mode: 'periodic', periodMs: -1 },
      { mode: 'periodic', periodMs: 0.5 },
      { mode: 'periodic', periodMs: 366 * DAY_MS + 1 },
      { mode: 'revision', retention: 5, periodMs: 1000 },
      { mode: 'periodic', periodMs: 1000, extra: true },
    ],
    says: /autoCompaction/,
  },
];

describe('resolveOpenOptions', () => {
  it('no options, undefined or null: every default', () => {
    const defaults = {
      engine: 'auto',
      path: undefined,
      engineOptions: { maxKeyBytes: 1_572_864, maxValueBytes: 1_572_864, parallelThreshold: 4096, threads: 0, maxTxnOps: 128, maxTxnDepth: 64, minLeaseTtl: 2 },
      proposer: { maxEntryOps: 4096, maxEntryBytes: 4 * 1024 * 1024, maxAppendsInFlight: 2, flushAtOps: 128 },
      durable: { snapshotEveryBytes: 64 * 1024 * 1024, walSegmentBytes: 64 * 1024 * 1024 },
      clock: monotonicClock,
      leaseCheckIntervalMs: 500,
      autoCompaction: undefined,
    };
    expect(resolveOpenOptions(undefined)).toEqual(defaults);
    expect(resolveOpenOptions(null)).toEqual(defaults);
    expect(resolveOpenOptions({})).toEqual(defaults);
    // An option given as undefined is the default too (a spread of a partial config).
    expect(resolveOpenOptions({ threads: undefined, engine: undefined })).toEqual(defaults);
  });

  it('every option given lands in its part', () => {
    const clock = { now: () => 7 };
    const r = resolveOpenOptions({
      engine: 'native',
      path: 'some/dir',
      maxKeyBytes: 10,
      maxValueBytes: 20,
      parallelThreshold: 30,
      threads: 4,
      maxTxnOps: 50,
      maxTxnDepth: 55,
      minLeaseTtl: 60,
      maxEntryOps: 70,
      maxEntryBytes: 80,
      maxAppendsInFlight: 9,
      flushAtOps: 100,
      snapshotEveryBytes: 110,
      walSegmentBytes: 128 * KiB,
      clock,
      leaseCheckIntervalMs: 130,
      autoCompaction: { mode: 'revision', retention: 140 },
    });
    expect(r).toEqual({
      engine: 'native',
      path: 'some/dir',
      engineOptions: { maxKeyBytes: 10, maxValueBytes: 20, parallelThreshold: 30, threads: 4, maxTxnOps: 50, maxTxnDepth: 55, minLeaseTtl: 60 },
      proposer: { maxEntryOps: 70, maxEntryBytes: 80, maxAppendsInFlight: 9, flushAtOps: 100 },
      durable: { snapshotEveryBytes: 110, walSegmentBytes: 128 * KiB },
      clock,
      leaseCheckIntervalMs: 130,
      autoCompaction: { mode: 'revision', retention: 140 },
    });
  });

  it('pins the message of a refusal: option, range, value', () => {
    expect(catchSync(() => resolveOpenOptions({ walSegmentBytes: 2 ** 40 })).message).toBe(
      'walSegmentBytes must be an integer from 65536 (64 KiB) to 1073741824 (1 GiB), got 1099511627776',
    );
    expect(catchSync(() => resolveOpenOptions({ maxAppendsInFlight: 0 })).message).toBe('maxAppendsInFlight must be an integer from 1 to 64, got 0');
    expect(catchSync(() => resolveOpenOptions({ threads: '4' })).message).toBe('threads must be an integer from 0 to 256 (0: one per core but one), got "4"');
    expect(catchSync(() => resolveOpenOptions({ maxAppendInFlight: 4, Threads: 2 })).message).toMatch(
      /^unknown option "maxAppendInFlight", "Threads"; the known ones are engine, path, clock, .*maxAppendsInFlight/,
    );
  });
});

describe.each(ENGINE_KINDS)('MetaStore.open options (%s engine)', (kind) => {
  describe.each(INTEGER_OPTIONS)('$name', ({ name, valid, invalid, range }) => {
    it.each(valid)('accepts %s', async (value) => {
      expect(await outcome(kind, { [name]: value })).toBe('ok');
    });

    it.each([...invalid, ...NOT_INTEGERS])('refuses %s with ERR_INVALID_OPTION naming the option and its range', async (value) => {
      const e = await catchAsync(() => MetaStore.open({ engine: kind, [name]: value } as OpenOptions));
      expect(e.code).toBe('ERR_INVALID_OPTION');
      expect(e.message).toMatch(new RegExp(`^${name} must be an integer ${range.replace(/[()]/g, '\\$&')}, got `));
    });
  });

  describe.each(OTHER_OPTIONS)('$name', ({ name, valid, invalid, says }) => {
    it.each(valid.map((v) => [v]))('accepts %o', async (value) => {
      const engine = name === 'engine' ? (value as 'js') : kind;
      if (engine === 'native' && kind === 'js') return; // the native engine's own run covers it
      expect(await outcome(engine, { [name]: value })).toBe('ok');
    });

    it.each(invalid.map((v) => [v]))('refuses %o with ERR_INVALID_OPTION', async (value) => {
      const options = name === 'engine' ? { engine: value } : { engine: kind, [name]: value };
      const e = await catchAsync(() => MetaStore.open(options as OpenOptions));
      expect(e.code).toBe('ERR_INVALID_OPTION');
      expect(e.message).toMatch(says);
    });
  });

  it('refuses unknown option names (plain JS has no excess-property check), naming them', async () => {
    for (const options of [{ maxAppendInFlight: 3 }, { Threads: 2 }, { prefix: 'a' }, { walSegmentSize: 1 << 20 }, { startRevision: 1 }]) {
      const e = await catchAsync(() => MetaStore.open({ engine: kind, ...options } as OpenOptions));
      expect(e.code).toBe('ERR_INVALID_OPTION');
      expect(e.message).toContain(`unknown option "${Object.keys(options)[0]}"`);
    }
  });

  it('open(), open(undefined) and open(null) open with the defaults; a non-object is refused', async () => {
    for (const s of [await MetaStore.open(), await MetaStore.open(undefined), await MetaStore.open(null)]) {
      expect(await s.put('k', 'v')).toEqual({ revision: 2 });
      await s.close();
    }
    for (const options of [5, 'js', true, [], ['js'], () => ({})]) {
      const e = await catchAsync(() => MetaStore.open(options as Any));
      expect(e.code).toBe('ERR_INVALID_OPTION');
      expect(e.message).toMatch(/^the options of MetaStore\.open must be an object, got /);
    }
  });

  it('the proposer options at their edges still carry writes', async () => {
    for (const options of [
      { maxAppendsInFlight: 1, flushAtOps: 1, maxEntryOps: 1, maxEntryBytes: 1 },
      { maxAppendsInFlight: 64, flushAtOps: MAX_U32, maxEntryOps: MAX_U32, maxEntryBytes: GiB },
    ]) {
      const s = await MetaStore.open({ engine: kind, leaseCheckIntervalMs: 0, ...options });
      const writes = await Promise.all([s.put('a', '1'), s.put('b', '2'), s.batch().put('c', '3').delete('a').commit()]);
      expect(writes.map((w) => ('revision' in w ? w.revision : w.length))).toEqual([2, 3, 2]);
      expect([s.revision, s.size]).toEqual([5, 2]);
      await s.close();
    }
  });
});

describe.each(ENGINE_KINDS)('createEngine options (%s engine)', (kind) => {
  const engineOptions = INTEGER_OPTIONS.filter((o) => o.engine);

  it.each(engineOptions.flatMap(({ name, valid }) => valid.map((v) => [name, v] as const)))('%s = %s is accepted', (name, value) => {
    createEngine(kind, { [name]: value }).close();
  });

  it.each(engineOptions.flatMap(({ name, invalid }) => [...invalid, 1.5, '8', null].map((v) => [name, v] as const)))(
    '%s = %o is ERR_INVALID_OPTION',
    (name, value) => {
      const e = catchSync(() => createEngine(kind, { [name]: value } as Any));
      expect([e.code, e.message.startsWith(`${name} must be an integer from `)]).toEqual(['ERR_INVALID_OPTION', true]);
    },
  );

  it('refuses names that are not engine options, and a non-object; null means defaults', () => {
    for (const options of [{ path: 'x' }, { maxEntryOps: 5 }, { engine: 'js' }, { thread: 2 }]) {
      const e = catchSync(() => createEngine(kind, options as Any));
      expect([e.code, e.message]).toEqual(['ERR_INVALID_OPTION', expect.stringMatching(new RegExp(`^unknown engine option "${Object.keys(options)[0]}"`))]);
    }
    expect(catchSync(() => createEngine(kind, 5 as Any)).code).toBe('ERR_INVALID_OPTION');
    createEngine(kind, null).close();
  });
});

describe('the same options are refused the same way on every engine choice', () => {
  const cases = [
    ...INTEGER_OPTIONS.flatMap(({ name, invalid }) => [...invalid, 2.5, 'x'].map((v) => ({ [name]: v }))),
    ...OTHER_OPTIONS.filter((o) => o.name !== 'engine').flatMap(({ name, invalid }) => invalid.map((v) => ({ [name]: v }))),
    { unknownOption: 1 },
  ];
  it.each(cases.map((c) => [c]))('%o', async (options) => {
    const outcomes = [await outcome('js', options), await outcome('native', options), await outcome('auto', options)];
    expect(outcomes[0]).toMatch(/^ERR_INVALID_OPTION: /);
    expect(outcomes).toEqual([outcomes[0], outcomes[0], outcomes[0]]);
  });
});

describe('refused before anything is allocated (regressions)', () => {
  it('maxAppendsInFlight: 0 is refused (it used to open, and then every write hung)', async () => {
    for (const engine of ['js', 'native'] as const) {
      const e = await catchAsync(() => MetaStore.open({ engine, maxAppendsInFlight: 0 }));
      expect([e.code, e.message]).toEqual(['ERR_INVALID_OPTION', 'maxAppendsInFlight must be an integer from 1 to 64, got 0']);
    }
  });

  it('walSegmentBytes: 2^40 is refused before the directory is made (it used to preallocate until the disk was full)', async () => {
    const path = newPath();
    const e = await catchAsync(() => MetaStore.open({ path, walSegmentBytes: 2 ** 40 }));
    expect(e.code).toBe('ERR_INVALID_OPTION');
    expect(e.message).toMatch(/^walSegmentBytes must be an integer from 65536 \(64 KiB\) to 1073741824 \(1 GiB\), got 1099511627776$/);
    expect(existsSync(path)).toBe(false);
    // Any bad option of a durable store leaves no trace on disk either.
    for (const options of [{ snapshotEveryBytes: 0 }, { threads: 1000 }, { bogus: 1 }, { walSegmentBytes: 100 }]) {
      expect((await catchAsync(() => MetaStore.open({ path, engine: 'native', ...options } as OpenOptions))).code).toBe('ERR_INVALID_OPTION');
    }
    expect(existsSync(path)).toBe(false);
  });

  it('threads: 100000 is refused without starting a thread (a parallel batch used to take minutes)', async () => {
    const threadsNow = () => (existsSync('/proc/self/task') ? readdirSync('/proc/self/task').length : 0);
    const before = threadsNow();
    for (const engine of ['auto', 'native', 'js'] as const) {
      const e = await catchAsync(() => MetaStore.open({ engine, threads: 100_000 }));
      expect([e.code, e.message]).toEqual(['ERR_INVALID_OPTION', 'threads must be an integer from 0 to 256 (0: one per core but one), got 100000']);
      expect(catchSync(() => createEngine(engine === 'auto' ? 'native' : engine, { threads: 100_000 })).code).toBe('ERR_INVALID_OPTION');
    }
    expect(threadsNow()).toBe(before);
  });

  it('a durable store opens with its sizes at their lower edges', async () => {
    const path = newPath();
    const s = await MetaStore.open({ path, engine: 'native', leaseCheckIntervalMs: 0, walSegmentBytes: 64 * KiB, snapshotEveryBytes: 1 });
    for (let i = 0; i < 20; i++) await s.put(`k${i}`, 'v'.repeat(1000));
    await s.close();
    const again = await MetaStore.open({ path, engine: 'native', leaseCheckIntervalMs: 0, walSegmentBytes: 64 * KiB });
    expect([again.revision, again.size]).toEqual([21, 20]);
    await again.close();
  });
});
