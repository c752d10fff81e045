/**
 * The key index (the counterpart of etcd's mvcc/index.go): every key with retained history, by
 * exact key in O(1) through a Map and in bytewise key order through two order-statistic B+trees:
 * `live` holds the keys that exist now, so latest reads cost O(log n + k) and counting a range
 * O(log n) whatever its size; `dead` the deleted keys whose history is still retained, which
 * reads at a past revision walk too. Each key's versions are rows of the {@link History}, linked
 * newest first from the record's `head`.
 *
 * Keys are binary strings (latin1.ts), one char per byte, so string order is memcmp order.
 */

import { BTree } from './btree.js';
import { History } from './history.js';
import { bytesOf } from '../../codec/latin1.js';
import type { KeyValue } from '../../types.js';

const EMPTY = new Uint8Array(0);

/**
 * A key and its latest state, mutated in place by puts (the latest reads read these fields); its
 * history hangs off `head`. A deleted key keeps its record (value null) while history holds rows
 * of it.
 */
export class KeyRecord {
  constructor(
    readonly key: string,
    /** The live value; null when the key is deleted (the other fields are then stale). */
    public value: string | null,
    public createRevision: number,
    public modRevision: number,
    public version: number,
    public lease: number,
    /** The key's newest history row. */
    public head: number,
  ) {}

  /** Number in the history (History.register). */
  id = -1;

  /** A snapshot of the live key the caller owns (fresh arrays; the record keeps changing). */
  toKeyValue(keysOnly: boolean): KeyValue {
    return {
      key: bytesOf(this.key),
      value: keysOnly ? EMPTY : bytesOf(this.value!),
      createRevision: this.createRevision,
      modRevision: this.modRevision,
      version: this.version,
      lease: this.lease,
    };
  }
}

export class KeyIndex {
  /** Every key with retained history, live or not. */
  readonly records = new Map<string, KeyRecord>();
  /** Live keys in key order. */
  readonly live = new BTree<KeyRecord>();
  /** Deleted keys whose history is retained, in key order. */
  readonly dead = new BTree<KeyRecord>();
  readonly history = new History<KeyRecord>();

  /** Live keys. */
  get size(): number {
    return this.live.size;
  }

  /** The live record of key, or undefined. */
  getLive(key: string): KeyRecord | undefined {
    const rec = this.records.get(key);
    return rec === undefined || rec.value === null ? undefined : rec;
  }

  /**
   * Puts key at revision (main, sub); `rec` is its record (undefined: none yet). The value is
   * `value`, whose bytes are [start, end) of `src` (`view`: a DataView of src, or null); src null
   * keeps the live value (IGNORE_VALUE).
   * An existing live key keeps createRevision and gets version + 1; otherwise a generation
   * starts. Returns the record.
   */
  put(
    key: string,
    rec: KeyRecord | undefined,
    main: number,
    sub: number,
    value: string,
    lease: number,
    src: Uint8Array | null,
    view: DataView | null,
    start: number,
    end: number,
  ): KeyRecord {
    const h = this.history;
    if (rec === undefined) {
      rec = new KeyRecord(key, value, main, main, 1, lease, -1);
      h.register(rec);
      rec.head = h.appendPut(rec, main, sub, main, 1, lease, -1, src, view, start, end);
      this.records.set(key, rec);
      this.live.insert(key, rec);
      return rec;
    }
    if (rec.value !== null) {
      rec.version++;
    } else {
      // A new generation.
      rec.createRevision = main;
      rec.version = 1;
      this.dead.delete(key);
      this.live.insert(key, rec);
    }
    rec.value = value;
    rec.modRevision = main;
    rec.lease = lease;
    rec.head = h.appendPut(rec, main, sub, rec.createRevision, rec.version, lease, rec.head, src, view, start, end);
    return rec;
  }

  /** Deletes the live key of `rec` at revision (main, sub). */
  remove(rec: KeyRecord, main: number, sub: number): void {
    rec.value = null;
    rec.head = this.history.appendTombstone(rec, main, sub, rec.head);
    this.live.delete(rec.key);
    this.dead.insert(rec.key, rec);
  }

  /** Drops a deleted key that has no history left (compaction). */
  forget(rec: KeyRecord): void {
    this.records.delete(rec.key);
    this.dead.delete(rec.key);
  }

  clear(): void {
    this.records.clear();
    this.live.clear();
    this.dead.clear();
    this.history.clear();
  }
}
