/**
 * Decoding of packed result buffers (docs/codec.md, "Results"), as the native engine writes them.
 * Decoding is lazy: a batch's result object only reads the ops it is asked for.
 */

import { errorFromNumber } from '../errors.js';
import type { BatchResult, DeleteRangeResult, KeyValue, OpResult, PutResult, RangeResult, TxnResult, WatchEvent } from '../types.js';

export const ResultKind = { PUT: 1, DELETE_RANGE: 2, RANGE: 3, TXN: 4, LEASE_GRANT: 5, LEASE_REVOKE: 6, COMPACT: 7, ERROR: 255 } as const;

const TWO_32 = 0x1_0000_0000;
const RESULT_HEADER_BYTES = 20;
const KV_FIXED = 40;
const EMPTY = new Uint8Array(0);

function i64(view: DataView, at: number): number {
  return view.getInt32(at + 4, true) * TWO_32 + view.getUint32(at, true);
}

/**
 * Reads one KV at `at`. With `copy`, key and value are copied out (for buffers that get reused);
 * otherwise they are views of `bytes`. Returns the KV and the offset after it.
 */
function readKv(bytes: Uint8Array, view: DataView, at: number, copy: boolean): [KeyValue, number] {
  const keyLen = view.getUint32(at, true);
  const valueLen = view.getUint32(at + 4, true);
  const keyStart = at + KV_FIXED;
  const valueStart = keyStart + keyLen;
  const end = valueStart + valueLen;
  const key = copy ? bytes.slice(keyStart, valueStart) : bytes.subarray(keyStart, valueStart);
  const value = valueLen === 0 ? EMPTY : copy ? bytes.slice(valueStart, end) : bytes.subarray(valueStart, end);
  const kv: KeyValue = {
    key,
    value,
    createRevision: i64(view, at + 8),
    modRevision: i64(view, at + 16),
    version: i64(view, at + 24),
    lease: i64(view, at + 32),
  };
  return [kv, end];
}

function readKvs(bytes: Uint8Array, view: DataView, at: number, n: number, copy: boolean): [KeyValue[], number] {
  const kvs: KeyValue[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const [kv, next] = readKv(bytes, view, at, copy);
    kvs[i] = kv;
    at = next;
  }
  return [kvs, at];
}

/** Decodes the result that starts at `at`; returns it and the offset after it. `opIndex` only labels errors. */
export function decodeResultAt(bytes: Uint8Array, view: DataView, at: number, opIndex: number, copy = false): [OpResult, number] {
  const kind = bytes[at]!;
  const flags = bytes[at + 1]!;
  const revision = i64(view, at + 2);
  const body = at + 10;
  switch (kind) {
    case ResultKind.PUT: {
      if ((flags & 1) === 0) return [{ type: 'put', revision }, body];
      const [prevKv, end] = readKv(bytes, view, body, copy);
      return [{ type: 'put', revision, prevKv }, end];
    }
    case ResultKind.DELETE_RANGE: {
      const deleted = i64(view, body);
      const n = view.getUint32(body + 8, true);
      const [prevKvs, end] = readKvs(bytes, view, body + 12, n, copy);
      return [{ type: 'deleteRange', revision, deleted, prevKvs }, end];
    }
    case ResultKind.RANGE: {
      const count = i64(view, body);
      const n = view.getUint32(body + 8, true);
      const [kvs, end] = readKvs(bytes, view, body + 12, n, copy);
      return [{ type: 'range', revision, more: (flags & 1) !== 0, count, kvs }, end];
    }
    case ResultKind.TXN: {
      const n = view.getUint32(body, true);
      const responses: TxnResult['responses'] = [];
      let p = body + 4;
      for (let i = 0; i < n; i++) {
        const [r, next] = decodeResultAt(bytes, view, p, opIndex, copy);
        responses.push(r as PutResult | DeleteRangeResult | RangeResult | TxnResult);
        p = next;
      }
      return [{ type: 'txn', revision, succeeded: (flags & 1) !== 0, responses }, p];
    }
    case ResultKind.LEASE_GRANT:
      return [{ type: 'leaseGrant', revision, id: i64(view, body), ttl: i64(view, body + 8) }, body + 16];
    case ResultKind.LEASE_REVOKE:
      return [{ type: 'leaseRevoke', revision }, body];
    case ResultKind.COMPACT:
      return [{ type: 'compact', revision }, body];
    case ResultKind.ERROR:
      return [{ type: 'error', revision, error: errorFromNumber(view.getUint16(body, true), opIndex) }, body + 2];
    default:
      return [{ type: 'error', revision, error: errorFromNumber(0, opIndex, `unknown result kind ${kind}`) }, body];
  }
}

