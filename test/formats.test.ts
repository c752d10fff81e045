/**
 * The layouts declared in formats/ (generated into ts/codec/layout.ts, ts/codec/results-layout.ts,
 * ts/log/entry-layout.ts, ts/codec/error-numbers.ts and test/wal-layout.mjs) against the bytes the code
 * writes and reads: what generation alone cannot show. Each writer is read back at the declared
 * offsets, each reader is given bytes laid out by the declaration, batches and entries (which
 * logs hold) are compared with the exact bytes version 1 writes, and the WAL layout is checked
 * against the files the native store writes.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchWriter, decodeBatch, validateBatch } from '../ts/codec.js';
import {
  BATCH_HEADER_BYTES,
  BATCH_MAGIC,
  BatchOffsets,
  CODEC_VERSION,
  COMPACT_FIXED,
  CompactFlag,
  CompactOffsets,
  COMPARE_FIXED,
  CompareOffsets,
  CompareResult,
  CompareTarget,
  DEFINED_FLAGS,
  DELETE_FIXED,
  DeleteFlag,
  DeleteRangeOffsets,
  LEASE_GRANT_FIXED,
  LEASE_REVOKE_FIXED,
  LeaseGrantOffsets,
  LeaseRevokeOffsets,
  OpType,
  PUT_FIXED,
  PutFlag,
  PutOffsets,
  RANGE_FIXED,
  RangeFlag,
  RangeOffsets,
  SortOrder,
  SortTarget,
  TXN_FIXED,
  TxnOffsets,
} from '../ts/codec/layout.js';
import { ERROR_INFO, ErrorNumber } from '../ts/codec/error-numbers.js';
import { errorFromNumber, type MetaStoreError } from '../ts/errors.js';
import { EntryBuilder, readEntry } from '../ts/log/entry.js';
import { ENTRY_HEADER_BYTES, ENTRY_MAGIC, ENTRY_VERSION, EntryOffsets, PROPOSAL_BYTES, ProposalOffsets } from '../ts/log/entry-layout.js';
import {
  BatchResultsOffsets,
  COMPACT_RESULT_BYTES,
  DELETE_RESULT_FIXED,
  DeleteRangeResultOffsets,
  ERROR_RESULT_BYTES,
  ErrorResultOffsets,
  EVENT_FIXED,
  EventFlag,
  EventOffsets,
  EVENTS_HEADER_BYTES,
  EventsOffsets,
  EventType,
  KV_FIXED,
  KvOffsets,
  LEASE_GRANT_RESULT_BYTES,
  LeaseGrantResultOffsets,
  PUT_RESULT_FIXED,
  PutResultFlag,
  PutResultOffsets,
  RANGE_RESULT_FIXED,
  RangeResultFlag,
  RangeResultOffsets,
  RESULT_HEADER_BYTES,
  ResultHeaderOffsets,
  ResultKind,
  RESULTS_MAGIC,
  RESULTS_VERSION,
  TXN_RESULT_FIXED,
  TxnResultFlag,
  TxnResultOffsets,
} from '../ts/codec/results-layout.js';
import { PackedBatchResult } from '../ts/codec/results.js';
import { MetaStore } from '../ts/store.js';
import { lastSegment, records } from './wal-files.js';
import {
  MANIFEST_BYTES,
  MANIFEST_MAGIC,
  MANIFEST_VERSION,
  ManifestOffsets,
  RECORD_HEADER,
  RecordOffsets,
  RecordType,
  SEGMENT_HEADER,
  SEGMENT_MAGIC,
  SegmentHeaderOffsets,
  SNAPSHOT_FILE_HEADER,
  SNAPSHOT_FILE_MAGIC,
  SNAPSHOT_FILE_VERSION,
  SnapshotFileOffsets,
} from './wal-layout.mjs';

const TWO_32 = 0x1_0000_0000;

/** Little-endian reads and writes by field size, for bytes laid out here by hand. */
class Bytes {
  readonly view: DataView;
  constructor(readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  u8(at: number): number {
    return this.b[at]!;
  }
  u16(at: number): number {
    return this.view.getUint16(at, true);
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  i64(at: number): number {
    return this.view.getInt32(at + 4, true) * TWO_32 + this.view.getUint32(at, true);
  }
  text(at: number, length: number): string {
    return Buffer.from(this.b.subarray(at, at + length)).toString('latin1');
  }
}

/** Writes the fields of one record, at offsets from its start. */
interface Fields {
  bytes(at: number, b: readonly number[]): void;
  u8(at: number, n: number): void;
  u16(at: number, n: number): void;
  u32(at: number, n: number): void;
  i64(at: number, n: number): void;
}

/** Lays bytes out by hand: each record is `fixed` zero bytes whose fields `fill` writes in place. */
class Builder {
  private out: number[] = [];
  record(fixed: number, fill: (w: Fields) => void = () => {}): this {
    const start = this.out.length;
    for (let i = 0; i < fixed; i++) this.out.push(0);
    const put = (at: number, n: number, size: number): void => {
      for (let i = 0; i < size; i++) this.out[start + at + i] = Math.floor(n / 2 ** (8 * i)) & 0xff;
    };
    fill({
      bytes: (at, b) => b.forEach((c, i) => (this.out[start + at + i] = c)),
      u8: (at, n) => put(at, n, 1),
      u16: (at, n) => put(at, n, 2),
      u32: (at, n) => put(at, n, 4),
      i64: (at, n) => {
        put(at, n >>> 0, 4);
        put(at + 4, Math.floor(n / TWO_32) >>> 0, 4);
      },
    });
    return this;
  }
  bytes(...parts: (string | readonly number[])[]): this {
    for (const p of parts) for (const c of typeof p === 'string' ? Buffer.from(p, 'latin1') : p) this.out.push(c);
    return this;
  }
  get length(): number {
    return this.out.length;
  }
  patchU32(at: number, n: number): void {
    for (let i = 0; i < 4; i++) this.out[at + i] = (n >>> (8 * i)) & 0xff;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

const ascii = (magic: readonly number[]): string => String.fromCharCode(...magic);

describe('op codec (formats/codec.mjs)', () => {
  it('BatchWriter puts every field of every op at its declared offset', () => {
    const w = new BatchWriter();
    w.put('key', 'value!', { lease: 2 ** 40 + 3, prevKv: true, ignoreValue: false, ignoreLease: false });
    w.deleteRange('from', 'to', true);
    w.range('r', {
      rangeEnd: new Uint8Array(Buffer.from('rz')),
      keysOnly: true,
      sortOrder: SortOrder.DESCEND,
      sortTarget: SortTarget.MOD,
      limit: 1,
      revision: 2,
      minModRevision: 3,
      maxModRevision: 4,
      minCreateRevision: 5,
      maxCreateRevision: -6,
    });
    w.txn(
      [{ key: 'ck', target: CompareTarget.VALUE, result: CompareResult.NOT_EQUAL, value: 'cv' }],
      (s) => s.put('s', ''),
      (f) => f.deleteRange('f'),
    );
    w.leaseGrant(5, 60);
    w.leaseRevoke(5);
    w.compact(9, true);
    const b = new Bytes(w.finish());

    expect(b.text(BatchOffsets.magic, 3)).toBe(ascii(BATCH_MAGIC));
    expect([b.u8(BatchOffsets.version), b.u32(BatchOffsets.count), BatchOffsets.ops]).toEqual([CODEC_VERSION, 7, BATCH_HEADER_BYTES]);
    let p = BatchOffsets.ops;

    expect([b.u8(p + PutOffsets.type), b.u8(p + PutOffsets.flags), b.i64(p + PutOffsets.lease)]).toEqual([OpType.PUT, PutFlag.PREV_KV, 2 ** 40 + 3]);
    expect([b.u32(p + PutOffsets.keyLen), b.u32(p + PutOffsets.valueLen), b.text(p + PutOffsets.key, 9)]).toEqual([3, 6, 'keyvalue!']);
    p += PUT_FIXED + 9;

    expect([b.u8(p + DeleteRangeOffsets.type), b.u8(p + DeleteRangeOffsets.flags)]).toEqual([OpType.DELETE_RANGE, DeleteFlag.PREV_KV]);
    expect([b.u32(p + DeleteRangeOffsets.keyLen), b.u32(p + DeleteRangeOffsets.endLen), b.text(p + DeleteRangeOffsets.key, 6)]).toEqual([4, 2, 'fromto']);
    p += DELETE_FIXED + 6;

    const R = RangeOffsets;
    expect([b.u8(p + R.type), b.u8(p + R.flags), b.u8(p + R.sortOrder), b.u8(p + R.sortTarget)]).toEqual([
      OpType.RANGE,
      RangeFlag.KEYS_ONLY,
      SortOrder.DESCEND,
      SortTarget.MOD,
    ]);
    const ints = [R.limit, R.revision, R.minModRevision, R.maxModRevision, R.minCreateRevision, R.maxCreateRevision].map((at) => b.i64(p + at));
    expect(ints).toEqual([1, 2, 3, 4, 5, -6]);
    expect([b.u32(p + R.keyLen), b.u32(p + R.endLen), b.text(p + R.key, 3)]).toEqual([1, 2, 'rrz']);
    p += RANGE_FIXED + 3;

    expect([b.u8(p + TxnOffsets.type), b.u8(p + TxnOffsets.flags), TxnOffsets.compares]).toEqual([OpType.TXN, 0, TXN_FIXED]);
    expect([TxnOffsets.compareCount, TxnOffsets.successCount, TxnOffsets.failureCount].map((at) => b.u32(p + at))).toEqual([1, 1, 1]);
    const q = p + TxnOffsets.compares;
    const C = CompareOffsets;
    expect([b.u8(q + C.target), b.u8(q + C.result), b.i64(q + C.operand)]).toEqual([CompareTarget.VALUE, CompareResult.NOT_EQUAL, 0]);
    expect([b.u32(q + C.keyLen), b.u32(q + C.endLen), b.u32(q + C.valueLen), b.text(q + C.key, 4)]).toEqual([2, 0, 2, 'ckcv']);
    const branches = q + COMPARE_FIXED + 4;
    expect([b.u8(branches), b.u8(branches + PUT_FIXED + 1)]).toEqual([OpType.PUT, OpType.DELETE_RANGE]);
    p = branches + PUT_FIXED + 1 + DELETE_FIXED + 1;

    expect([b.u8(p + LeaseGrantOffsets.type), b.i64(p + LeaseGrantOffsets.id), b.i64(p + LeaseGrantOffsets.ttl)]).toEqual([OpType.LEASE_GRANT, 5, 60]);
    p += LEASE_GRANT_FIXED;
    expect([b.u8(p + LeaseRevokeOffsets.type), b.i64(p + LeaseRevokeOffsets.id)]).toEqual([OpType.LEASE_REVOKE, 5]);
    p += LEASE_REVOKE_FIXED;
    expect([b.u8(p + CompactOffsets.type), b.u8(p + CompactOffsets.flags), b.i64(p + CompactOffsets.revision)]).toEqual([
      OpType.COMPACT,
      CompactFlag.PHYSICAL,
      9,
    ]);
    expect(p + COMPACT_FIXED).toBe(b.b.length);
  });

  it('a batch is the bytes version 1 has always been (logs hold them): the declaration may not drift', () => {
    const bytes = new BatchWriter().put('k', 'v', { lease: 1, prevKv: true }).deleteRange('a', 'b').compact(2).finish();
    // prettier-ignore
    expect(Array.from(bytes)).toEqual([
      0x4d,
      0x53,
      0x42,
      1,
      3,
      0,
      0,
      0, // "MSB", version 1, 3 ops
      1,
      1,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0x6b,
      0x76, // PUT, PREV_KV, lease 1, key and value lengths, "k", "v"
      2,
      0,
      1,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0x61,
      0x62, // DELETE_RANGE, key and end lengths, "a", "b"
      7,
      0,
      2,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // COMPACT, revision 2
    ]);
  });

  it('the reader and validation take a batch laid out field by field at the declared offsets', () => {
    const bytes = new Builder()
      .record(BATCH_HEADER_BYTES, (w) => {
        w.bytes(BatchOffsets.magic, BATCH_MAGIC);
        w.u8(BatchOffsets.version, CODEC_VERSION);
        w.u32(BatchOffsets.count, 4);
      })
      .record(PUT_FIXED, (w) => {
        w.u8(PutOffsets.type, OpType.PUT);
        w.u8(PutOffsets.flags, PutFlag.IGNORE_LEASE);
        w.u32(PutOffsets.keyLen, 1);
        w.u32(PutOffsets.valueLen, 2);
      })
      .bytes('kv!')
      .record(RANGE_FIXED, (w) => {
        w.u8(RangeOffsets.type, OpType.RANGE);
        w.u8(RangeOffsets.flags, RangeFlag.COUNT_ONLY);
        w.u8(RangeOffsets.sortOrder, SortOrder.ASCEND);
        w.u8(RangeOffsets.sortTarget, SortTarget.VALUE);
        w.i64(RangeOffsets.limit, 10);
        w.i64(RangeOffsets.maxCreateRevision, 2 ** 50);
        w.u32(RangeOffsets.keyLen, 1);
        w.u32(RangeOffsets.endLen, 1);
      })
      .bytes('a', [0])
      .record(TXN_FIXED, (w) => {
        w.u8(TxnOffsets.type, OpType.TXN);
        w.u32(TxnOffsets.compareCount, 1);
        w.u32(TxnOffsets.failureCount, 1);
      })
      .record(COMPARE_FIXED, (w) => {
        w.u8(CompareOffsets.target, CompareTarget.LEASE);
        w.u8(CompareOffsets.result, CompareResult.GREATER);
        w.i64(CompareOffsets.operand, -7);
        w.u32(CompareOffsets.keyLen, 1);
      })
      .bytes('c')
      .record(DELETE_FIXED, (w) => {
        w.u8(DeleteRangeOffsets.type, OpType.DELETE_RANGE);
        w.u32(DeleteRangeOffsets.keyLen, 1);
      })
      .bytes('d')
      .record(LEASE_GRANT_FIXED, (w) => {
        w.u8(LeaseGrantOffsets.type, OpType.LEASE_GRANT);
        w.i64(LeaseGrantOffsets.ttl, 30);
      })
      .finish();

    expect(validateBatch(bytes)).toBe(4);
    const [put, range, txn, grant] = decodeBatch(bytes);
    expect(put).toMatchObject({ type: 'put', key: new Uint8Array([0x6b]), value: new Uint8Array([0x76, 0x21]), lease: 0, ignoreLease: true, prevKv: false });
    expect(range).toMatchObject({
      type: 'range',
      countOnly: true,
      sortOrder: SortOrder.ASCEND,
      sortTarget: SortTarget.VALUE,
      limit: 10,
      maxCreateRevision: 2 ** 50,
      rangeEnd: new Uint8Array([0]),
    });
    expect(txn).toMatchObject({
      type: 'txn',
      compare: [{ target: CompareTarget.LEASE, result: CompareResult.GREATER, operand: -7 }],
      success: [],
      failure: [{ type: 'deleteRange', key: new Uint8Array([0x64]) }],
    });
    expect(grant).toEqual({ type: 'leaseGrant', id: 0, ttl: 30 });
  });

  it('every declared sort order and target, compare target and result is accepted, the next number refused', () => {
    const max = (e: Record<string, number>): number => Math.max(...Object.values(e));
    const withSort = (order: number, target: number): Uint8Array => {
      const bytes = new BatchWriter().range('k').finish();
      bytes[BATCH_HEADER_BYTES + RangeOffsets.sortOrder] = order;
      bytes[BATCH_HEADER_BYTES + RangeOffsets.sortTarget] = target;
      return bytes;
    };
    const withCompare = (target: number, result: number): Uint8Array => {
      const bytes = new BatchWriter()
        .txn(
          [{ key: 'k', target: CompareTarget.VERSION, result: CompareResult.EQUAL }],
          () => {},
          () => {},
        )
        .finish();
      bytes[BATCH_HEADER_BYTES + TXN_FIXED + CompareOffsets.target] = target;
      bytes[BATCH_HEADER_BYTES + TXN_FIXED + CompareOffsets.result] = result;
      return bytes;
    };
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
        return undefined;
      } catch (e) {
        return (e as MetaStoreError).code;
      }
    };
    for (const order of Object.values(SortOrder)) for (const target of Object.values(SortTarget)) expect(validateBatch(withSort(order, target))).toBe(1);
    expect(code(() => validateBatch(withSort(max(SortOrder) + 1, 0)))).toBe('ERR_INVALID_SORT');
    expect(code(() => validateBatch(withSort(0, max(SortTarget) + 1)))).toBe('ERR_INVALID_SORT');
    expect(code(() => new BatchWriter().range('k', { sortTarget: (max(SortTarget) + 1) as SortTarget }))).toBe('ERR_INVALID_SORT');
    // A VALUE compare carries no operand, the others no value: both are 0 here, so all pass.
    for (const target of Object.values(CompareTarget))
      for (const result of Object.values(CompareResult)) expect(validateBatch(withCompare(target, result))).toBe(1);
    expect(code(() => validateBatch(withCompare(max(CompareTarget) + 1, 0)))).toBe('ERR_MALFORMED_BATCH');
    expect(code(() => validateBatch(withCompare(0, max(CompareResult) + 1)))).toBe('ERR_MALFORMED_BATCH');
  });

  it('each op type takes exactly the flags declared for it', () => {
    const ops: [number, Uint8Array][] = [
      [OpType.PUT, new BatchWriter().put('k', '').finish()],
      [OpType.DELETE_RANGE, new BatchWriter().deleteRange('k').finish()],
      [OpType.RANGE, new BatchWriter().range('k').finish()],
      [
        OpType.TXN,
        new BatchWriter()
          .txn(
            [],
            () => {},
            () => {},
          )
          .finish(),
      ],
      [OpType.LEASE_GRANT, new BatchWriter().leaseGrant(1, 10).finish()],
      [OpType.LEASE_REVOKE, new BatchWriter().leaseRevoke(1).finish()],
      [OpType.COMPACT, new BatchWriter().compact(1).finish()],
    ];
    expect(ops.map(([type]) => type).sort()).toEqual(Object.values(OpType).sort());
    for (const [type, bytes] of ops) {
      expect(bytes[BATCH_HEADER_BYTES]).toBe(type);
      for (let bit = 0; bit < 8; bit++) {
        const flagged = bytes.slice();
        flagged[BATCH_HEADER_BYTES + 1] = 1 << bit;
        const defined = (DEFINED_FLAGS[type]! & (1 << bit)) !== 0;
        // IGNORE_VALUE and IGNORE_LEASE are satisfied: the value is empty and the lease 0.
        if (defined) expect(validateBatch(flagged), `type ${type} bit ${bit}`).toBe(1);
        else expect(() => validateBatch(flagged), `type ${type} bit ${bit}`).toThrow(/malformed/);
      }
    }
  });
});

describe('results and events (formats/results.mjs)', () => {
  /** A KV laid out by the declaration. */
  const kv = (b: Builder, key: string, value: string, revs: [number, number, number, number]): Builder =>
    b
      .record(KV_FIXED, (w) => {
        w.u32(KvOffsets.keyLen, key.length);
        w.u32(KvOffsets.valueLen, value.length);
        w.i64(KvOffsets.createRevision, revs[0]);
        w.i64(KvOffsets.modRevision, revs[1]);
        w.i64(KvOffsets.version, revs[2]);
        w.i64(KvOffsets.lease, revs[3]);
      })
      .bytes(key, value);
  const header = (b: Builder, kind: number, flags: number, revision: number, fixed: number, fill?: Parameters<Builder['record']>[1]): Builder =>
    b.record(fixed, (w) => {
      w.u8(ResultHeaderOffsets.kind, kind);
      w.u8(ResultHeaderOffsets.flags, flags);
      w.i64(ResultHeaderOffsets.revision, revision);
      fill?.(w);
    });

  it('a batch result laid out by the declaration decodes to what it holds', () => {
    const b = new Builder();
    b.record(RESULT_HEADER_BYTES + 4 * 6, (w) => {
      w.bytes(BatchResultsOffsets.magic, RESULTS_MAGIC);
      w.u8(BatchResultsOffsets.version, RESULTS_VERSION);
      w.u32(BatchResultsOffsets.count, 6);
      w.i64(BatchResultsOffsets.revision, 42);
    });
    const offsets: number[] = [];
    offsets.push(b.length);
    kv(header(b, ResultKind.PUT, PutResultFlag.HAS_PREV, 41, PUT_RESULT_FIXED), 'k', 'old', [3, 4, 2, 0]);
    expect(PutResultOffsets.prevKv).toBe(PUT_RESULT_FIXED);
    offsets.push(b.length);
    kv(
      header(b, ResultKind.DELETE_RANGE, 0, 42, DELETE_RESULT_FIXED, (w) => {
        w.i64(DeleteRangeResultOffsets.deleted, 5);
        w.u32(DeleteRangeResultOffsets.prevCount, 1);
      }),
      'd',
      '',
      [1, 1, 1, 0],
    );
    offsets.push(b.length);
    kv(
      header(b, ResultKind.RANGE, RangeResultFlag.MORE, 42, RANGE_RESULT_FIXED, (w) => {
        w.i64(RangeResultOffsets.count, 9);
        w.u32(RangeResultOffsets.kvCount, 1);
      }),
      'r',
      'v',
      [7, 8, 1, 2 ** 40],
    );
    offsets.push(b.length);
    header(b, ResultKind.TXN, TxnResultFlag.SUCCEEDED, 42, TXN_RESULT_FIXED, (w) => w.u32(TxnResultOffsets.responseCount, 1));
    header(b, ResultKind.ERROR, 0, 42, ERROR_RESULT_BYTES, (w) => w.u16(ErrorResultOffsets.error, ErrorNumber.KEY_NOT_FOUND));
    offsets.push(b.length);
    header(b, ResultKind.LEASE_GRANT, 0, 42, LEASE_GRANT_RESULT_BYTES, (w) => {
      w.i64(LeaseGrantResultOffsets.id, 77);
      w.i64(LeaseGrantResultOffsets.ttl, 10);
    });
    offsets.push(b.length);
    header(b, ResultKind.COMPACT, 0, 42, COMPACT_RESULT_BYTES);
    const eventsAt = b.length;
    b.record(EVENTS_HEADER_BYTES, (w) => w.u32(EventsOffsets.count, 1));
    b.record(EVENT_FIXED, (w) => {
      w.u8(EventOffsets.type, EventType.DELETE);
      w.u8(EventOffsets.flags, EventFlag.HAS_PREV);
      w.u32(EventOffsets.subRevision, 3);
    });
    kv(b, 'e', '', [0, 42, 0, 0]);
    kv(b, 'e', 'was', [5, 6, 1, 0]);
    b.patchU32(BatchResultsOffsets.eventsOffset, eventsAt);
    offsets.forEach((at, i) => b.patchU32(BatchResultsOffsets.resultOffsets + 4 * i, at));

    const result = new PackedBatchResult(b.finish());
    expect([result.size, result.revision]).toEqual([6, 42]);
    const keyValue = (key: string, value: string, [createRevision, modRevision, version, lease]: number[]) => ({
      key: new Uint8Array(Buffer.from(key)),
      value: new Uint8Array(Buffer.from(value)),
      createRevision,
      modRevision,
      version,
      lease,
    });
    expect(result.result(0)).toEqual({ type: 'put', revision: 41, prevKv: keyValue('k', 'old', [3, 4, 2, 0]) });
    expect(result.result(1)).toEqual({ type: 'deleteRange', revision: 42, deleted: 5, prevKvs: [keyValue('d', '', [1, 1, 1, 0])] });
    expect(result.result(2)).toEqual({ type: 'range', revision: 42, more: true, count: 9, kvs: [keyValue('r', 'v', [7, 8, 1, 2 ** 40])] });
    const txn = result.result(3);
    expect(txn).toMatchObject({ type: 'txn', revision: 42, succeeded: true });
    expect(txn.type === 'txn' && txn.responses[0]).toMatchObject({ type: 'error', revision: 42, error: { code: 'ERR_KEY_NOT_FOUND' } });
    expect(result.result(4)).toEqual({ type: 'leaseGrant', revision: 42, id: 77, ttl: 10 });
    expect(result.result(5)).toEqual({ type: 'compact', revision: 42 });
    expect(result.events()).toEqual([{ type: 'delete', kv: keyValue('e', '', [0, 42, 0, 0]), prevKv: keyValue('e', 'was', [5, 6, 1, 0]), subRevision: 3 }]);
  });
});

describe('error numbers (formats/errors.mjs)', () => {
  it('each number has its code, ERR_ and its name, on both sides of errorFromNumber', () => {
    for (const [name, n] of Object.entries(ErrorNumber)) {
      expect(ERROR_INFO[n]?.code).toBe(`ERR_${name}`);
      const e = errorFromNumber(n, 0);
      expect([e.code, e.category]).toEqual([`ERR_${name}`, ERROR_INFO[n]!.category]);
    }
    expect(ERROR_INFO.filter((info) => info !== undefined)).toHaveLength(Object.keys(ErrorNumber).length);
    expect(errorFromNumber(0).code).toBe('ERR_INTERNAL');
  });
});

describe('log entry framing (formats/entry.mjs)', () => {
  it('EntryBuilder puts the header and the proposal table at the declared offsets', () => {
    const e = new EntryBuilder(7, 3);
    e.add(2 ** 40 + 5, new BatchWriter().put('a', '1').put('b', '2').finish(), 2);
    e.add(9, new BatchWriter().deleteRange('a').finish(), 1);
    const b = new Bytes(e.seal());
    expect([b.text(EntryOffsets.magic, 3), b.u8(EntryOffsets.version), b.u32(EntryOffsets.proposalCount)]).toEqual([ascii(ENTRY_MAGIC), ENTRY_VERSION, 2]);
    const second = EntryOffsets.proposals + PROPOSAL_BYTES;
    const proposal = (at: number): number[] => [
      b.u32(at + ProposalOffsets.node),
      b.u32(at + ProposalOffsets.epoch),
      b.i64(at + ProposalOffsets.counter),
      b.u32(at + ProposalOffsets.opCount),
    ];
    expect([proposal(EntryOffsets.proposals), proposal(second)]).toEqual([
      [7, 3, 2 ** 40 + 5, 2],
      [7, 3, 9, 1],
    ]);
    const batch = b.b.subarray(second + PROPOSAL_BYTES);
    expect(Array.from(batch)).toEqual(Array.from(new BatchWriter().put('a', '1').put('b', '2').deleteRange('a').finish()));
  });

  it('an entry is the bytes version 1 has always been (logs hold them)', () => {
    const e = new EntryBuilder(1, 2);
    e.add(3, new BatchWriter().compact(4).finish(), 1);
    // prettier-ignore
    expect(Array.from(e.seal())).toEqual([
      0x4d,
      0x53,
      0x45,
      1,
      1,
      0,
      0,
      0, // "MSE", version 1, 1 proposal
      1,
      0,
      0,
      0,
      2,
      0,
      0,
      0,
      3,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      1,
      0,
      0,
      0, // node 1, epoch 2, counter 3, 1 op
      0x4d,
      0x53,
      0x42,
      1,
      1,
      0,
      0,
      0,
      7,
      0,
      4,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // the batch: COMPACT 4
    ]);
  });

  it('readEntry takes an entry laid out field by field at the declared offsets', () => {
    const batch = new BatchWriter().put('a', '1').finish();
    const b = new Builder()
      .record(ENTRY_HEADER_BYTES, (w) => {
        w.bytes(EntryOffsets.magic, ENTRY_MAGIC);
        w.u8(EntryOffsets.version, ENTRY_VERSION);
        w.u32(EntryOffsets.proposalCount, 1);
      })
      .record(PROPOSAL_BYTES, (w) => {
        w.u32(ProposalOffsets.node, 2);
        w.u32(ProposalOffsets.epoch, 8);
        w.i64(ProposalOffsets.counter, 2 ** 33 + 1);
        w.u32(ProposalOffsets.opCount, 1);
      })
      .bytes(Array.from(batch));
    const entry = readEntry(b.finish());
    expect([entry.proposals, entry.nodeAt(0), entry.epochAt(0), entry.counterAt(0), entry.opCountAt(0)]).toEqual([1, 2, 8, 2 ** 33 + 1, 1]);
    expect(Array.from(entry.batch)).toEqual(Array.from(batch));
  });
});

describe('write-ahead log files (formats/wal.mjs)', () => {
  it('a durable store writes segments, records, MANIFEST and snapshots as declared', async () => {
    const path = mkdtempSync(join(tmpdir(), 'metastore-formats-'));
    try {
      const s = await MetaStore.open({ path, engine: 'native', leaseCheckIntervalMs: 0, snapshotEveryBytes: 1 });
      for (let i = 0; i < 20; i++) await s.put(`k${i}`, 'v'.repeat(100));
      await s.close();

      const segment = new Bytes(readFileSync(lastSegment(path)));
      expect(segment.text(SegmentHeaderOffsets.magic, 8)).toBe(ascii(SEGMENT_MAGIC));
      expect(SegmentHeaderOffsets.headerCrc + 4).toBe(SEGMENT_HEADER);
      const recs = records(lastSegment(path));
      expect(recs[0]!.offset).toBe(SEGMENT_HEADER);
      expect(new Set(recs.map((r) => r.type))).toEqual(new Set([RecordType.ENTRIES, RecordType.COMMIT]));
      for (const r of recs) {
        expect(segment.u8(r.offset + RecordOffsets.type)).toBe(r.type);
        expect(r.length).toBeGreaterThanOrEqual(RECORD_HEADER + segment.u32(r.offset + RecordOffsets.len));
      }

      const manifest = new Bytes(readFileSync(join(path, 'wal', 'MANIFEST')));
      expect([manifest.b.length, manifest.text(ManifestOffsets.magic, 8), manifest.u32(ManifestOffsets.version)]).toEqual([
        MANIFEST_BYTES,
        ascii(MANIFEST_MAGIC),
        MANIFEST_VERSION,
      ]);

      const snapshots = readdirSync(join(path, 'snap')).filter((f) => f.endsWith('.snap'));
      const snapshot = new Bytes(readFileSync(join(path, 'snap', snapshots.at(-1)!)));
      expect([snapshot.text(SnapshotFileOffsets.magic, 8), snapshot.u32(SnapshotFileOffsets.formatVersion)]).toEqual([
        ascii(SNAPSHOT_FILE_MAGIC),
        SNAPSHOT_FILE_VERSION,
      ]);
      expect(snapshot.i64(SnapshotFileOffsets.index)).toBe(parseInt(snapshots.at(-1)!, 16));
      expect(snapshot.b.length).toBe(SNAPSHOT_FILE_HEADER + snapshot.i64(SnapshotFileOffsets.payloadLen));
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
  });
});
