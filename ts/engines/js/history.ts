/**
 * The store's history (the counterpart of etcd's revision-keyed backend plus keyIndex chains):
 * one row per put or deletion, appended in (main, sub) revision order, so the row table is also
 * the store-wide change log. Each row links to the previous row of its key, so a key's versions
 * form a chain from its newest row back, like etcd's keyIndex generations.
 *
 * Rows are 56 bytes in fixed-size typed-array chunks and their values sit in a byte arena, so a
 * long history gives the garbage collector nothing to trace, and growing it never copies. A put
 * copies its value bytes into the arena straight from the batch (turning a string back into bytes
 * later would cost twice as much); the key's record keeps the live value as a binary string too,
 * for the latest reads.
 */

import type { KeyValue } from '../../types.js';
import { bytesOf, latin1 } from '../../codec/latin1.js';

// A row is 56 bytes: 5 float64 (at f[7 * r + k]) then 4 int32 (at i[14 * r + 10 + k]).
const MAIN = 0;
const CREATE = 1;
const VER = 2;
const LEASE = 3;
/** Arena position of the value (chunk × 2^30 + offset), or TOMBSTONE. */
const VPOS = 4;
const TOMBSTONE = -1;
const SUB = 10;
/** Row of the key's previous version, −1 for none. */
const PREV = 11;
/** Id of the key's record ({@link History.register}). */
const OWNER = 12;
const VLEN = 13;

/** Rows per chunk: 1024 × 56 bytes = 56 KiB, under the allocator's mmap threshold, so chunks get recycled. */
const CHUNK_SHIFT = 10;
const CHUNK_ROWS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_ROWS - 1;
/** Bytes per arena chunk; a value of more than half of it gets a chunk of its own. */
const ARENA_CHUNK = 1 << 16;
const ARENA_SPAN = 2 ** 30;

const EMPTY = new Uint8Array(0);

/** What the history knows of a key's record: its key, and its number here. */
export interface RowOwner {
  readonly key: string;
  /** Set by {@link History.register}. */
  id: number;
}

export class History<R extends RowOwner = RowOwner> {
  private fs: Float64Array[] = [];
  private is: Int32Array[] = [];
  /** Key records by id. */
  private owners: R[] = [];
  private arena: Uint8Array[] = [];
  /** A DataView of the last arena chunk, for word-wise copies. */
  private arenaView: DataView = new DataView(new ArrayBuffer(0));
  /** Bytes used in the last arena chunk. */
  private arenaUsed = ARENA_CHUNK;
  /** Number of rows. */
  length = 0;

  private f(row: number, field: number): number {
    return this.fs[row >>> CHUNK_SHIFT]![(row & CHUNK_MASK) * 7 + field]!;
  }

  private i(row: number, field: number): number {
    return this.is[row >>> CHUNK_SHIFT]![(row & CHUNK_MASK) * 14 + field]!;
  }

  /** Gives a new key record its id. */
  register(owner: R): void {
    owner.id = this.owners.length;
    this.owners.push(owner);
  }

  main(row: number): number {
    return this.f(row, MAIN);
  }

  create(row: number): number {
    return this.f(row, CREATE);
  }

  ver(row: number): number {
    return this.f(row, VER);
  }

  lease(row: number): number {
    return this.f(row, LEASE);
  }

  sub(row: number): number {
    return this.i(row, SUB);
  }

  prev(row: number): number {
    return this.i(row, PREV);
  }

  isTombstone(row: number): boolean {
    return this.f(row, VPOS) === TOMBSTONE;
  }

  owner(row: number): R {
    return this.owners[this.i(row, OWNER)]!;
  }

  /**
   * Appends a put whose value is bytes [start, end) of `src` (`view`: a DataView of src, if the
   * caller has one), or (src null) the value of row `prev` (IGNORE_VALUE: the bytes are shared).
   * Returns the row.
   */
  appendPut(
    owner: R,
    main: number,
    sub: number,
    create: number,
    ver: number,
    lease: number,
    prev: number,
    src: Uint8Array | null,
    view: DataView | null,
    start: number,
    end: number,
  ): number {
    let pos: number;
    let n: number;
    if (src === null) {
      pos = this.f(prev, VPOS);
      n = this.i(prev, VLEN);
    } else {
      n = end - start;
      pos = n === 0 ? 0 : this.copy(src, view, start, n);
    }
    return this.append(owner.id, main, sub, create, ver, lease, pos, n, prev);
  }

  /** Appends a deletion. Returns the row. */
  appendTombstone(owner: R, main: number, sub: number, prev: number): number {
    return this.append(owner.id, main, sub, 0, 0, 0, TOMBSTONE, 0, prev);
  }

