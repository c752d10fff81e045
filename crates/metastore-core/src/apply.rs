//! Batched apply: the store's entry point for writes (`Store::apply_batch`). A batch decodes,
//! opens the write transaction (kvstore_txn.rs) and runs its ops in batch order, each through
//! its file in ops/; a long run of puts (or of single-key deletes) is applied shard by shard in
//! parallel. Revisions are fixed in op order before any parallel work, so the outcome is the same
//! as applying the ops one by one, on any thread count.

use crate::codec::{decode_batch, DeleteRangeRef, OpRef, PutRef, OP_DELETE_RANGE, OP_PUT, PUT_IGNORE_LEASE, PUT_IGNORE_VALUE, PUT_PREV_KV};
use crate::errors::{BatchError, ErrorNumber};
use crate::kv::{Key, KeyValue, Version};
use crate::kvstore::{EventsMode, Store};
use crate::kvstore_txn::{check_put, put_in_shard, Apply};
use crate::results::{EventWriter, ResultWriter};
use crate::shards::{hash_key, shard_of, SHARD_COUNT};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Store {
    /// Applies one encoded batch and returns the packed results (docs/codec.md). A batch that
    /// fails validation is refused whole, before anything is applied.
    pub fn apply_batch(&self, bytes: &[u8]) -> Result<Vec<u8>, BatchError> {
        self.apply_batch_into(bytes, Vec::new(), EventsMode::None)
    }

    /// [`Store::apply_batch`] writing the results into `buf` (cleared first), so a caller can
    /// reuse one allocation across batches, with the events the mode asks for.
    pub fn apply_batch_into(&self, bytes: &[u8], buf: Vec<u8>, events: EventsMode) -> Result<Vec<u8>, BatchError> {
        let _writer = self.writer.lock();
        let ops = decode_batch(bytes, &self.config.limits)?;
        // Taken before the check: it waits for the previous batch's index inserts, which may
        // have failed.
        self.pending.run_if_queued(&self.poisoned);
        let index = self.index.write_arc();
        if self.is_poisoned() {
            return Err(BatchError::new(ErrorNumber::Internal, -1, "an earlier apply failed midway; reopen the store"));
        }
        self.poisoned.store(true, Ordering::Release);
        let mut apply = Apply {
            store: self,
            index,
            leases: self.leases.write(),
            rev: self.revision(),
            compact_rev: self.compact_revision(),
            events: match events {
                EventsMode::None => None,
                EventsMode::Events => Some(EventWriter::new(false)),
                EventsMode::EventsWithPrev => Some(EventWriter::new(true)),
            },
            deferred: Vec::new(),
        };
        let out = apply.run(&ops, buf);
        let (rev, compact_rev) = (apply.rev, apply.compact_rev);
        let out = out.finish_with_events(rev, apply.events.as_ref());
        // Published while the batch still holds the index lock, so a reader on another thread
        // never sees the new data with the old revisions.
        self.compact_revision.store(compact_rev, Ordering::Release);
        self.revision.store(rev, Ordering::Release);
        let Apply { mut index, leases, deferred, .. } = apply;
        drop(leases);
        if deferred.is_empty() || deferred.len() < self.config.background_index_min {
            index.insert_all(deferred);
            self.poisoned.store(false, Ordering::Release);
        } else {
            self.poisoned.store(false, Ordering::Release);
            // The caller goes on (to hand the batch's events to watchers) while a pool thread
            // inserts the keys, holding the write lock until it is done: index readers and the
            // next batch wait for it, or run the inserts themselves if the pool thread has not
            // started them (on a busy machine it can wait for a core for a scheduler slice).
            // Point reads use the hash shards and do not wait.
            self.pending.queue(index, deferred);
            let (pending, poisoned) = (Arc::clone(&self.pending), Arc::clone(&self.poisoned));
            self.pool().spawn(move || pending.run_if_queued(&poisoned));
        }
        Ok(out)
    }
}

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

