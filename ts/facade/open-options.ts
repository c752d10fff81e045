/**
 * The one place the options of `MetaStore.open` (and of `createEngine`) are checked and given
 * their defaults. Every option has a type and a range; anything else — a value out of range, a
 * fraction where an integer is meant, an unknown option name (plain JS has no excess-property
 * check) — throws ERR_INVALID_OPTION naming the option and what it allows. It runs before an
 * engine is chosen, so both engines refuse the same options the same way, and the parts of the
 * store (engines, proposer, durable log, lessor, compactor) take the resolved values as they are.
 */

import { describe } from '../codec/bytes.js';
import type { AutoCompactionOptions } from '../compaction/auto-compactor.js';
import type { EngineKind } from '../engines/create-engine.js';
import { MetaStoreError } from '../errors.js';
import { DEFAULT_LEASE_CHECK_INTERVAL_MS, monotonicClock, type LeaseClock } from '../lease/lessor.js';
import { DEFAULT_FLUSH_AT_OPS, DEFAULT_MAX_APPENDS_IN_FLIGHT, DEFAULT_MAX_ENTRY_BYTES, DEFAULT_MAX_ENTRY_OPS } from '../log/batch-proposer.js';
import { DEFAULT_SNAPSHOT_EVERY_BYTES, DEFAULT_WAL_SEGMENT_BYTES, MIN_WAL_SEGMENT_BYTES } from '../log/durable-options.js';
import type { OpenOptions } from '../types.js';
import {
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_TXN_DEPTH,
  DEFAULT_MAX_TXN_OPS,
  TXN_DEPTH_CEILING,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_MIN_LEASE_TTL,
  MAX_LEASE_TTL,
  type EngineOptions,
} from '../types.js';

/** Engine limits and tuning, every one set. */
export interface ResolvedEngineOptions {
  maxKeyBytes: number;
  maxValueBytes: number;
  parallelThreshold: number;
  /** 0: one per core but one (the native engine decides). */
  threads: number;
  maxTxnOps: number;
  maxTxnDepth: number;
  minLeaseTtl: number;
}

/** The BatchProposer's caps and pacing, every one set. */
export interface ResolvedProposerOptions {
  maxEntryOps: number;
  maxEntryBytes: number;
  maxAppendsInFlight: number;
  flushAtOps: number;
}

/** A durable store's sizes, every one set (used only with `path`). */
export interface ResolvedDurableOptions {
  snapshotEveryBytes: number;
  walSegmentBytes: number;
}

