/**
 * The key index (the counterpart of etcd's mvcc/index.go): every live key, reachable by exact key
 * in O(1) through a Map and in bytewise key order through an order-statistic B+tree, so a range
 * costs O(log n + k) and counting a range costs O(log n) whatever its size.
 *
 * Keys are binary strings (latin1.ts), one char per byte, so string order is memcmp order.
 */

import { BTree } from './btree.js';
import { bytesOf } from './latin1.js';
import type { KeyValue } from '../types.js';

const EMPTY = new Uint8Array(0);

/**
 * One key and its latest revision, mutated in place by puts. This is the head of the key's history:
 * MVCC (a later issue) keeps older revisions as a chain hanging off the entry, like etcd's keyIndex
 * generations, and keeps deleted keys in the index as tombstones; neither exists yet.
 */
export class KeyEntry {
  constructor(
    readonly key: string,
    public value: string,
    public createRevision: number,
    public modRevision: number,
    public version: number,
    public lease: number,
  ) {}

  /** A snapshot the caller owns (fresh arrays; the entry keeps changing). */
  toKeyValue(keysOnly: boolean): KeyValue {
    return {
      key: bytesOf(this.key),
      value: keysOnly ? EMPTY : bytesOf(this.value),
      createRevision: this.createRevision,
      modRevision: this.modRevision,
      version: this.version,
      lease: this.lease,
    };
  }
}

export class TreeIndex {
  private readonly byKey = new Map<string, KeyEntry>();
  private readonly ordered = new BTree<KeyEntry>();

  /** Live keys. */
  get size(): number {
    return this.byKey.size;
  }

  get(key: string): KeyEntry | undefined {
    return this.byKey.get(key);
  }

  /** Adds an entry for a key that is not in the index. */
  insert(entry: KeyEntry): void {
    this.byKey.set(entry.key, entry);
    this.ordered.insert(entry.key, entry);
  }

  remove(entry: KeyEntry): void {
    this.byKey.delete(entry.key);
    this.ordered.delete(entry.key);
  }

  /** Position of key in key order: the number of live keys < key. */
  rank(key: string): number {
    return this.ordered.rank(key);
  }

  /** Entries at positions [from, to), in key order. */
  slice(from: number, to: number): KeyEntry[] {
    return this.ordered.slice(from, to);
  }

  /** Visits up to n entries from position `from`, in key order or (descending) reverse, while `visit` returns true. */
  scan(from: number, n: number, descending: boolean, visit: (entry: KeyEntry) => boolean): void {
    this.ordered.scan(from, n, descending, visit);
  }

  clear(): void {
    this.byKey.clear();
    this.ordered.clear();
  }
}
