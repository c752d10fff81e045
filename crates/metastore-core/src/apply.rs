//! Batched apply. Consecutive ops of one type form a group; a large group of puts (or of
//! single-key deletes) is applied shard by shard in parallel. Revisions are fixed in op order
//! before any parallel work, so the outcome is the same as applying the ops one by one, on any
//! thread count.

use crate::codec::{DeleteRangeRef, OpRef, PutRef, OP_DELETE_RANGE, OP_PUT, PUT_IGNORE_LEASE, PUT_IGNORE_VALUE, PUT_PREV_KV};
use crate::error::ErrorNumber;
use crate::index::KeyIndex;
use crate::kv::{Key, KeyEntry, KeyValue};
use crate::kvstore::{check_put, lease_exists, new_entry, update_entry, Store};
use crate::results::ResultWriter;
use crate::shards::{find, find_mut, hash_key, insert_new, remove, shard_of, SHARD_COUNT};
use rayon::prelude::*;
use std::collections::HashSet;

/// Op positions of a group bucketed by shard, each bucket in op order.
struct ShardBuckets {
    hashes: Vec<u64>,
    /// `order[starts[s]..starts[s + 1]]` are the group positions that fall in shard `s`.
    order: Vec<u32>,
    starts: Vec<u32>,
}

impl ShardBuckets {
    fn new<'a>(keys: impl ExactSizeIterator<Item = &'a [u8]>) -> Self {
        let hashes: Vec<u64> = keys.map(hash_key).collect();
        let mut starts = vec![0u32; SHARD_COUNT + 1];
        for &h in &hashes {
            starts[shard_of(h) + 1] += 1;
        }
        for s in 0..SHARD_COUNT {
            starts[s + 1] += starts[s];
        }
        let mut fill = starts.clone();
        let mut order = vec![0u32; hashes.len()];
        for (i, &h) in hashes.iter().enumerate() {
            let s = shard_of(h);
            order[fill[s] as usize] = i as u32;
            fill[s] += 1;
        }
        ShardBuckets { hashes, order, starts }
    }

    /// Shards that hold at least one op, with their op positions, cut into a few chunks per
    /// thread: enough to balance, few enough that scheduling costs little.
    fn chunks(&self, threads: usize) -> Vec<Vec<(usize, &[u32])>> {
        let shards: Vec<(usize, &[u32])> = (0..SHARD_COUNT)
            .filter_map(|s| {
                let (a, b) = (self.starts[s] as usize, self.starts[s + 1] as usize);
                (a < b).then(|| (s, &self.order[a..b]))
            })
            .collect();
        let per_chunk = shards.len().div_ceil(threads.max(1) * 4).max(1);
        shards.chunks(per_chunk).map(|c| c.to_vec()).collect()
    }
}

