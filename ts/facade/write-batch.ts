/** {@link WriteBatch}: several writes committed as one batch through a store. */

import { BatchWriter } from '../codec.js';
import type { Bytes } from '../codec/bytes.js';
import type { MetaStoreError } from '../errors.js';
import type { BatchResult, DeleteOptions, DeleteResponse, PutOptions, PutResponse } from '../types.js';
import { toDeleteResponse, toPutResponse } from './responses.js';
import { checkedPutFields, keyArg, resolveSelector, valueArg, type KeySelector } from './selectors.js';

/** What a {@link WriteBatch} needs of its store: applying a batch through its log. */
export interface BatchTarget {
  applyBatch(batch: Uint8Array): Promise<BatchResult>;
}

/**
 * Several writes applied together as one batch (each still its own etcd request with its own
 * revision). Build with {@link MetaStore.batch}, then {@link WriteBatch.commit}.
 */
export class WriteBatch {
  private readonly writer = new BatchWriter(1024);

  /** @internal */
  constructor(private readonly store: BatchTarget) {}

  /** Number of ops so far. */
  get size(): number {
    return this.writer.count;
  }

  /**
   * Adds a put of `key` = `value` (strings as UTF-8). Throws ERR_INVALID_TYPE / ERR_INVALID_OPTION
   * for bad arguments now; the rest (empty or oversized key/value, missing lease) at {@link WriteBatch.commit}.
   */
  put(key: Bytes, value: Bytes, options?: PutOptions): this {
    this.writer.put(keyArg(key), valueArg(value), checkedPutFields(options));
    return this;
  }

  /**
   * Adds a delete of one key or of the keys a selector covers. Throws ERR_INVALID_TYPE,
   * ERR_INVALID_OPTION or ERR_INVALID_RANGE for a bad selector.
   */
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
    const result = await this.store.applyBatch(this.writer.peek());
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