/** `MetaStore.open`'s options, checked, with their defaults. */
export interface ResolvedOpenOptions {
  engine: 'auto' | EngineKind;
  /** The durable store's directory; undefined: in memory. */
  path: string | undefined;
  engineOptions: ResolvedEngineOptions;
  proposer: ResolvedProposerOptions;
  durable: ResolvedDurableOptions;
  clock: LeaseClock;
  leaseCheckIntervalMs: number;
  autoCompaction: AutoCompactionOptions | undefined;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const MAX_U32 = 0xffff_ffff;
/** Longest delay `setInterval` takes; above it Node fires every 1 ms instead. */
const MAX_TIMER_MS = 0x7fff_ffff;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The native engine's default (crates/metastore-core, DEFAULT_PARALLEL_THRESHOLD). */
export const DEFAULT_PARALLEL_THRESHOLD = 4096;
/**
 * Most worker threads for parallel apply. More threads than cores only slow a batch down: on 2
 * cores, 256 threads take a 10,000-put batch from 3 to 25 ms, 1024 to 160 ms (and 10,000 to 82
 * s); one bound for every machine keeps a configuration portable.
 */
export const MAX_THREADS = 256;
/** Most appends in flight: past a few, the next append only waits behind the device flush. */
export const MAX_APPENDS_IN_FLIGHT = 64;
/** Largest WAL segment: each one is preallocated on disk at this size. */
export const MAX_WAL_SEGMENT_BYTES = GiB;
/** Largest entry: an entry is one buffer in memory and one record in the log. */
export const MAX_ENTRY_BYTES = GiB;
/** Largest snapshot interval: it bounds the log replayed on open. */
export const MAX_SNAPSHOT_EVERY_BYTES = TiB;
/** Longest periodic compaction period: its samples (one per 6 minutes at most) are kept for a period. */
export const MAX_COMPACTION_PERIOD_MS = 366 * DAY_MS;

/** An integer option: its range and default. */
interface IntegerRange {
  min: number;
  max: number;
  default: number;
  /** Says what a special value means, in the error message. */
  note?: string;
}

const ENGINE_INTEGERS: Record<keyof EngineOptions, IntegerRange> = {
  maxKeyBytes: { min: 1, max: MAX_U32, default: DEFAULT_MAX_KEY_BYTES },
  maxValueBytes: { min: 0, max: MAX_U32, default: DEFAULT_MAX_VALUE_BYTES },
  parallelThreshold: { min: 0, max: MAX_U32, default: DEFAULT_PARALLEL_THRESHOLD },
  threads: { min: 0, max: MAX_THREADS, default: 0, note: '0: one per core but one' },
  maxTxnOps: { min: 1, max: MAX_U32, default: DEFAULT_MAX_TXN_OPS },
  maxTxnDepth: { min: 1, max: TXN_DEPTH_CEILING, default: DEFAULT_MAX_TXN_DEPTH },
  minLeaseTtl: { min: 1, max: MAX_LEASE_TTL, default: DEFAULT_MIN_LEASE_TTL },
};

const PROPOSER_INTEGERS: Record<keyof ResolvedProposerOptions, IntegerRange> = {
  maxEntryOps: { min: 1, max: MAX_U32, default: DEFAULT_MAX_ENTRY_OPS },
  maxEntryBytes: { min: 1, max: MAX_ENTRY_BYTES, default: DEFAULT_MAX_ENTRY_BYTES },
  maxAppendsInFlight: { min: 1, max: MAX_APPENDS_IN_FLIGHT, default: DEFAULT_MAX_APPENDS_IN_FLIGHT },
  flushAtOps: { min: 1, max: MAX_U32, default: DEFAULT_FLUSH_AT_OPS },
};

const DURABLE_INTEGERS: Record<keyof ResolvedDurableOptions, IntegerRange> = {
  snapshotEveryBytes: { min: 1, max: MAX_SNAPSHOT_EVERY_BYTES, default: DEFAULT_SNAPSHOT_EVERY_BYTES },
  walSegmentBytes: { min: MIN_WAL_SEGMENT_BYTES, max: MAX_WAL_SEGMENT_BYTES, default: DEFAULT_WAL_SEGMENT_BYTES },
};

const LEASE_CHECK_INTERVAL: IntegerRange = { min: 0, max: MAX_TIMER_MS, default: DEFAULT_LEASE_CHECK_INTERVAL_MS, note: '0: no timer' };
const RETENTION: IntegerRange = { min: 1, max: Number.MAX_SAFE_INTEGER, default: 0 };
const PERIOD_MS: IntegerRange = { min: 1, max: MAX_COMPACTION_PERIOD_MS, default: 0 };

/** Every option `MetaStore.open` knows (a type-checked list: adding an option to OpenOptions without it fails to compile). */
const OPEN_OPTION_NAMES = Object.keys({
  engine: 0,
  path: 0,
  clock: 0,
  leaseCheckIntervalMs: 0,
  autoCompaction: 0,
  ...ENGINE_INTEGERS,
  ...PROPOSER_INTEGERS,
  ...DURABLE_INTEGERS,
} satisfies Record<keyof OpenOptions, unknown>);
const ENGINE_OPTION_NAMES = Object.keys(ENGINE_INTEGERS);

function invalid(message: string): MetaStoreError {
  return new MetaStoreError('ERR_INVALID_OPTION', message);
}

/** A value as an error message shows it. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' || typeof value === 'function') return value === null ? 'null' : describe(value);
  return String(value);
}

/** `n`, with its size in KiB / MiB / GiB / TiB when it is a whole number of them. */
function withUnit(n: number, bytes: boolean): string {
  if (!bytes) return String(n);
  for (const [size, unit] of [
    [TiB, 'TiB'],
    [GiB, 'GiB'],
    [MiB, 'MiB'],
    [KiB, 'KiB'],
  ] as const) {
    if (n >= size && n % size === 0) return `${n} (${n / size} ${unit})`;
  }
  return String(n);
}

function integer(name: string, value: unknown, range: IntegerRange): number {
  if (value === undefined) return range.default;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= range.min && value <= range.max) return value;
  const bytes = name.endsWith('Bytes');
  const note = range.note === undefined ? '' : ` (${range.note})`;
  throw invalid(`${name} must be an integer from ${withUnit(range.min, bytes)} to ${withUnit(range.max, bytes)}${note}, got ${shown(value)}`);
}

/** The options object itself: undefined or null mean defaults; anything else must be a plain object. */
function optionsObject(options: unknown, what: string): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid(`${what} must be an object, got ${shown(options)}`);
  return options as Record<string, unknown>;
}

function refuseUnknown(options: Record<string, unknown>, known: readonly string[], what: string): void {
  const unknown = Object.keys(options).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const names = unknown.map((n) => JSON.stringify(n)).join(', ');
    throw invalid(`unknown ${what} ${names}; the known ones are ${known.join(', ')}`);
  }
}