/** Decodes an events section at `at` (docs/codec.md, "Events"). */
export function decodeEvents(bytes: Uint8Array, view: DataView, at: number, copy = false): WatchEvent[] {
  const n = view.getUint32(at, true);
  const events: WatchEvent[] = new Array(n);
  let p = at + 4;
  for (let i = 0; i < n; i++) {
    const type = bytes[p] === 0 ? 'put' : 'delete';
    const hasPrev = (bytes[p + 1]! & 1) !== 0;
    const subRevision = view.getUint32(p + 2, true);
    const [kv, next] = readKv(bytes, view, p + 6, copy);
    p = next;
    if (hasPrev) {
      const [prevKv, after] = readKv(bytes, view, p, copy);
      p = after;
      events[i] = { type, kv, prevKv, subRevision };
    } else {
      events[i] = { type, kv, subRevision };
    }
  }
  return events;
}

// Results are mostly cut from the same slab one after another: the slab's byte and DataView
// views are kept for the next result instead of a DataView per result. Only for slab-sized
// buffers, so that a large result's memory is not held after it is gone.
const CACHED_BUFFER_MAX_BYTES = 1 << 20;
let cachedBuffer: ArrayBufferLike | undefined;
let cachedBytes: Uint8Array<ArrayBufferLike> = EMPTY;
let cachedView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** A batch result over a packed buffer the caller hands over (it must not be reused). */
export class PackedBatchResult implements BatchResult {
  readonly size: number;
  readonly revision: number;
  /** The whole underlying buffer and a view of it; the result starts at `base`. */
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly base: number;

  constructor(bytes: Uint8Array) {
    if (bytes.length < RESULT_HEADER_BYTES || bytes[0] !== 0x4d || bytes[1] !== 0x53 || bytes[2] !== 0x52) {
      throw errorFromNumber(13, undefined, 'result buffer has a bad header');
    }
    const buffer = bytes.buffer;
    if (buffer === cachedBuffer) {
      this.bytes = cachedBytes;
      this.view = cachedView;
      this.base = bytes.byteOffset;
    } else if (buffer.byteLength <= CACHED_BUFFER_MAX_BYTES) {
      cachedBuffer = buffer;
      cachedBytes = this.bytes = new Uint8Array(buffer);
      cachedView = this.view = new DataView(buffer);
      this.base = bytes.byteOffset;
    } else {
      this.bytes = bytes;
      this.view = new DataView(buffer, bytes.byteOffset, bytes.byteLength);
      this.base = 0;
    }
    this.size = this.view.getUint32(this.base + 4, true);
    this.revision = i64(this.view, this.base + 8);
  }

  result(index: number): OpResult {
    if (!(index >= 0 && index < this.size)) throw new RangeError(`result index ${index} out of 0..${this.size - 1}`);
    const at = this.view.getUint32(this.base + RESULT_HEADER_BYTES + 4 * index, true);
    return decodeResultAt(this.bytes, this.view, this.base + at, index)[0];
  }

  events(): WatchEvent[] {
    const at = this.view.getUint32(this.base + 16, true);
    return at === 0 ? [] : decodeEvents(this.bytes, this.view, this.base + at);
  }
}

/** Decodes a single RANGE result at offset 0 of a buffer the result owns (keys and values are views of it). */
export function decodeRangeOwned(bytes: Uint8Array, view: DataView): RangeResult {
  return decodeResultAt(bytes, view, 0, 0, false)[0] as RangeResult;
}

/** Decodes one KV at offset 0 of a buffer the result owns (key and value are views of it). */
export function decodeKvOwned(bytes: Uint8Array, view: DataView): KeyValue {
  return readKv(bytes, view, 0, false)[0];
}
