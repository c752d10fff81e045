/** The native engine: the Rust store behind the Node-API binding, adapted to {@link Engine}. */

import { translateBindingError } from './binding-error.js';
import { encodeTextInto, toBytes } from '../codec/bytes.js';
import { BatchWriter, checkRangeOp, type BatchLimits } from '../codec.js';
import { errorFromNumber, ErrorNumber, MetaStoreError } from '../errors.js';
import type { NativeBinding } from '../load-native.js';
import type { ResolvedEngineOptions } from '../facade/open-options.js';
import { LeaseIdsOffsets, LeaseInfoOffsets, LeaseKeyOffsets } from '../codec/results-layout.js';
import { decodeEvents, decodeKvOwned, decodeRangeOwned, PackedBatchResult } from '../codec/results.js';
import { EventsMode, type BatchResult, type Engine, type KeyValue, type LeaseInfo, type RangeOp, type RangeResult, type WatchEvent } from '../types.js';

// Results up to this size are copied into a scratch buffer; larger ones come as their own Buffer.
const SCRATCH_BYTES = 64 * 1024;
// Keys and read requests up to this size are passed through a registered input buffer.
const INPUT_BYTES = 64 * 1024;
const ABSENT = -1;
const PENDING = -2;

/** A typed error from what the binding threw (see {@link translateBindingError}). */
export function translateNativeError(e: unknown, withOpIndex = true): MetaStoreError {
  return translateBindingError(e, { withOpIndex, context: 'native engine' });
}

