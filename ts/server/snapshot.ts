/**
 * Hashes and snapshots of the key space, computed the same way on every member (one algorithm,
 * no dependency on how a member stores its data).
 *
 * HashKV(R) is CRC-32C (Castagnoli) over a tag and, for every key live at revision R in key
 * order, its key, create / mod revision, version, lease and value (the record layout below).
 * Hash is the same over the current revision, followed by the compacted revision and every
 * lease (ID, granted TTL) in ID order.
 *
 * A snapshot (Maintenance.Snapshot) is the state at one revision:
 *
 *   "METASTORE-SNAPSHOT 1\n"
 *   one line of JSON: {"revision":R,"compactRevision":C,"keys":N,"leases":[[id,ttl],…]}\n
 *   N records: u32 keyLen | u32 valueLen | i64 createRevision | i64 modRevision | i64 version |
 *              i64 lease | key | value   (little-endian)
 *   zero bytes up to a multiple of 512
 *   SHA-256 of everything above (32 bytes)
 *
 * so that the stream's length is 32 more than a multiple of 512, the shape etcdctl's
 * `snapshot save` checks (it expects a database file followed by its SHA-256).
 */

import { createHash } from 'node:crypto';
import type { KeyValue, MetaStore } from '../index.js';

// ---------------------------------------------------------------------------------------------
// CRC-32C

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** A running CRC-32C. */
export class Crc32c {
  private crc = 0xffffffff;

  update(bytes: Uint8Array): this {
    let c = this.crc;
    for (let i = 0; i < bytes.length; i++) c = CRC32C_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
    this.crc = c;
    return this;
  }

  /** The checksum of everything so far (uint32). */
  digest(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Walking the key space at one revision.

const ALL = Uint8Array.of(0);
const PAGE = 1000;

/**
 * Every key-value live at `revision` (0: the current one), in key order, page by page.
 * Synchronous between pages only when the caller does not await: reads at a fixed revision give
 * the same answer whenever they run, unless a compaction above it intervenes (ERR_COMPACTED).
 */
export function* keyValuesAt(store: MetaStore, revision: number): Generator<KeyValue[]> {
  let cursor: Uint8Array = ALL;
  for (;;) {
    const page = store.range({ key: cursor, end: ALL, revision, limit: PAGE });
    if (page.kvs.length > 0) yield page.kvs;
    if (!page.more) return;
    const last = page.kvs[page.kvs.length - 1]!.key;
    cursor = new Uint8Array(last.length + 1);
    cursor.set(last);
  }
}

const RECORD_FIXED = 40;

/** The record of one key-value (layout in the file comment). */
export function kvRecord(kv: KeyValue): Uint8Array {
  const out = new Uint8Array(RECORD_FIXED + kv.key.length + kv.value.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, kv.key.length, true);
  v.setUint32(4, kv.value.length, true);
  v.setBigInt64(8, BigInt(kv.createRevision), true);
  v.setBigInt64(16, BigInt(kv.modRevision), true);
  v.setBigInt64(24, BigInt(kv.version), true);
  v.setBigInt64(32, BigInt(kv.lease), true);
  out.set(kv.key, RECORD_FIXED);
  out.set(kv.value, RECORD_FIXED + kv.key.length);
  return out;
}

function i64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(n), true);
  return out;
}

/** HashKV at `revision` (resolved by the caller: ≥ the compacted revision, ≤ the current one). */
export function hashKV(store: MetaStore, revision: number): number {
  const crc = new Crc32c().update(new TextEncoder().encode('metastore-hashkv-1')).update(i64(revision));
  for (const page of keyValuesAt(store, revision)) for (const kv of page) crc.update(kvRecord(kv));
  return crc.digest();
}

