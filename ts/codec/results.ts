/**
 * Decoding of packed result buffers (docs/formats.md, "Results and events"), as the native engine
 * writes them. Decoding is lazy: a batch's result object only reads the ops it is asked for.
 */

import { errorFromNumber, ErrorNumber } from '../errors.js';
import {
  BatchResultsOffsets,
  DeleteRangeResultOffsets,
  ERROR_RESULT_BYTES,
  ErrorResultOffsets,
  EventFlag,
  EventOffsets,
  EventsOffsets,
  EventType,
  KvOffsets,
  LEASE_GRANT_RESULT_BYTES,
  LeaseGrantResultOffsets,
  OP_RESULT_HEADER_BYTES,
  PutResultFlag,
  PutResultOffsets,
  RangeResultFlag,
  RangeResultOffsets,
  RESULT_HEADER_BYTES,
  ResultHeaderOffsets,
  ResultKind,
  RESULTS_MAGIC,
  TxnResultFlag,
  TxnResultOffsets,
} from './results-layout.js';
import type { BatchResult, DeleteRangeResult, KeyValue, OpResult, PutResult, RangeResult, TxnResult, WatchEvent } from '../types.js';

export { ResultKind } from './results-layout.js';

// The layout (formats/results.mjs) as this module's own consts: V8 folds a module's consts, and
// their fields, into the code that reads them; an imported binding costs a load at every use.
const [MAGIC0, MAGIC1, MAGIC2] = RESULTS_MAGIC;
const HEADER_BYTES = RESULT_HEADER_BYTES;
const ResultsAt = BatchResultsOffsets;
const ResultAt = ResultHeaderOffsets;
const Kind = ResultKind;
const PutAt = PutResultOffsets;
const PUT_HAS_PREV = PutResultFlag.HAS_PREV;
const DeleteAt = DeleteRangeResultOffsets;
const RangeAt = RangeResultOffsets;
const RANGE_MORE = RangeResultFlag.MORE;
const TxnAt = TxnResultOffsets;
const TXN_SUCCEEDED = TxnResultFlag.SUCCEEDED;
const LeaseGrantAt = LeaseGrantResultOffsets;
const LEASE_GRANT_BYTES = LEASE_GRANT_RESULT_BYTES;
const ErrorAt = ErrorResultOffsets;
const ERROR_BYTES = ERROR_RESULT_BYTES;
const HEADER = OP_RESULT_HEADER_BYTES;
const KvAt = KvOffsets;
const EventsAt = EventsOffsets;
const EventAt = EventOffsets;
const EVENT_PUT = EventType.PUT;
const EVENT_HAS_PREV = EventFlag.HAS_PREV;

const TWO_32 = 0x1_0000_0000;
const EMPTY = new Uint8Array(0);

function i64(view: DataView, at: number): number {
  return view.getInt32(at + 4, true) * TWO_32 + view.getUint32(at, true);
}

/**
 * Reads one KV at `at`. With `copy`, key and value are copied out (for buffers that get reused);
 * otherwise they are views of `bytes`. Returns the KV and the offset after it.
 */
