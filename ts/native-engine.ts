/** The native engine: the Rust store behind the Node-API binding, adapted to {@link Engine}. */

import { BatchWriter } from './codec.js';
import { errorFromNumber, MetaStoreError } from './errors.js';
import type { NativeBinding } from './load-native.js';
import { decodeKvScratch, decodeRangeScratch, PackedBatchResult } from './results.js';
import type { BatchResult, Engine, EngineOptions, KeyValue, RangeOp, RangeResult } from './types.js';

const SCRATCH_BYTES = 64 * 1024;
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

export class NativeEngine implements Engine {
  readonly kind = 'native' as const;
  private readonly native: InstanceType<NativeBinding['NativeEngine']>;
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);
  private readonly scratchView = new DataView(this.scratch.buffer);
  private readonly request = new BatchWriter(256);

  constructor(binding: NativeBinding, options?: EngineOptions) {
    this.native = new binding.NativeEngine(this.scratch, options ?? null);
  }

  get revision(): number {
    try {
      return this.native.revision;
    } catch (e) {
      throw translateNativeError(e);
    }
  }

  get size(): number {
    try {
      return this.native.size;
    } catch (e) {
      throw translateNativeError(e);
    }
  }

  applyBatch(batch: Uint8Array): BatchResult {
    let out: Uint8Array;
    try {
      out = this.native.applyBatch(batch);
    } catch (e) {
      throw translateNativeError(e);
    }
    return new PackedBatchResult(out);
  }

  get(key: Uint8Array): KeyValue | undefined {
    let n: number;
    try {
      n = this.native.get(key);
    } catch (e) {
      throw translateNativeError(e);
    }
    if (n === ABSENT) return undefined;
    if (n === PENDING) {
      const big = this.native.takePending();
      return decodeKvScratch(big, new DataView(big.buffer, big.byteOffset, big.byteLength));
    }
    return decodeKvScratch(this.scratch, this.scratchView);
  }

  range(request: RangeOp): RangeResult {
    const bytes = this.request.reset().range(request.key, request).peek();
    let n: number;
    try {
      n = this.native.range(bytes);
    } catch (e) {
      // A standalone read is not part of a batch: no op index.
      throw translateNativeError(e, false);
    }
    if (n === PENDING) {
      const big = this.native.takePending();
      return decodeRangeScratch(big, new DataView(big.buffer, big.byteOffset, big.byteLength));
    }
    return decodeRangeScratch(this.scratch, this.scratchView);
  }

  close(): void {
    this.native.close();
  }
}
