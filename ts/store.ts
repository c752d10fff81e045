/**
 * The façade: `MetaStore`, in the idioms of the etcd3 npm client. Writes are encoded once into
 * the op codec and applied by the engine (later: proposed to the log first); reads go to the
 * engine directly and are synchronous.
 */

import { bytesToString, toBytes, type Bytes } from './bytes.js';
import { BatchWriter } from './codec.js';
import { createEngine, type EngineKind } from './engine.js';
import { MetaStoreError } from './errors.js';
import { keyArg, leaseOption, resolveSelector, toRangeOp, valueArg, type KeySelector, type RangeOptions } from './options.js';
import type { BatchResult, DeleteRangeResult, Engine, EngineOptions, KeyValue, OpResult, PutResult, RangeResult } from './types.js';

/** Options of {@link MetaStore.open}. */
export interface OpenOptions extends EngineOptions {
  /**
   * `'auto'` (default): the native engine, or the pure-TS engine when the native binary cannot
   * load (see {@link MetaStore.nativeLoadError}). `'native'`: fail if it cannot load. `'js'`:
   * the pure-TS engine.
   */
  engine?: 'auto' | EngineKind;
}

/** Options of {@link MetaStore.put}. */
export interface PutOptions {
  /** Attach the key to this lease (0 = none). */
  lease?: number;
  /** Return the key-value as it was before the put. */
  prevKv?: boolean;
  /** Keep the current value (the key must exist; pass an empty value). */
  ignoreValue?: boolean;
  /** Keep the current lease (the key must exist). */
  ignoreLease?: boolean;
}

/** Options of {@link MetaStore.delete}. */
export interface DeleteOptions {
  /** Return the deleted key-values. */
  prevKv?: boolean;
}

export interface PutResponse {
  /** Store revision after the put. */
  revision: number;
  prevKv?: KeyValue;
}

export interface DeleteResponse {
  /** Store revision after the delete (unchanged when nothing was deleted). */
  revision: number;
  /** Number of keys deleted. */
  deleted: number;
  /** The deleted key-values in key order, when `prevKv` was asked for. */
  prevKvs: KeyValue[];
}

export interface RangeResponse {
  /** The store's current revision. */
  revision: number;
  kvs: KeyValue[];
  /** Whether `limit` left matching keys out. */
  more: boolean;
  /** Keys in the range, regardless of `limit` and of the revision filters. */
  count: number;
}

function unwrap<T extends OpResult>(result: OpResult): Exclude<T, { type: 'error' }> {
  if (result.type === 'error') throw result.error;
  return result as Exclude<T, { type: 'error' }>;
}

function toPutResponse(r: PutResult): PutResponse {
  return r.prevKv === undefined ? { revision: r.revision } : { revision: r.revision, prevKv: r.prevKv };
}

function toDeleteResponse(r: DeleteRangeResult): DeleteResponse {
  return { revision: r.revision, deleted: r.deleted, prevKvs: r.prevKvs };
}

function toRangeResponse(r: RangeResult): RangeResponse {
  return { revision: r.revision, kvs: r.kvs, more: r.more, count: r.count };
}

/**
 * Several writes applied together as one batch (each still its own etcd request with its own
 * revision). Build with {@link MetaStore.batch}, then {@link WriteBatch.commit}.
 */
export class WriteBatch {
  private readonly writer = new BatchWriter(1024);

  /** @internal */
  constructor(private readonly store: MetaStore) {}

  /** Number of ops so far. */
  get size(): number {
    return this.writer.count;
  }

  put(key: Bytes, value: Bytes, options?: PutOptions): this {
    this.writer.put(keyArg(key), valueArg(value), { ...options, lease: leaseOption(options?.lease) });
    return this;
  }

  delete(selector: Bytes | KeySelector, options?: DeleteOptions): this {
    const { key, rangeEnd } = resolveSelector(selector);
    this.writer.deleteRange(key, rangeEnd, options?.prevKv === true);
    return this;
  }

  /**
   * Applies every op as one batch. Resolves to one response per op, in order; an op that failed
   * on the store's state (e.g. a missing lease) is a {@link MetaStoreError} in its slot while
   * the others apply. A batch with invalid input rejects whole and applies nothing.
   */
  async commit(): Promise<Array<PutResponse | DeleteResponse | MetaStoreError>> {
    const result = this.store.applyBatch(this.writer.peek());
    const out: Array<PutResponse | DeleteResponse | MetaStoreError> = [];
    for (let i = 0; i < result.size; i++) {
      const r = result.result(i);
      if (r.type === 'error') out.push(r.error);
      else if (r.type === 'put') out.push(toPutResponse(r));
      else if (r.type === 'deleteRange') out.push(toDeleteResponse(r));
    }
    this.writer.reset();
    return out;
  }
}