  private append(owner: number, main: number, sub: number, create: number, ver: number, lease: number, pos: number, n: number, prev: number): number {
    const row = this.length;
    const c = row >>> CHUNK_SHIFT;
    if (c === this.fs.length) {
      const buf = new ArrayBuffer(CHUNK_ROWS * 56);
      this.fs.push(new Float64Array(buf));
      this.is.push(new Int32Array(buf));
    }
    const f = this.fs[c]!;
    const x = (row & CHUNK_MASK) * 7;
    f[x + MAIN] = main;
    f[x + CREATE] = create;
    f[x + VER] = ver;
    f[x + LEASE] = lease;
    f[x + VPOS] = pos;
    const i = this.is[c]!;
    i[x * 2 + SUB] = sub;
    i[x * 2 + PREV] = prev;
    i[x * 2 + OWNER] = owner;
    i[x * 2 + VLEN] = n;
    this.length = row + 1;
    return row;
  }

  /** Copies n (> 0) bytes of src from start into the arena; returns their position. */
  private copy(src: Uint8Array, view: DataView | null, start: number, n: number): number {
    let a: Uint8Array;
    let off: number;
    if (n > ARENA_CHUNK >>> 1) {
      // A big value gets a chunk of its own; small ones continue in a fresh chunk after it.
      a = new Uint8Array(n);
      this.arena.push(a);
      this.arenaUsed = ARENA_CHUNK;
      a.set(src.subarray(start, start + n));
      return (this.arena.length - 1) * ARENA_SPAN;
    }
    if (this.arenaUsed + n > ARENA_CHUNK) {
      a = new Uint8Array(ARENA_CHUNK);
      this.arena.push(a);
      this.arenaView = new DataView(a.buffer);
      this.arenaUsed = 0;
    } else {
      a = this.arena[this.arena.length - 1]!;
    }
    off = this.arenaUsed;
    this.arenaUsed = off + n;
    if (n > 64) {
      a.set(src.subarray(start, start + n), off);
    } else {
      // Short values: a native copy costs more than the loop; four bytes a step when we can.
      let k = 0;
      if (view !== null) {
        const dst = this.arenaView;
        for (; k + 4 <= n; k += 4) dst.setUint32(off + k, view.getUint32(start + k));
      }
      for (; k < n; k++) a[off + k] = src[start + k]!;
    }
    return (this.arena.length - 1) * ARENA_SPAN + off;
  }

  /** The value bytes of a live row: [arena chunk, start, end]. */
  private located(row: number): [Uint8Array, number, number] {
    const n = this.i(row, VLEN);
    if (n === 0) return [EMPTY, 0, 0];
    const pos = this.f(row, VPOS);
    const c = Math.floor(pos / ARENA_SPAN);
    const off = pos - c * ARENA_SPAN;
    return [this.arena[c]!, off, off + n];
  }

  /** The value of a live row as a binary string. */
  valueString(row: number): string {
    const [a, start, end] = this.located(row);
    return latin1(a, start, end);
  }

  /** A live row as a KeyValue the caller owns. */
  keyValue(row: number, keysOnly: boolean): KeyValue {
    const f = this.fs[row >>> CHUNK_SHIFT]!;
    const x = (row & CHUNK_MASK) * 7;
    let value: Uint8Array = EMPTY;
    if (!keysOnly) {
      const [a, start, end] = this.located(row);
      if (end > start) value = a.slice(start, end);
    }
    return {
      key: bytesOf(this.owner(row).key),
      value,
      createRevision: f[x + CREATE]!,
      modRevision: f[x + MAIN]!,
      version: f[x + VER]!,
      lease: f[x + LEASE]!,
    };
  }

  /** The newest row at or below revision `rev` of the chain ending at `row`, or −1. */
  at(row: number, rev: number): number {
    while (row >= 0 && this.f(row, MAIN) > rev) row = this.i(row, PREV);
    return row;
  }

  /** The first row with main revision ≥ rev (rows are in revision order). */
  firstFrom(rev: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.f(mid, MAIN) < rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Keeps only the rows marked in `keep`, in order (compaction); a kept row whose previous
   * version goes loses its link. Returns the new number of each old row (−1: dropped).
   */
  retain(keep: Uint8Array): Int32Array {
    const n = this.length;
    const renum = new Int32Array(n);
    const old = new History<R>();
    [old.fs, old.is, old.owners, old.arena] = [this.fs, this.is, this.owners, this.arena];
    this.clear();
    // Records with rows left get new ids, in order of their first row.
    const ids = new Int32Array(old.owners.length).fill(-1);
    for (let row = 0; row < n; row++) {
      if (keep[row] === 0) {
        renum[row] = -1;
        continue;
      }
      const id = old.i(row, OWNER);
      if (ids[id] === -1) {
        this.register(old.owners[id]!);
        ids[id] = this.owners.length - 1;
      }
      const prev = old.i(row, PREV);
      let pos = TOMBSTONE;
      const len = old.i(row, VLEN);
      if (!old.isTombstone(row)) {
        const [a, start, end] = old.located(row);
        pos = len === 0 ? 0 : this.copy(a, null, start, end - start);
      }
      renum[row] = this.append(ids[id]!, old.main(row), old.sub(row), old.create(row), old.ver(row), old.lease(row), pos, len, prev < 0 ? -1 : renum[prev]!);
    }
    return renum;
  }

  clear(): void {
    this.fs = [];
    this.is = [];
    this.owners = [];
    this.arena = [];
    this.arenaUsed = ARENA_CHUNK;
    this.length = 0;
  }
}
