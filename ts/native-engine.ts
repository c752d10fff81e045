/** The native engine: the Rust store behind the Node-API binding, adapted to {@link Engine}. */

import { BatchWriter, checkRangeOp, type BatchLimits } from './codec.js';
import { errorFromNumber, ErrorNumber, MetaStoreError } from './errors.js';
import type { NativeBinding } from './load-native.js';
import { decodeKvScratch, decodeRangeScratch, PackedBatchResult } from './results.js';
import type { BatchResult, Engine, EngineOptions, KeyValue, RangeOp, RangeResult } from './types.js';

// Results up to this size are copied into a scratch buffer; larger ones come as their own Buffer.
const SCRATCH_BYTES = 64 * 1024;
// Keys and read requests up to this size are passed through a registered input buffer.
const INPUT_BYTES = 64 * 1024;
const ABSENT = -1;
const PENDING = -2;

/** Rebuilds a typed error from the binding's `MSERR:<number>:<opIndex>:<detail>` message. */
export function translateNativeError(e: unknown, withOpIndex = true): MetaStoreError {
  const message = e instanceof Error ? e.message : String(e);
  const m = /^MSERR:(\d+):(-?\d+):([\s\S]*)$/.exec(message);
  if (m === null) return new MetaStoreError('ERR_INTERNAL', `native engine: ${message}`, { cause: e });
  const num = Number(m[1]);
  if (num === 0) return new MetaStoreError('ERR_CLOSED', 'engine is closed');
  return errorFromNumber(num, withOpIndex ? Number(m[2]) : undefined, m[3] || undefined);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class NativeEngine implements Engine {
  readonly kind = 'native' as const;
  private readonly binding: NativeBinding;
  private readonly handle: ReturnType<NativeBinding['engineNew']>;
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);
  private readonly scratchView = new DataView(this.scratch.buffer);
  private readonly input = new Uint8Array(INPUT_BYTES);
  private readonly request = new BatchWriter(this.input);

  private readonly limits: BatchLimits;

  constructor(binding: NativeBinding, options?: EngineOptions) {
    this.limits = { maxKeyBytes: options?.maxKeyBytes, maxValueBytes: options?.maxValueBytes };
    this.binding = binding;
    this.handle = binding.engineNew(this.scratch, this.input, options ?? null);
  }

  /** The result bytes of the last call: `n` bytes of scratch, or the pending Buffer. */
  private resultBytes(n: number, copy: boolean): Uint8Array {
    if (n === PENDING) return this.binding.engineTakePending(this.handle);
    return copy ? this.scratch.slice(0, n) : this.scratch;
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

  applyBatch(batch: Uint8Array): BatchResult {
    if (!(batch instanceof Uint8Array)) {
      throw errorFromNumber(ErrorNumber.MALFORMED_BATCH, -1, 'a batch must be a Uint8Array');
    }
    let n: number;
    try {
      n = this.binding.engineApplyBatch(this.handle, batch);
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
      if (key.length <= INPUT_BYTES) {
        this.input.set(key);
        n = this.binding.engineGet(this.handle, key.length);
      } else {
        n = this.binding.engineGetBytes(this.handle, key);
      }
    } catch (e) {
      throw translateNativeError(e, false);
    }
    if (n === ABSENT) return undefined;
    const bytes = this.resultBytes(n, false);
    return decodeKvScratch(bytes, bytes === this.scratch ? this.scratchView : viewOf(bytes));
  }

  range(request: RangeOp): RangeResult {
    const op = checkRangeOp(request, this.limits);
    const w = this.request.reset().range(op.key, op);
    let n: number;
    try {
      const bytes = w.peek();
      // The writer fills `input` in place unless the request outgrew it.
      n = bytes.buffer === this.input.buffer ? this.binding.engineRange(this.handle, bytes.length) : this.binding.engineRangeBytes(this.handle, bytes);
    } catch (e) {
      // A standalone read is not part of a batch: no op index.
      throw translateNativeError(e, false);
    }
    const bytes = this.resultBytes(n, false);
    return decodeRangeScratch(bytes, bytes === this.scratch ? this.scratchView : viewOf(bytes));
  }

  close(): void {
    this.binding.engineClose(this.handle);
  }
}
