/**
 * Compaction (docs/codec.md, "COMPACT"; etcd's keyIndex.compact with the #18089 fix): per key,
 * the newest version at or below the revision stays with everything after it; when that version
 * is a deletion below the revision it goes too (a deletion exactly at the revision stays, so a
 * watch from there still sees it); keys left with nothing disappear.
 */

import type { KeyIndex } from './key-index.js';

/** Drops the history below `rev` (the caller has checked compacted < rev ≤ current). */
export function compact(index: KeyIndex, rev: number): void {
  const h = index.history;
  // Rows above rev all stay; at or below it, at most one per key.
  const keep = new Uint8Array(h.length);
  keep.fill(1, h.firstFrom(rev + 1));
  for (const rec of index.records.values()) {
    let newer = -1;
    let row = rec.head;
    while (row >= 0 && h.main(row) > rev) {
      newer = row;
      row = h.prev(row);
    }
    if (row < 0) continue; // everything retained is newer than rev
    // A deletion below rev: the generation it ended is gone, and so is the deletion.
    if (h.isTombstone(row) && h.main(row) < rev) {
      if (newer < 0) index.forget(rec);
    } else {
      keep[row] = 1;
    }
  }
  const renum = h.retain(keep);
  for (const rec of index.records.values()) rec.head = renum[rec.head]!;
}
