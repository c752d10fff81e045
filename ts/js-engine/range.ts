/**
 * Key ranges and range reads (docs/codec.md, "Key ranges" and "RANGE"), over the key index.
 * Bounds are binary strings: rangeEnd '' is the single key, '\0' (the byte 0x00) every key ≥ key.
 */

import { ErrorNumber } from '../errors.js';
import { SortOrder, SortTarget, type RangeResult } from '../types.js';
import type { KeyEntry, TreeIndex } from './index.js';

/** The range end that means "every key from the start key on". */
const FROM_KEY = '\0';

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

/** The error number of a read at `requested` when the store is at `current`, or 0 when it can be served. */
export function revisionError(requested: number, current: number): number {
  if (requested > current) return ErrorNumber.FUTURE_REV;
  // No history is kept yet: every past revision counts as compacted.
  if (requested > 0 && requested < current) return ErrorNumber.COMPACTED;
  return 0;
}

/** Positions [lo, hi) of the keys in [key, end) (end not '' — single keys go through the Map). */
function span(index: TreeIndex, key: string, end: string): [number, number] {
  const lo = index.rank(key);
  if (end === FROM_KEY) return [lo, index.size];
  if (end <= key) return [lo, lo];
  return [lo, index.rank(end)];
}

/** The live entries of a key range, in key order. */
export function entriesIn(index: TreeIndex, key: string, end: string): KeyEntry[] {
  if (end === '') {
    const entry = index.get(key);
    return entry === undefined ? [] : [entry];
  }
  const [lo, hi] = span(index, key, end);
  return index.slice(lo, hi);
}

/** A range read at the current revision `revision` (the caller has checked the requested one). */
export function readRange(
  index: TreeIndex,
  revision: number,
  key: string,
  end: string,
  p: RangeParams,
  keysOnly: boolean,
  countOnly: boolean,
): RangeResult {
  let single: KeyEntry | undefined;
  let lo = 0;
  let hi = 0;
  if (end === '') {
    single = index.get(key);
    hi = single === undefined ? 0 : 1;
  } else {
    [lo, hi] = span(index, key, end);
  }
  const count = hi - lo;
  if (countOnly || count === 0) return { type: 'range', revision, kvs: [], more: false, count };

  const limit = p.limit > 0 ? p.limit : Infinity;
  const minMod = p.minModRevision;
  const maxMod = p.maxModRevision === 0 ? Infinity : p.maxModRevision;
  const minCreate = p.minCreateRevision;
  const maxCreate = p.maxCreateRevision === 0 ? Infinity : p.maxCreateRevision;
  const filtered = minMod !== 0 || maxMod !== Infinity || minCreate !== 0 || maxCreate !== Infinity;
  const keep = (e: KeyEntry): boolean =>
    e.modRevision >= minMod && e.modRevision <= maxMod && e.createRevision >= minCreate && e.createRevision <= maxCreate;
  const descending = p.sortOrder === SortOrder.DESCEND;

  let list: KeyEntry[];
  let more: boolean;
  if (single !== undefined) {
    list = filtered && !keep(single) ? [] : [single];
    more = false; // limit is at least 1
  } else if (p.sortTarget === SortTarget.KEY && !filtered) {
    // Key order and no filter: the answer is a window of positions, and `more` follows from count.
    const n = Math.min(count, limit);
    list = descending ? index.slice(hi - n, hi).reverse() : index.slice(lo, lo + n);
    more = count > n;
  } else if (p.sortTarget === SortTarget.KEY) {
    // Key order with filters: walk in the asked direction until limit + 1 entries pass.
    const out: KeyEntry[] = [];
    let over = false;
    index.scan(descending ? hi - 1 : lo, count, descending, (e) => {
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
  } else {
    // Any other target orders the whole (filtered) range. The input comes in ascending key order
    // and both ways of ordering are stable, so ties stay in ascending key order in both directions.
    const cmp = comparator(p.sortTarget, descending);
    if (limit <= TOP_K_MAX && limit < count) {
      let passed = 0;
      list = [];
      index.scan(lo, count, false, (e) => {
        if (filtered && !keep(e)) return true;
        passed++;
        offerTop(list, limit, e, cmp);
        return true;
      });
      more = passed > limit;
    } else {
      list = index.slice(lo, hi);
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

type Compare = (a: KeyEntry, b: KeyEntry) => number;

/** Up to this limit a sorted read keeps only the best `limit` entries instead of sorting the range. */
const TOP_K_MAX = 256;

/**
 * Offers e to `top`, the best ≤ k entries so far in order. e comes after every entry already seen,
 * so among equals it ranks last: it goes after them, and never displaces one (stability).
 */
function offerTop(top: KeyEntry[], k: number, e: KeyEntry, cmp: Compare): void {
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
const byValue: Compare = (a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

function comparator(target: number, descending: boolean): Compare {
  const asc =
    target === SortTarget.VERSION ? byVersion : target === SortTarget.CREATE ? byCreate : target === SortTarget.MOD ? byMod : byValue;
  return descending ? (a, b) => asc(b, a) : asc;
}