// Results handed out are carved from slabs: one allocation per slab instead of one backing store
// per read. A slab stays alive while any result cut from it is referenced.
const SLAB_BYTES = 256 * 1024;
const SHORT_COPY = 48;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/** The first `n` bytes of `scratch` in memory of their own (a view of a slab). */
function copyOut(scratch: Uint8Array, n: number): Uint8Array {
  if (n > SLAB_BYTES / 8) return scratch.slice(0, n);
  if (slabUsed + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  // A short result is copied faster by a loop; a longer one by TypedArray#set (a memmove, with
  // fewer argument checks than Buffer#copy: a 156-byte get result 47 against 57 ns).
  if (n <= SHORT_COPY) for (let i = 0; i < n; i++) out[i] = scratch[i]!;
  else slab.set(scratch.subarray(0, n), slabUsed);
  // 8-byte steps keep every result's numbers aligned as in the scratch buffer.
  slabUsed += (n + 7) & ~7;
  return out;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class NativeEngine implements Engine {
  readonly kind = 'native' as const;
  /** @internal The loaded addon (the durable log calls it with this engine's handle). */
  readonly binding: NativeBinding;
  /** @internal The Rust store's handle. */
  readonly handle: ReturnType<NativeBinding['engineNew']>;
  // Replaced by empty ones at close: a closed engine that is still referenced holds no memory.
  private scratch = new Uint8Array(SCRATCH_BYTES);
  private scratchView = new DataView(this.scratch.buffer);
  private input = new Uint8Array(INPUT_BYTES);
  private request = new BatchWriter(this.input);

  private readonly limits: BatchLimits;

  constructor(binding: NativeBinding, options: ResolvedEngineOptions) {
    this.limits = { maxKeyBytes: options.maxKeyBytes, maxValueBytes: options.maxValueBytes, maxTxnOps: options.maxTxnOps, maxTxnDepth: options.maxTxnDepth };
    this.binding = binding;
    this.handle = binding.engineNew(this.scratch, this.input, options);
  }

  /**
   * A large result, taken from the binding as a Buffer and handed on as a plain Uint8Array, so
   * that the keys and values cut from it are plain Uint8Arrays like those of small results.
   */
  private takePending(): Uint8Array {
    const big = this.binding.engineTakePending(this.handle);
    return new Uint8Array(big.buffer, big.byteOffset, big.byteLength);
  }

  /** The result bytes of the last call: `n` bytes of scratch, or the pending result. */
  private resultBytes(n: number, copy: boolean): Uint8Array {
    if (n === PENDING) return this.takePending();
    return copy ? copyOut(this.scratch, n) : this.scratch;
  }

  /**
   * A read's result as bytes the caller may keep, with a view for its numbers: a copy of the
   * scratch buffer (whose numbers are read from the scratch view: same layout, no new DataView),
   * or the pending buffer for a large result.
   */
  private ownedResult(n: number): [Uint8Array, DataView] {
    if (n === PENDING) {
      const big = this.takePending();
      return [big, viewOf(big)];
    }
    return [copyOut(this.scratch, n), this.scratchView];
  }

  get revision(): number {
    try {
      return this.binding.engineRevision(this.handle);
    } catch (e) {
      throw translateNativeError(e);
    }
  }

  get size(): number {
    try {
      return this.binding.engineSize(this.handle);
    } catch (e) {
      throw translateNativeError(e);
    }
  }

  get compactRevision(): number {
    try {
      return this.binding.engineCompactRevision(this.handle);
    } catch (e) {
      throw translateNativeError(e);
    }
  }

  applyBatch(batch: Uint8Array, events: EventsMode = EventsMode.NONE): BatchResult {
    if (!(batch instanceof Uint8Array)) {
      throw errorFromNumber(ErrorNumber.MALFORMED_BATCH, -1, 'a batch must be a Uint8Array');
    }
    if (events !== 0 && events !== 1 && events !== 2) {
      throw new MetaStoreError('ERR_INVALID_OPTION', `events mode must be 0, 1 or 2, got ${String(events)}`);
    }
    let n: number;
    try {
      n = this.binding.engineApplyBatch(this.handle, batch, events);
    } catch (e) {
      throw translateNativeError(e);
    }
    // The result object outlives this call, so it gets its own copy of the bytes.
    return new PackedBatchResult(this.resultBytes(n, true));
  }

  get(key: Uint8Array): KeyValue | undefined {
    if (!(key instanceof Uint8Array)) throw new MetaStoreError('ERR_INVALID_TYPE', 'key must be a Uint8Array');
    let n: number;
    try {
      if (key.length <= this.input.length) {
        this.input.set(key);
        n = this.binding.engineGet(this.handle, key.length);
      } else {
        n = this.binding.engineGetBytes(this.handle, key);
      }
    } catch (e) {
      throw translateNativeError(e, false);
    }
    if (n === ABSENT) return undefined;
    // One copy of the result; key and value are views of it.
    const [bytes, view] = this.ownedResult(n);
    return decodeKvOwned(bytes, view);
  }

  getText(key: string): KeyValue | undefined {
    if (typeof key !== 'string') throw new MetaStoreError('ERR_INVALID_TYPE', 'key must be a string');
    // Encoded straight into the registered input buffer; a key that may not fit goes the long way.
    if (key.length * 3 > this.input.length) return this.get(toBytes(key));
    const len = encodeTextInto(key, this.input, 0);
    let n: number;
    try {
      n = this.binding.engineGet(this.handle, len);
    } catch (e) {
      throw translateNativeError(e, false);
    }
    if (n === ABSENT) return undefined;
    // One copy of the result; key and value are views of it.
    const [bytes, view] = this.ownedResult(n);
    return decodeKvOwned(bytes, view);
  }

  range(request: RangeOp): RangeResult {
    const op = checkRangeOp(request, this.limits);
    const w = this.request.reset().range(op.key, op);
    let n: number;
    try {
      // The writer fills `input` in place unless the request outgrew it.
      const len = w.lengthIn(this.input);
      n = len >= 0 ? this.binding.engineRange(this.handle, len) : this.binding.engineRangeBytes(this.handle, w.peek());
    } catch (e) {
      // A standalone read is not part of a batch: no op index.
      throw translateNativeError(e, false);
    }
    // One copy of the whole result; keys and values are views of it.
    const [bytes, view] = this.ownedResult(n);
    return decodeRangeOwned(bytes, view);
  }

  changes(fromRevision: number, key: Uint8Array, rangeEnd: Uint8Array, prevKv: boolean): WatchEvent[] {
    if (!(key instanceof Uint8Array) || !(rangeEnd instanceof Uint8Array)) {
      throw new MetaStoreError('ERR_INVALID_TYPE', 'key and rangeEnd must be Uint8Arrays');
    }
    if (!Number.isSafeInteger(fromRevision)) throw new MetaStoreError('ERR_INVALID_OPTION', 'fromRevision must be an integer');
    let n: number;
    try {
      n = this.binding.engineChanges(this.handle, fromRevision, key, rangeEnd, prevKv === true);
    } catch (e) {
      throw translateNativeError(e, false);
    }
    const bytes = this.resultBytes(n, false);
    return decodeEvents(bytes, bytes === this.scratch ? this.scratchView : viewOf(bytes), 0, true);
  }

  leaseInfo(id: number): LeaseInfo | undefined {
    if (!Number.isSafeInteger(id)) throw new MetaStoreError('ERR_INVALID_OPTION', 'a lease id must be an integer');
    let n: number;
    try {
      n = this.binding.engineLeaseInfo(this.handle, id);
    } catch (e) {
      throw translateNativeError(e, false);
    }
    if (n === ABSENT) return undefined;
    const bytes = this.resultBytes(n, false);
    const view = bytes === this.scratch ? this.scratchView : viewOf(bytes);
    const ttl = view.getInt32(LeaseInfoOffsets.ttl + 4, true) * 0x1_0000_0000 + view.getUint32(LeaseInfoOffsets.ttl, true);
    const count = view.getUint32(LeaseInfoOffsets.keyCount, true);
    const keys: Uint8Array[] = [];
    let p = LeaseInfoOffsets.keys;
    for (let i = 0; i < count; i++) {
      const key = p + LeaseKeyOffsets.key;
      const len = view.getUint32(p + LeaseKeyOffsets.keyLen, true);
      keys.push(bytes.slice(key, key + len));
      p = key + len;
    }
    return { id, ttl, keys };
  }

  leases(): number[] {
    let n: number;
    try {
      n = this.binding.engineLeases(this.handle);
    } catch (e) {
      throw translateNativeError(e, false);
    }
    const bytes = this.resultBytes(n, false);
    const view = bytes === this.scratch ? this.scratchView : viewOf(bytes);
    const count = view.getUint32(LeaseIdsOffsets.count, true);
    const ids: number[] = new Array(count);
    for (let i = 0, at = LeaseIdsOffsets.ids; i < count; i++, at += 8) ids[i] = view.getInt32(at + 4, true) * 0x1_0000_0000 + view.getUint32(at, true);
    return ids;
  }

  close(): void {
    this.binding.engineClose(this.handle);
    // Every later call fails in the binding (ERR_CLOSED) before it would read or write these.
    this.scratch = this.input = new Uint8Array(0);
    this.scratchView = new DataView(this.scratch.buffer);
    this.request = new BatchWriter(64);
  }
}