impl Apply<'_> {
    /// Applies the ops of one batch in order and writes their results.
    pub(crate) fn run(&mut self, ops: &[OpRef<'_>], buf: Vec<u8>) -> ResultWriter {
        let mut out = ResultWriter::for_batch(ops.len(), buf);
        let threshold = self.store.config().parallel_threshold.max(2);
        // Parallel apply does not produce events; with watchers the batch applies op by op.
        let parallel = self.events.is_none();
        let mut i = 0;
        while i < ops.len() {
            let kind = ops[i].type_byte();
            let mut j = i + 1;
            while j < ops.len() && ops[j].type_byte() == kind {
                j += 1;
            }
            let group = &ops[i..j];
            if parallel && group.len() >= threshold && kind == OP_PUT {
                let puts: Vec<PutRef<'_>> = group.iter().map(|op| if let OpRef::Put(p) = op { *p } else { unreachable!() }).collect();
                self.put_group(&puts, &mut out);
            } else if parallel
                && group.len() >= threshold
                && kind == OP_DELETE_RANGE
                && group.iter().all(|op| matches!(op, OpRef::DeleteRange(d) if d.range_end.is_empty()))
            {
                self.flush_index();
                let dels: Vec<DeleteRangeRef<'_>> = group.iter().map(|op| if let OpRef::DeleteRange(d) = op { *d } else { unreachable!() }).collect();
                self.delete_group(&dels, &mut out);
            } else {
                for op in group {
                    self.one(op, &mut out);
                }
            }
            i = j;
        }
        out
    }

    /// One op, on the calling thread.
    fn one(&mut self, op: &OpRef<'_>, out: &mut ResultWriter) {
        if !matches!(op, OpRef::Put(_)) {
            self.flush_index();
        }
        match op {
            OpRef::Put(p) => self.put(p, out),
            OpRef::DeleteRange(d) => self.delete_range(d, out),
            OpRef::Range(r) => {
                let index = &*self.index;
                if let Err(number) = self.store.range_into(index, r, self.rev, self.compact_rev, out) {
                    out.error(self.rev, number);
                }
            }
            OpRef::Txn(t) => self.txn(t, out),
            OpRef::LeaseGrant { id, ttl } => self.lease_grant(*id, *ttl, out),
            OpRef::LeaseRevoke { id } => self.lease_revoke(*id, out),
            OpRef::Compact { revision } => self.compact(*revision, out),
        }
    }

    /// A run of puts, shard by shard in parallel.
    fn put_group(&mut self, ops: &[PutRef<'_>], out: &mut ResultWriter) {
        let store = self.store;
        let buckets = ShardBuckets::new(ops.iter().map(|op| op.key));
        let chunks = buckets.chunks(store.parallelism());

        // 1. Which puts fail. Only ops with ignore flags or a lease can; within a run of puts a
        //    key only ever becomes live, so a shard-local walk in op order decides.
        let may_fail = ops.iter().any(|op| op.lease != 0 || op.flags & (PUT_IGNORE_VALUE | PUT_IGNORE_LEASE) != 0);
        let mut failure: Vec<Option<ErrorNumber>> = Vec::new();
        if may_fail {
            failure = vec![None; ops.len()];
            let leases = &*self.leases;
            let decided = store.par_map(&chunks, |chunk| {
                let mut failed = Vec::new();
                for &(s, positions) in chunk.iter() {
                    let shard = store.shards.shard(s).read();
                    let mut live: HashSet<&[u8]> = HashSet::new();
                    for &pos in positions {
                        let op = &ops[pos as usize];
                        let exists = live.contains(op.key) || shard.find(buckets.hashes[pos as usize], op.key).is_some_and(|e| e.live().is_some());
                        match check_put(op, exists, |id| leases.exists(id)) {
                            Ok(()) => {
                                live.insert(op.key);
                            }
                            Err(number) => failed.push((pos, number)),
                        }
                    }
                }
                failed
            });
            for (pos, number) in decided.into_iter().flatten() {
                failure[pos as usize] = Some(number);
            }
        }
        let failed = |p: usize| if may_fail { failure[p] } else { None };

        // 2. Revisions, in op order, before any write.
        let mut revisions = vec![0i64; ops.len()];
        let mut r = self.rev;
        for (p, slot) in revisions.iter_mut().enumerate() {
            if failed(p).is_none() {
                r += 1;
                *slot = r;
            }
        }

        // 3. The writes, shard by shard; each chunk returns the effects that touch shared state.
        let per_chunk = store.par_map(&chunks, |chunk| {
            let mut effects = Vec::new();
            for &(s, positions) in chunk.iter() {
                let mut shard = store.shards.shard(s).write();
                for &pos in positions {
                    let p = pos as usize;
                    if failed(p).is_some() {
                        continue;
                    }
                    let op = &ops[p];
                    let effect = put_in_shard(&mut shard, buckets.hashes[p], op, revisions[p], 0, op.flags & PUT_PREV_KV != 0, None);
                    if effect.prev.is_some() || effect.revived.is_some() || effect.lease_move.is_some() {
                        effects.push((pos, effect));
                    }
                }
            }
            effects
        });

        // 4. Indexes, lease table and results, in op order.
        let mut prev_of: Vec<Option<KeyValue>> = Vec::new();
        for (pos, mut effect) in per_chunk.into_iter().flatten() {
            self.settle_put_deferred(&mut effect);
            if let Some(prev) = effect.prev {
                if prev_of.is_empty() {
                    prev_of.resize_with(ops.len(), || None);
                }
                prev_of[pos as usize] = Some(prev);
            }
        }
        let mut current = self.rev;
        for p in 0..ops.len() {
            if let Some(number) = failed(p) {
                out.error(current, number);
                continue;
            }
            current = revisions[p];
            let prev = prev_of.get(p).and_then(|kv| kv.as_ref());
            out.put(current, prev.map(|kv| (ops[p].key, kv)));
        }
        self.rev = r;
    }

    /// A run of single-key deletes, shard by shard in parallel. A delete bumps the revision only
    /// if its key is live, which a shard-local walk in op order finds out; revisions are then
    /// numbered in op order and the tombstones written with them.
    fn delete_group(&mut self, ops: &[DeleteRangeRef<'_>], out: &mut ResultWriter) {
        let store = self.store;
        let buckets = ShardBuckets::new(ops.iter().map(|op| op.key));
        let chunks = buckets.chunks(store.parallelism());
        // 1. Which deletes find a live key.
        let hits = store.par_map(&chunks, |chunk| {
            let mut hits = Vec::new();
            for &(s, positions) in chunk.iter() {
                let shard = store.shards.shard(s).read();
                let mut gone: HashSet<&[u8]> = HashSet::new();
                for &pos in positions {
                    let key = ops[pos as usize].key;
                    if !gone.contains(key) && shard.find(buckets.hashes[pos as usize], key).is_some_and(|e| e.live().is_some()) {
                        gone.insert(key);
                        hits.push(pos);
                    }
                }
            }
            hits
        });
        // 2. Revisions in op order.
        let mut revisions = vec![0i64; ops.len()];
        for pos in hits.into_iter().flatten() {
            revisions[pos as usize] = 1;
        }
        let mut r = self.rev;
        for slot in revisions.iter_mut() {
            if *slot != 0 {
                r += 1;
                *slot = r;
            }
        }
        // 3. Tombstones, shard by shard.
        let removed = store.par_map(&chunks, |chunk| {
            let mut removed = Vec::new();
            for &(s, positions) in chunk.iter() {
                let mut shard = store.shards.shard(s).write();
                for &pos in positions {
                    let p = pos as usize;
                    if revisions[p] == 0 {
                        continue;
                    }
                    let entry = shard.find_mut(buckets.hashes[p], ops[p].key).expect("checked live");
                    let prev = entry.live().expect("checked live").clone();
                    entry.history.push(Version { kv: KeyValue::tombstone(revisions[p]), sub: 0 });
                    removed.push((pos, entry.key.clone(), prev));
                }
            }
            removed
        });
        // 4. Indexes, leases and results, in op order.
        let mut by_pos: Vec<Option<(Key, KeyValue)>> = Vec::with_capacity(ops.len());
        by_pos.resize_with(ops.len(), || None);
        for (pos, key, prev) in removed.into_iter().flatten() {
            by_pos[pos as usize] = Some((key, prev));
        }
        let mut current = self.rev;
        for (p, hit) in by_pos.into_iter().enumerate() {
            match hit {
                Some((key, prev)) => {
                    current = revisions[p];
                    self.index.remove(&key);
                    if prev.lease != 0 {
                        self.leases.reattach(&key, prev.lease, 0);
                    }
                    let shown = ops[p].prev_kv.then_some((&*key, &prev));
                    out.delete_range(revisions[p], 1, shown.into_iter());
                }
                None => out.delete_range(current, 0, std::iter::empty()),
            }
        }
        self.rev = r;
    }
}