/** An embedded etcd-v3-semantics key-value store. */
export class MetaStore implements AsyncDisposable {
  private engineInstance: Engine | undefined;
  private readonly writer = new BatchWriter(512);

  private constructor(
    engine: Engine,
    /** Why the native engine did not load, when `engine: 'auto'` fell back to the pure-TS one. */
    readonly nativeLoadError: Error | undefined,
  ) {
    this.engineInstance = engine;
  }

  /** Opens an in-memory store. */
  static async open(options: OpenOptions = {}): Promise<MetaStore> {
    const choice = options.engine ?? 'auto';
    if (choice !== 'auto' && choice !== 'native' && choice !== 'js') {
      throw new MetaStoreError('ERR_INVALID_OPTION', `engine must be 'auto', 'native' or 'js', got ${String(choice)}`);
    }
    if (choice !== 'auto') return new MetaStore(createEngine(choice, options), undefined);
    try {
      return new MetaStore(createEngine('native', options), undefined);
    } catch (e) {
      if (!(e instanceof MetaStoreError) || e.code !== 'ERR_NATIVE_UNAVAILABLE') throw e;
      return new MetaStore(createEngine('js', options), e);
    }
  }

  /** Which engine serves this store. */
  get engine(): EngineKind {
    return this.live().kind;
  }

  /** Current revision: 1 for a fresh store, +1 per write request that changed a key. */
  get revision(): number {
    return this.live().revision;
  }

  /** Number of keys. */
  get size(): number {
    return this.live().size;
  }

  /** Sets `key` to `value`. Rejects with ERR_LEASE_NOT_FOUND, ERR_KEY_NOT_FOUND (ignore flags) or an input error. */
  async put(key: Bytes, value: Bytes, options?: PutOptions): Promise<PutResponse> {
    const w = this.writer.reset().put(keyArg(key), valueArg(value), options === undefined ? undefined : { ...options, lease: leaseOption(options.lease) });
    return toPutResponse(unwrap<PutResult>(this.applyBatch(w.peek()).result(0)));
  }

  /** Deletes one key, or the keys a selector covers. A delete that matches nothing does not bump the revision. */
  async delete(selector: Bytes | KeySelector, options?: DeleteOptions): Promise<DeleteResponse> {
    const { key, rangeEnd } = resolveSelector(selector);
    const w = this.writer.reset().deleteRange(key, rangeEnd, options?.prevKv === true);
    return toDeleteResponse(unwrap<DeleteRangeResult>(this.applyBatch(w.peek()).result(0)));
  }

  /** The latest key-value of `key`, or undefined. Synchronous: reads are local. */
  get(key: Bytes): KeyValue | undefined {
    const engine = this.live();
    const bytes = toBytes(keyArg(key));
    if (bytes.length === 0) throw new MetaStoreError('ERR_KEY_NOT_PROVIDED', 'key is not provided');
    return engine.get(bytes);
  }

  /** The latest value of `key` as UTF-8 text, or undefined. */
  getString(key: Bytes): string | undefined {
    const kv = this.get(key);
    return kv === undefined ? undefined : bytesToString(kv.value);
  }

  /** etcd's Range: keys of a selector with limit, sort, filters, count. Synchronous. */
  range(options: RangeOptions): RangeResponse {
    const engine = this.live();
    return toRangeResponse(engine.range(toRangeOp(options)));
  }

  /** Starts a batch of writes applied together by {@link WriteBatch.commit}. */
  batch(): WriteBatch {
    this.live();
    return new WriteBatch(this);
  }

  /**
   * Engine level: applies an encoded batch (docs/codec.md) as it is. For advanced use and
   * benchmarks; {@link BatchWriter} builds batches.
   */
  applyBatch(batch: Uint8Array): BatchResult {
    return this.live().applyBatch(batch);
  }

  /** Closes the store and frees its memory. Later calls throw ERR_CLOSED. Idempotent. */
  async close(): Promise<void> {
    const engine = this.engineInstance;
    this.engineInstance = undefined;
    engine?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private live(): Engine {
    if (this.engineInstance === undefined) throw new MetaStoreError('ERR_CLOSED', 'store is closed');
    return this.engineInstance;
  }
}
