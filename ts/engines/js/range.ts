/**
 * Key ranges and range reads (docs/codec.md, "Key ranges" and "RANGE"), over the key index:
 * latest reads from the live-key tree, reads at a past revision from the keys' histories.
 * Bounds are binary strings: rangeEnd '' is the single key, '\0' (the byte 0x00) every key ≥ key.
 */

import { ErrorNumber } from '../../errors.js';
import { SortOrder, SortTarget, type RangeResult } from '../../types.js';
import type { BTree } from './btree.js';
import { KeyRecord, type KeyIndex } from './key-index.js';

/** The range end that means "every key from the start key on". */
export const FROM_KEY = '\0';

/**
 * The numeric fields of a range request. Both a BatchReader positioned on a RANGE op and a RangeOp
 * have this shape, so batch ops are read without building an op object.
 */
export interface RangeParams {
  readonly limit: number;
  readonly sortOrder: number;
  readonly sortTarget: number;
  readonly minModRevision: number;
  readonly maxModRevision: number;
  readonly minCreateRevision: number;
  readonly maxCreateRevision: number;
}

/**
 * The error number of a read at `requested` when the store is at `current` and compacted at
 * `compacted`, or 0 when it can be served.
 */
export function revisionError(requested: number, current: number, compacted: number): number {
  if (requested > current) return ErrorNumber.FUTURE_REV;
  if (requested > 0 && requested < compacted) return ErrorNumber.COMPACTED;
  return 0;
}

/** Whether key lies in the range [start, end) (end '' the single key, '\0' from start on). */
export function inRange(key: string, start: string, end: string): boolean {
  if (end === '') return key === start;
  if (end === FROM_KEY) return key >= start;
  return key >= start && key < end;
}

/** Positions [lo, hi) of a tree's keys in [key, end) (end not '' — single keys go through the Map). */
export function span(tree: BTree<KeyRecord>, key: string, end: string): [number, number] {
  const lo = tree.rank(key);
  if (end === FROM_KEY) return [lo, tree.size];
  if (end <= key) return [lo, lo];
  return [lo, tree.rank(end)];
}

/** The live records of a key range, in key order. */
export function liveIn(index: KeyIndex, key: string, end: string): KeyRecord[] {
  if (end === '') {
    const rec = index.getLive(key);
    return rec === undefined ? [] : [rec];
  }
  const [lo, hi] = span(index.live, key, end);
  return index.live.slice(lo, hi);
}

/** Every record (live or deleted) of a key range, in key order. */
export function recordsIn(index: KeyIndex, key: string, end: string): KeyRecord[] {
  if (end === '') {
    const rec = index.records.get(key);
    return rec === undefined ? [] : [rec];
  }
  const [llo, lhi] = span(index.live, key, end);
  const [dlo, dhi] = span(index.dead, key, end);
  const a = index.live.slice(llo, lhi);
  const b = index.dead.slice(dlo, dhi);
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out = new Array<KeyRecord>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]!.key < b[j]!.key ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/**
 * The keys of a range as they were at revision `rev`, in key order: snapshot records (same shape
 * as the live ones, detached from the index).
 */
function recordsAt(index: KeyIndex, key: string, end: string, rev: number): KeyRecord[] {
  const h = index.history;
  const out: KeyRecord[] = [];
  for (const rec of recordsIn(index, key, end)) {
    const row = h.at(rec.head, rev);
    if (row < 0 || h.isTombstone(row)) continue;
    out.push(new KeyRecord(rec.key, h.valueString(row), h.create(row), h.main(row), h.ver(row), h.lease(row), row));
  }
  return out;
}

/** A tree over a plain list, for reads at a past revision (positions are list indices). */
class ListTree {
  constructor(private readonly list: KeyRecord[]) {}
  get size(): number {
    return this.list.length;
  }
  slice(from: number, to: number): KeyRecord[] {
    return this.list.slice(from, to);
  }
  scan(from: number, n: number, descending: boolean, visit: (rec: KeyRecord) => boolean): void {
    const list = this.list;
    for (let i = from; n-- > 0 && i >= 0 && i < list.length; descending ? i-- : i++) if (!visit(list[i]!)) return;
  }
}

/**
 * A range read. `revision` is the store's current revision (the result header); `at` the
 * revision asked for (≤ 0 or ≥ revision: the latest state), already checked by the caller.
 */
