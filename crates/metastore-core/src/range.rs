//! Range reads (etcd's RangeRequest): key ranges, count, limit/more, sort, filters; standalone
//! (`Store::range_request`) or as a batch's RANGE op.
//! The default order walks the ordered index and stops after `limit` keys; count comes from
//! index ranks, so neither scans the range.

use crate::codec::{decode_batch, OpRef, RangeRef, SortOrder, SortTarget};
use crate::errors::{BatchError, ErrorNumber};
use crate::key_index::{KeyIndex, RangeEnd};
use crate::kv::{Key, KeyValue};
use crate::kvstore::Store;
use crate::results::ResultWriter;
use std::cmp::Ordering;

impl Store {
    /// Serves a standalone read given as a one-op batch holding a RANGE op. `buf` is reused for
    /// the result (a bare RANGE result at offset 0).
    pub fn range_request(&self, bytes: &[u8], buf: Vec<u8>) -> Result<Vec<u8>, BatchError> {
        let ops = decode_batch(bytes, &self.config.limits)?;
        let [OpRef::Range(op)] = ops.as_slice() else {
            return Err(BatchError::new(ErrorNumber::MalformedBatch, -1, "a read request holds exactly one RANGE op"));
        };
        let mut out = ResultWriter::bare(buf);
        let index = self.index_read();
        self.range_into(&index, op, self.revision(), self.compact_revision(), &mut out).map_err(|n| BatchError::new(n, 0, ""))?;
        drop(index);
        Ok(out.finish(0))
    }

    /// Writes the RANGE result of `op`; the store is at revision `rev`, compacted at `compact_rev`.
    pub(crate) fn range_into(&self, index: &KeyIndex, op: &RangeRef<'_>, rev: i64, compact_rev: i64, out: &mut ResultWriter) -> Result<(), ErrorNumber> {
        if op.revision > rev {
            return Err(ErrorNumber::FutureRev);
        }
        if op.revision > 0 && op.revision < compact_rev {
            return Err(ErrorNumber::Compacted);
        }
        if op.revision > 0 && op.revision < rev {
            return self.range_past(index, op, rev, out);
        }
        let (from, to) = index.span(op.key, RangeEnd::parse(op.range_end));
        let count = to - from;
        if op.count_only {
            out.range_header(rev, false, count as i64, 0);
            return Ok(());
        }
        let limit = if op.limit > 0 { op.limit as usize } else { usize::MAX };
        let filtered = op.min_mod_revision != 0 || op.max_mod_revision != 0 || op.min_create_revision != 0 || op.max_create_revision != 0;
        let key_order = op.sort_target == SortTarget::Key;
        if key_order && !filtered {
            let n = count.min(limit);
            out.range_header(rev, count > n, count as i64, n);
            if op.sort_order == SortOrder::Descend {
                for key in index.iter_span(from, to).rev().take(n) {
                    self.write_kv(key, op.keys_only, out);
                }
            } else {
                for key in index.iter_span(from, to).take(n) {
                    self.write_kv(key, op.keys_only, out);
                }
            }
            return Ok(());
        }
        let mut kvs: Vec<(Key, KeyValue)> = Vec::new();
        let window = if op.sort_order == SortOrder::None && !filtered && op.limit > 0 { (op.limit as usize).saturating_add(1) } else { usize::MAX };
        for key in index.iter_span(from, to).take(window) {
            if let Some(kv) = self.get(key) {
                if passes_filters(op, &kv) {
                    kvs.push((key.clone(), kv));
                }
            }
        }
        finish_range(op, rev, count, kvs, out);
        Ok(())
    }

    /// A read at a past revision: walks every key with history in the range.
    fn range_past(&self, index: &KeyIndex, op: &RangeRef<'_>, rev: i64, out: &mut ResultWriter) -> Result<(), ErrorNumber> {
        let mut count = 0;
        let mut kvs: Vec<(Key, KeyValue)> = Vec::new();
        for key in index.all_in_range(op.key, RangeEnd::parse(op.range_end)) {
            let kv = self.shards.with_entry(&key, |e| e.and_then(|e| e.at(op.revision)).cloned());
            if let Some(kv) = kv {
                count += 1;
                if !op.count_only && passes_filters(op, &kv) {
                    kvs.push((key, kv));
                }
            }
        }
        if op.count_only {
            out.range_header(rev, false, count, 0);
            return Ok(());
        }
        finish_range(op, rev, count as usize, kvs, out);
        Ok(())
    }

    #[inline]
    fn write_kv(&self, key: &[u8], keys_only: bool, out: &mut ResultWriter) {
        self.shards.with_entry(key, |entry| {
            // The index and the shards change together under the writer lock.
            let entry = entry.expect("index key missing from its shard");
            let kv = entry.live().expect("index key is live");
            out.kv(&entry.key, kv, keys_only);
        });
    }
}

/// Orders, limits and writes keys that passed the filters (in ascending key order).
fn finish_range(op: &RangeRef<'_>, rev: i64, count: usize, mut kvs: Vec<(Key, KeyValue)>, out: &mut ResultWriter) {
    let limit = if op.limit > 0 { op.limit as usize } else { usize::MAX };
    let key_order = op.sort_target == SortTarget::Key;
    let filtered = op.min_mod_revision != 0 || op.max_mod_revision != 0 || op.min_create_revision != 0 || op.max_create_revision != 0;
    if op.sort_order == SortOrder::None && !filtered && op.limit > 0 {
        // etcd's range.go: with order NONE and no filter it fetches limit + 1 keys in key order
        // and only then sorts them, so the sort sees just that window.
        kvs.truncate(limit.saturating_add(1));
    }
    {
        // The input is in ascending key order and sort_by is stable, so ties keep key order.
        let descend = op.sort_order == SortOrder::Descend;
        if !key_order || descend {
            kvs.sort_by(|a, b| {
                let ord = compare_by(op.sort_target, a, b);
                if descend {
                    ord.reverse()
                } else {
                    ord
                }
            });
        }
        let n = kvs.len().min(limit);
        out.range_header(rev, kvs.len() > n, count as i64, n);
        for (key, kv) in &kvs[..n] {
            out.kv(key, kv, op.keys_only);
        }
    }
}

fn passes_filters(op: &RangeRef<'_>, kv: &KeyValue) -> bool {
    !(op.min_mod_revision != 0 && kv.mod_revision < op.min_mod_revision
        || op.max_mod_revision != 0 && kv.mod_revision > op.max_mod_revision
        || op.min_create_revision != 0 && kv.create_revision < op.min_create_revision
        || op.max_create_revision != 0 && kv.create_revision > op.max_create_revision)
}

fn compare_by(target: SortTarget, a: &(Key, KeyValue), b: &(Key, KeyValue)) -> Ordering {
    match target {
        SortTarget::Key => a.0.cmp(&b.0),
        SortTarget::Version => a.1.version.cmp(&b.1.version),
        SortTarget::Create => a.1.create_revision.cmp(&b.1.create_revision),
        SortTarget::Mod => a.1.mod_revision.cmp(&b.1.mod_revision),
        SortTarget::Value => a.1.value.as_slice().cmp(b.1.value.as_slice()),
    }
}