/** Hash of the whole state: the key space now, the compacted revision and the leases. */
export function hashAll(store: MetaStore): number {
  const revision = store.revision;
  const crc = new Crc32c().update(new TextEncoder().encode('metastore-hash-1')).update(i64(revision));
  for (const page of keyValuesAt(store, revision)) for (const kv of page) crc.update(kvRecord(kv));
  crc.update(i64(store.compactRevision));
  for (const id of [...store.lease.list()].sort((a, b) => a - b)) {
    crc.update(i64(id)).update(i64(store.lease.timeToLive(id).grantedTTL));
  }
  return crc.digest();
}

// ---------------------------------------------------------------------------------------------
// Snapshots.

const MAGIC = 'METASTORE-SNAPSHOT 1\n';

/** The head of a snapshot. */
export interface SnapshotHead {
  revision: number;
  compactRevision: number;
  keys: number;
  leases: Array<[number, number]>;
}

/** A snapshot being produced: its head, its total data length and its body, page by page. */
export interface SnapshotPlan {
  head: SnapshotHead;
  /** Length of the data before the SHA-256 (a multiple of 512). */
  dataBytes: number;
  /** The data in pieces (magic and head first, padding last). */
  pieces(): Generator<Uint8Array>;
}

/** Plans a snapshot of the state now: counts keys and bytes (one pass), then yields the bytes (a second pass at the same revision). */
export function planSnapshot(store: MetaStore): SnapshotPlan {
  const revision = store.revision;
  let keys = 0;
  let body = 0;
  for (const page of keyValuesAt(store, revision)) {
    for (const kv of page) {
      keys++;
      body += RECORD_FIXED + kv.key.length + kv.value.length;
    }
  }
  const leases: Array<[number, number]> = [...store.lease.list()].sort((a, b) => a - b).map((id) => [id, store.lease.timeToLive(id).grantedTTL]);
  const head: SnapshotHead = { revision, compactRevision: store.compactRevision, keys, leases };
  const headBytes = new TextEncoder().encode(`${MAGIC}${JSON.stringify(head)}\n`);
  const unpadded = headBytes.length + body;
  const dataBytes = Math.ceil(unpadded / 512) * 512;
  return {
    head,
    dataBytes,
    *pieces() {
      yield headBytes;
      for (const page of keyValuesAt(store, revision)) for (const kv of page) yield kvRecord(kv);
      if (dataBytes > unpadded) yield new Uint8Array(dataBytes - unpadded);
    },
  };
}

/** A snapshot read back (for tests and tools): its head and key-values; throws when it is damaged. */
export function readSnapshot(bytes: Uint8Array): { head: SnapshotHead; kvs: KeyValue[] } {
  if (bytes.length < 32 || (bytes.length - 32) % 512 !== 0) throw new Error(`not a snapshot: length ${bytes.length} is not 32 more than a multiple of 512`);
  const data = bytes.subarray(0, bytes.length - 32);
  const sum = createHash('sha256').update(data).digest();
  if (Buffer.compare(sum, bytes.subarray(bytes.length - 32)) !== 0) throw new Error('snapshot SHA-256 mismatch');
  const text = new TextDecoder();
  if (text.decode(data.subarray(0, MAGIC.length)) !== MAGIC) throw new Error('not a MetaStore snapshot');
  const nl = data.indexOf(10, MAGIC.length);
  const head = JSON.parse(text.decode(data.subarray(MAGIC.length, nl))) as SnapshotHead;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const kvs: KeyValue[] = [];
  let p = nl + 1;
  for (let i = 0; i < head.keys; i++) {
    const kl = view.getUint32(p, true);
    const vl = view.getUint32(p + 4, true);
    kvs.push({
      createRevision: Number(view.getBigInt64(p + 8, true)),
      modRevision: Number(view.getBigInt64(p + 16, true)),
      version: Number(view.getBigInt64(p + 24, true)),
      lease: Number(view.getBigInt64(p + 32, true)),
      key: data.slice(p + RECORD_FIXED, p + RECORD_FIXED + kl),
      value: data.slice(p + RECORD_FIXED + kl, p + RECORD_FIXED + kl + vl),
    });
    p += RECORD_FIXED + kl + vl;
  }
  return { head, kvs };
}
