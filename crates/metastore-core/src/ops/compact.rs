//! Compaction (etcd's kvstore.compact / key_index.compact): history below a revision goes,
//! keeping per key the newest version at or below it.

use crate::errors::ErrorNumber;
use crate::kvstore_txn::Apply;
use crate::results::ResultWriter;
use crate::shards::SHARD_COUNT;

impl Apply<'_> {
    /// One COMPACT request: no revision change.
    pub(crate) fn compact(&mut self, revision: i64, out: &mut ResultWriter) {
        if revision <= self.compact_rev {
            out.error(self.rev, ErrorNumber::Compacted);
            return;
        }
        if revision > self.rev {
            out.error(self.rev, ErrorNumber::FutureRev);
            return;
        }
        let store = self.store;
        // Before any history goes: a snapshot pass that reads a compacted shard then sees it.
        store.history_epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        // Shards compact independently; the outcome does not depend on the thread count.
        // In runs of 16 shards: a few dozen jobs rather than one per shard.
        let runs: Vec<std::ops::Range<usize>> = (0..SHARD_COUNT).step_by(16).map(|s| s..s + 16).collect();
        let gone = store.par_map(&runs, |run| {
            let mut gone = Vec::new();
            for s in run.clone() {
                let mut shard = store.shards.shard(s).write();
                shard.retain(|entry| {
                    let h = &mut entry.history;
                    // Newest version at or below `revision`: it and everything after stay.
                    let keep_from = h.partition_point(|v| v.kv.mod_revision <= revision).saturating_sub(1);
                    h.drain(..keep_from);
                    if let Some(first) = h.first() {
                        if first.kv.is_tombstone() && first.kv.mod_revision < revision {
                            h.remove(0);
                        }
                    }
                    if h.is_empty() {
                        gone.push(entry.key.clone());
                        return false;
                    }
                    // Give memory back only when most of it is idle; steady writers regrow it.
                    if h.capacity() > 4 * h.len().max(1) {
                        h.shrink_to_fit();
                    }
                    true
                });
            }
            gone
        });
        for key in gone.iter().flatten() {
            self.index.forget(key);
        }
        self.compact_rev = revision;
        out.compact(self.rev);
    }
}
