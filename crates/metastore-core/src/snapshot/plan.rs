//! Taking a snapshot plan: what a snapshot at the current revision needs besides the key
//! histories, captured between two batches.

use super::{PlanKeys, SnapshotPlan};
use crate::kvstore::Store;
use std::sync::atomic::Ordering;

impl Store {
    /// Captures what a snapshot at the current revision needs besides the key histories: the
    /// counters, the lease table and how many keys have history. O(leases);
    /// [`SnapshotPlan::write_into`] does the rest later, from any thread, while batches keep
    /// applying.
    pub fn begin_snapshot(&self) -> SnapshotPlan {
        // Between two batches: a batch holds the writer lock from start to end.
        let _writer = self.writer.lock();
        self.plan_locked(false)
    }

    /// Takes the plan; the caller holds the writer lock. `list`: the keys too (for a pass that
    /// holds the writer lock and splits the list between threads).
    pub(super) fn plan_locked(&self, list: bool) -> SnapshotPlan {
        // Lock order as in apply: writer, index, leases.
        let index = self.index_read();
        let leases = self.leases.read();
        let keys = if list { PlanKeys::Listed(index.all_with_history()) } else { PlanKeys::Counted(index.with_history()) };
        SnapshotPlan {
            revision: self.revision(),
            compact_revision: self.compact_revision(),
            poisoned: self.is_poisoned(),
            next_lease_id: leases.next_id,
            leases: leases.leases.iter().map(|(&id, lease)| (id, lease.ttl)).collect(),
            keys,
            epoch: self.history_epoch.load(Ordering::SeqCst),
        }
    }
}

impl SnapshotPlan {
    /// The revision the snapshot is at.
    pub fn revision(&self) -> i64 {
        self.revision
    }
}