impl Store {
    pub(crate) fn apply_ops(&self, ops: &[OpRef<'_>], rev: &mut i64, buf: Vec<u8>) -> ResultWriter {
        let mut out = ResultWriter::for_batch(ops.len(), buf);
        let mut index = self.index.write();
        let threshold = self.config.parallel_threshold.max(2);
        let mut i = 0;
        while i < ops.len() {
            let kind = ops[i].type_byte();
            let mut j = i + 1;
            while j < ops.len() && ops[j].type_byte() == kind {
                j += 1;
            }
            let group = &ops[i..j];
            if group.len() >= threshold && kind == OP_PUT {
                let puts: Vec<PutRef<'_>> = group.iter().map(|op| if let OpRef::Put(p) = op { *p } else { unreachable!() }).collect();
                self.put_group(&puts, &mut index, rev, &mut out);
            } else if group.len() >= threshold
                && kind == OP_DELETE_RANGE
                && group.iter().all(|op| matches!(op, OpRef::DeleteRange(d) if d.range_end.is_empty()))
            {
                let dels: Vec<DeleteRangeRef<'_>> =
                    group.iter().map(|op| if let OpRef::DeleteRange(d) = op { *d } else { unreachable!() }).collect();
                self.delete_group(&dels, &mut index, rev, &mut out);
            } else {
                for op in group {
                    match op {
                        OpRef::Put(p) => self.put(p, &mut index, rev, &mut out),
                        OpRef::DeleteRange(d) => self.delete_range(d, &mut index, rev, &mut out),
                        OpRef::Range(r) => {
                            if let Err(number) = self.range_into(&index, r, *rev, &mut out) {
                                out.error(*rev, number);
                            }
                        }
                    }
                }
            }
            i = j;
        }
        out
    }

    /// A run of puts, shard by shard in parallel.
    fn put_group(&self, ops: &[PutRef<'_>], index: &mut KeyIndex, rev: &mut i64, out: &mut ResultWriter) {
        let buckets = ShardBuckets::new(ops.iter().map(|op| op.key));
        let chunks = buckets.chunks(self.pool().current_num_threads());
        let pool = self.pool();

        // 1. Which puts fail. Only ops with ignore flags or a lease can; within a run of puts a
        //    key only ever comes into existence, so a shard-local walk in op order decides.
        let may_fail = ops.iter().any(|op| op.lease != 0 || op.flags & (PUT_IGNORE_VALUE | PUT_IGNORE_LEASE) != 0);
        let mut failure: Vec<Option<ErrorNumber>> = Vec::new();
        if may_fail {
            failure = vec![None; ops.len()];
            let decided: Vec<Vec<(u32, ErrorNumber)>> = pool.install(|| {
                chunks
                    .par_iter()
                    .map(|chunk| {
                        let mut failed = Vec::new();
                        for &(s, positions) in chunk.iter() {
                            let shard = self.shards.shard(s).read();
                            let mut created: HashSet<&[u8]> = HashSet::new();
                            for &pos in positions {
                                let op = &ops[pos as usize];
                                let exists = created.contains(op.key) || find(&shard, buckets.hashes[pos as usize], op.key).is_some();
                                match check_put(op, exists, lease_exists) {
                                    Ok(()) => {
                                        created.insert(op.key);
                                    }
                                    Err(number) => failed.push((pos, number)),
                                }
                            }
                        }
                        failed
                    })
                    .collect()
            });
            for (pos, number) in decided.into_iter().flatten() {
                failure[pos as usize] = Some(number);
            }
        }
        let failed = |p: usize| if may_fail { failure[p] } else { None };

        // 2. Revisions, in op order, before any write.
        let mut revisions = vec![0i64; ops.len()];
        let mut r = *rev;
        for (p, slot) in revisions.iter_mut().enumerate() {
            if failed(p).is_none() {
                r += 1;
                *slot = r;
            }
        }

        // 3. The writes, shard by shard. Each chunk returns the keys it created and, where asked
        //    for, the previous key-values.
        let per_chunk: Vec<(Vec<Key>, Vec<(u32, KeyValue)>)> = pool.install(|| {
            chunks
                .par_iter()
                .map(|chunk| {
                    let mut created = Vec::new();
                    let mut prevs = Vec::new();
                    for &(s, positions) in chunk.iter() {
                        let mut shard = self.shards.shard(s).write();
                        for &pos in positions {
                            let p = pos as usize;
                            if failed(p).is_some() {
                                continue;
                            }
                            let op = &ops[p];
                            let hash = buckets.hashes[p];
                            match find_mut(&mut shard, hash, op.key) {
                                Some(entry) => {
                                    if op.flags & PUT_PREV_KV != 0 {
                                        prevs.push((pos, entry.current.clone()));
                                    }
                                    update_entry(entry, op, revisions[p]);
                                }
                                None => {
                                    let key: Key = op.key.into();
                                    insert_new(&mut shard, hash, new_entry(key.clone(), op, revisions[p]));
                                    created.push(key);
                                }
                            }
                        }
                    }
                    (created, prevs)
                })
                .collect()
        });

        // 4. Index and results, in op order.
        let mut prev_of: Vec<Option<KeyValue>> = Vec::new();
        for (created, prevs) in per_chunk {
            for key in created {
                index.insert(key);
            }
            if !prevs.is_empty() && prev_of.is_empty() {
                prev_of.resize_with(ops.len(), || None);
            }
            for (pos, kv) in prevs {
                prev_of[pos as usize] = Some(kv);
            }
        }
        let mut current = *rev;
        for p in 0..ops.len() {
            if let Some(number) = failed(p) {
                out.error(current, number);
                continue;
            }
            current = revisions[p];
            let prev = prev_of.get(p).and_then(|kv| kv.as_ref());
            out.put(current, prev.map(|kv| (ops[p].key, kv)));
        }
        *rev = r;
    }

    /// A run of single-key deletes, shard by shard in parallel. A delete bumps the revision only
    /// if its key existed, which the shard-local walk finds out; revisions are then numbered in
    /// op order (no state holds a delete's revision yet, so this needs no second pass).
    fn delete_group(&self, ops: &[DeleteRangeRef<'_>], index: &mut KeyIndex, rev: &mut i64, out: &mut ResultWriter) {
        let buckets = ShardBuckets::new(ops.iter().map(|op| op.key));
        let chunks = buckets.chunks(self.pool().current_num_threads());
        let removed: Vec<Vec<(u32, KeyEntry)>> = self.pool().install(|| {
            chunks
                .par_iter()
                .map(|chunk| {
                    let mut removed = Vec::new();
                    for &(s, positions) in chunk.iter() {
                        let mut shard = self.shards.shard(s).write();
                        for &pos in positions {
                            if let Some(entry) = remove(&mut shard, buckets.hashes[pos as usize], ops[pos as usize].key) {
                                removed.push((pos, entry));
                            }
                        }
                    }
                    removed
                })
                .collect()
        });
        let mut by_pos: Vec<Option<KeyEntry>> = Vec::with_capacity(ops.len());
        by_pos.resize_with(ops.len(), || None);
        for (pos, entry) in removed.into_iter().flatten() {
            by_pos[pos as usize] = Some(entry);
        }
        for (p, entry) in by_pos.into_iter().enumerate() {
            match entry {
                Some(entry) => {
                    *rev += 1;
                    index.remove(&entry.key);
                    let prev = ops[p].prev_kv.then_some((&*entry.key, &entry.current));
                    out.delete_range(*rev, 1, prev.into_iter());
                }
                None => out.delete_range(*rev, 0, std::iter::empty()),
            }
        }
    }
}