export function readRange(
  index: KeyIndex,
  revision: number,
  at: number,
  key: string,
  end: string,
  p: RangeParams,
  keysOnly: boolean,
  countOnly: boolean,
): RangeResult {
  let single: KeyRecord | undefined;
  let lo = 0;
  let hi = 0;
  let tree: Pick<BTree<KeyRecord>, 'slice' | 'scan'> = index.live;
  if (at > 0 && at < revision) {
    // A past revision: the range's keys as they were then, scanned from their histories.
    const past = recordsAt(index, key, end, at);
    tree = new ListTree(past);
    hi = past.length;
  } else if (end === '') {
    single = index.getLive(key);
    hi = single === undefined ? 0 : 1;
  } else {
    [lo, hi] = span(index.live, key, end);
  }
  const count = hi - lo;
  if (countOnly || count === 0) return { type: 'range', revision, kvs: [], more: false, count };

  const limit = p.limit > 0 ? p.limit : Infinity;
  const minMod = p.minModRevision;
  const maxMod = p.maxModRevision === 0 ? Infinity : p.maxModRevision;
  const minCreate = p.minCreateRevision;
  const maxCreate = p.maxCreateRevision === 0 ? Infinity : p.maxCreateRevision;
  const filtered = minMod !== 0 || maxMod !== Infinity || minCreate !== 0 || maxCreate !== Infinity;
  const keep = (e: KeyRecord): boolean => e.modRevision >= minMod && e.modRevision <= maxMod && e.createRevision >= minCreate && e.createRevision <= maxCreate;
  const descending = p.sortOrder === SortOrder.DESCEND;

  let list: KeyRecord[];
  let more: boolean;
  if (single !== undefined) {
    list = filtered && !keep(single) ? [] : [single];
    more = false; // limit is at least 1
  } else if (p.sortTarget === SortTarget.KEY && !filtered) {
    // Key order and no filter: the answer is a window of positions, and `more` follows from count.
    const n = Math.min(count, limit);
    list = descending ? tree.slice(hi - n, hi).reverse() : tree.slice(lo, lo + n);
    more = count > n;
  } else if (p.sortTarget === SortTarget.KEY) {
    // Key order with filters: walk in the asked direction until limit + 1 entries pass.
    const out: KeyRecord[] = [];
    let over = false;
    tree.scan(descending ? hi - 1 : lo, count, descending, (e) => {
      if (!keep(e)) return true;
      if (out.length === limit) {
        over = true;
        return false;
      }
      out.push(e);
      return true;
    });
    list = out;
    more = over;
  } else if (p.sortOrder === SortOrder.NONE && !filtered && p.limit > 0) {
    // etcd's range.go: with order NONE and no filter it fetches limit + 1 keys in key order and
    // only then sorts them (ascending by the target), so the sort sees just that window.
    list = tree.slice(lo, Math.min(hi, lo + limit + 1));
    list.sort(comparator(p.sortTarget, false));
    more = list.length > limit;
    if (more) list.length = limit;
  } else {
    // Any other target orders the whole (filtered) range. The input comes in ascending key order
    // and both ways of ordering are stable, so ties stay in ascending key order in both directions.
    const cmp = comparator(p.sortTarget, descending);
    if (limit <= TOP_K_MAX && limit < count) {
      let passed = 0;
      list = [];
      tree.scan(lo, count, false, (e) => {
        if (filtered && !keep(e)) return true;
        passed++;
        offerTop(list, limit, e, cmp);
        return true;
      });
      more = passed > limit;
    } else {
      list = tree.slice(lo, hi);
      if (filtered) list = list.filter(keep);
      list.sort(cmp); // stable
      more = list.length > limit;
      if (more) list.length = limit;
    }
  }

  const kvs = new Array(list.length);
  for (let i = 0; i < list.length; i++) kvs[i] = list[i]!.toKeyValue(keysOnly);
  return { type: 'range', revision, kvs, more, count };
}

type Compare = (a: KeyRecord, b: KeyRecord) => number;

/** Up to this limit a sorted read keeps only the best `limit` entries instead of sorting the range. */
const TOP_K_MAX = 256;

/**
 * Offers e to `top`, the best ≤ k entries so far in order. e comes after every entry already seen,
 * so among equals it ranks last: it goes after them, and never displaces one (stability).
 */
function offerTop(top: KeyRecord[], k: number, e: KeyRecord, cmp: Compare): void {
  if (top.length === k && cmp(e, top[k - 1]!) >= 0) return;
  let lo = 0;
  let hi = top.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(top[mid]!, e) <= 0) lo = mid + 1;
    else hi = mid;
  }
  top.splice(lo, 0, e);
  if (top.length > k) top.pop();
}

const byVersion: Compare = (a, b) => a.version - b.version;
const byCreate: Compare = (a, b) => a.createRevision - b.createRevision;
const byMod: Compare = (a, b) => a.modRevision - b.modRevision;
// Binary strings compare bytewise, shorter prefix first.
const byValue: Compare = (a, b) => (a.value! < b.value! ? -1 : a.value! > b.value! ? 1 : 0);

function comparator(target: number, descending: boolean): Compare {
  const asc = target === SortTarget.VERSION ? byVersion : target === SortTarget.CREATE ? byCreate : target === SortTarget.MOD ? byMod : byValue;
  return descending ? (a, b) => asc(b, a) : asc;
}