function readKv(bytes: Uint8Array, view: DataView, at: number, copy: boolean): [KeyValue, number] {
  const keyLen = view.getUint32(at + KvAt.keyLen, true);
  const valueLen = view.getUint32(at + KvAt.valueLen, true);
  const keyStart = at + KvAt.key;
  const valueStart = keyStart + keyLen;
  const end = valueStart + valueLen;
  const key = copy ? bytes.slice(keyStart, valueStart) : bytes.subarray(keyStart, valueStart);
  const value = valueLen === 0 ? EMPTY : copy ? bytes.slice(valueStart, end) : bytes.subarray(valueStart, end);
  const kv: KeyValue = {
    key,
    value,
    createRevision: i64(view, at + KvAt.createRevision),
    modRevision: i64(view, at + KvAt.modRevision),
    version: i64(view, at + KvAt.version),
    lease: i64(view, at + KvAt.lease),
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
  const kind = bytes[at + ResultAt.kind]!;
  const flags = bytes[at + ResultAt.flags]!;
  const revision = i64(view, at + ResultAt.revision);
  switch (kind) {
    case Kind.PUT: {
      if ((flags & PUT_HAS_PREV) === 0) return [{ type: 'put', revision }, at + HEADER];
      const [prevKv, end] = readKv(bytes, view, at + PutAt.prevKv, copy);
      return [{ type: 'put', revision, prevKv }, end];
    }
    case Kind.DELETE_RANGE: {
      const deleted = i64(view, at + DeleteAt.deleted);
      const n = view.getUint32(at + DeleteAt.prevCount, true);
      const [prevKvs, end] = readKvs(bytes, view, at + DeleteAt.prevKvs, n, copy);
      return [{ type: 'deleteRange', revision, deleted, prevKvs }, end];
    }
    case Kind.RANGE: {
      const count = i64(view, at + RangeAt.count);
      const n = view.getUint32(at + RangeAt.kvCount, true);
      const [kvs, end] = readKvs(bytes, view, at + RangeAt.kvs, n, copy);
      return [{ type: 'range', revision, more: (flags & RANGE_MORE) !== 0, count, kvs }, end];
    }
    case Kind.TXN: {
      const n = view.getUint32(at + TxnAt.responseCount, true);
      const responses: TxnResult['responses'] = [];
      let p = at + TxnAt.responses;
      for (let i = 0; i < n; i++) {
        const [r, next] = decodeResultAt(bytes, view, p, opIndex, copy);
        responses.push(r as PutResult | DeleteRangeResult | RangeResult | TxnResult);
        p = next;
      }
      return [{ type: 'txn', revision, succeeded: (flags & TXN_SUCCEEDED) !== 0, responses }, p];
    }
    case Kind.LEASE_GRANT:
      return [{ type: 'leaseGrant', revision, id: i64(view, at + LeaseGrantAt.id), ttl: i64(view, at + LeaseGrantAt.ttl) }, at + LEASE_GRANT_BYTES];
    case Kind.LEASE_REVOKE:
      return [{ type: 'leaseRevoke', revision }, at + HEADER];
    case Kind.COMPACT:
      return [{ type: 'compact', revision }, at + HEADER];
    case Kind.ERROR:
      return [{ type: 'error', revision, error: errorFromNumber(view.getUint16(at + ErrorAt.error, true), opIndex) }, at + ERROR_BYTES];
    default:
      return [{ type: 'error', revision, error: errorFromNumber(0, opIndex, `unknown result kind ${kind}`) }, at + HEADER];
  }
}

/** Decodes an events section at `at` (docs/codec.md, "Events"). */
export function decodeEvents(bytes: Uint8Array, view: DataView, at: number, copy = false): WatchEvent[] {
  const n = view.getUint32(at + EventsAt.count, true);
  const events: WatchEvent[] = new Array(n);
  let p = at + EventsAt.events;
  for (let i = 0; i < n; i++) {
    const type = bytes[p + EventAt.type] === EVENT_PUT ? 'put' : 'delete';
    const hasPrev = (bytes[p + EventAt.flags]! & EVENT_HAS_PREV) !== 0;
    const subRevision = view.getUint32(p + EventAt.subRevision, true);
    const [kv, next] = readKv(bytes, view, p + EventAt.kv, copy);
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
    const magic = ResultsAt.magic;
    if (bytes.length < HEADER_BYTES || bytes[magic] !== MAGIC0 || bytes[magic + 1] !== MAGIC1 || bytes[magic + 2] !== MAGIC2) {
      throw errorFromNumber(ErrorNumber.INTERNAL, undefined, 'result buffer has a bad header');
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
    this.size = this.view.getUint32(this.base + ResultsAt.count, true);
    this.revision = i64(this.view, this.base + ResultsAt.revision);
  }

  result(index: number): OpResult {
    if (!(index >= 0 && index < this.size)) throw new RangeError(`result index ${index} out of 0..${this.size - 1}`);
    const at = this.view.getUint32(this.base + ResultsAt.resultOffsets + 4 * index, true);
    return decodeResultAt(this.bytes, this.view, this.base + at, index)[0];
  }

  events(): WatchEvent[] {
    const at = this.view.getUint32(this.base + ResultsAt.eventsOffset, true);
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