function engineIntegers(o: Record<string, unknown>): ResolvedEngineOptions {
  return {
    maxKeyBytes: integer('maxKeyBytes', o.maxKeyBytes, ENGINE_INTEGERS.maxKeyBytes),
    maxValueBytes: integer('maxValueBytes', o.maxValueBytes, ENGINE_INTEGERS.maxValueBytes),
    parallelThreshold: integer('parallelThreshold', o.parallelThreshold, ENGINE_INTEGERS.parallelThreshold),
    threads: integer('threads', o.threads, ENGINE_INTEGERS.threads),
    maxTxnOps: integer('maxTxnOps', o.maxTxnOps, ENGINE_INTEGERS.maxTxnOps),
    maxTxnDepth: integer('maxTxnDepth', o.maxTxnDepth, ENGINE_INTEGERS.maxTxnDepth),
    minLeaseTtl: integer('minLeaseTtl', o.minLeaseTtl, ENGINE_INTEGERS.minLeaseTtl),
  };
}

/** `createEngine`'s options: only the engine's own names; undefined or null mean defaults. */
export function resolveEngineOptions(options: unknown): ResolvedEngineOptions {
  const o = optionsObject(options, 'engine options');
  refuseUnknown(o, ENGINE_OPTION_NAMES, 'engine option');
  return engineIntegers(o);
}

function autoCompactionOption(value: unknown): AutoCompactionOptions | undefined {
  if (value === undefined) return undefined;
  const shape = "autoCompaction must be { mode: 'revision', retention } or { mode: 'periodic', periodMs }";
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${shape}, got ${shown(value)}`);
  const o = value as Record<string, unknown>;
  if (o.mode === 'revision') {
    refuseUnknown(o, ['mode', 'retention'], "autoCompaction field (mode 'revision')");
    if (o.retention === undefined) throw invalid(`${shape}: retention is missing`);
    return { mode: 'revision', retention: integer('autoCompaction.retention', o.retention, RETENTION) };
  }
  if (o.mode === 'periodic') {
    refuseUnknown(o, ['mode', 'periodMs'], "autoCompaction field (mode 'periodic')");
    if (o.periodMs === undefined) throw invalid(`${shape}: periodMs is missing`);
    return { mode: 'periodic', periodMs: integer('autoCompaction.periodMs', o.periodMs, PERIOD_MS) };
  }
  throw invalid(`${shape}; got mode ${shown(o.mode)}`);
}

/**
 * Checks `MetaStore.open`'s options and fills in the defaults. Throws ERR_INVALID_OPTION for a
 * non-object, an unknown option name, or a value outside an option's type and range.
 */
export function resolveOpenOptions(options: unknown): ResolvedOpenOptions {
  const o = optionsObject(options, 'the options of MetaStore.open');
  refuseUnknown(o, OPEN_OPTION_NAMES, 'option');

  // Only `undefined` means "the default": null is a value, and not one any option takes.
  const engine = o.engine === undefined ? 'auto' : o.engine;
  if (engine !== 'auto' && engine !== 'native' && engine !== 'js') {
    throw invalid(`engine must be 'auto', 'native' or 'js', got ${shown(engine)}`);
  }
  let path: string | undefined;
  if (o.path !== undefined) {
    if (typeof o.path !== 'string' || o.path.length === 0) throw invalid(`path must be a non-empty string, got ${shown(o.path)}`);
    if (engine === 'js') {
      throw invalid("a durable store (path) needs the native engine: the pure-TS engine has no write-ahead log; use engine: 'auto' or 'native'");
    }
    path = o.path;
  }
  const clock = o.clock === undefined ? monotonicClock : o.clock;
  if (clock === null || (typeof clock !== 'object' && typeof clock !== 'function') || typeof (clock as Partial<LeaseClock>).now !== 'function') {
    throw invalid(`clock must be an object with a now() method returning milliseconds, got ${shown(clock)}`);
  }
  return {
    engine,
    path,
    engineOptions: engineIntegers(o),
    proposer: {
      maxEntryOps: integer('maxEntryOps', o.maxEntryOps, PROPOSER_INTEGERS.maxEntryOps),
      maxEntryBytes: integer('maxEntryBytes', o.maxEntryBytes, PROPOSER_INTEGERS.maxEntryBytes),
      maxAppendsInFlight: integer('maxAppendsInFlight', o.maxAppendsInFlight, PROPOSER_INTEGERS.maxAppendsInFlight),
      flushAtOps: integer('flushAtOps', o.flushAtOps, PROPOSER_INTEGERS.flushAtOps),
    },
    // Checked with or without `path`: an option that is wrong is wrong wherever it is used.
    durable: {
      snapshotEveryBytes: integer('snapshotEveryBytes', o.snapshotEveryBytes, DURABLE_INTEGERS.snapshotEveryBytes),
      walSegmentBytes: integer('walSegmentBytes', o.walSegmentBytes, DURABLE_INTEGERS.walSegmentBytes),
    },
    clock: clock as LeaseClock,
    leaseCheckIntervalMs: integer('leaseCheckIntervalMs', o.leaseCheckIntervalMs, LEASE_CHECK_INTERVAL),
    autoCompaction: autoCompactionOption(o.autoCompaction),
  };
}
