//! A batch's ordered-index inserts left to the store's pool (see `Store::apply_batch_into`):
//! the keys and the batch's write guard on the index, waiting for the first thread that needs
//! them done.

use crate::key_index::KeyIndex;
use crate::kv::Key;
use parking_lot::{ArcRwLockWriteGuard, Mutex, RawRwLock};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

/// The slot for a batch's index inserts left to the pool: the keys and the batch's write guard
/// on the index. Whichever thread takes them first runs them: the pool thread, an index reader
/// or the next batch.
#[derive(Default)]
pub(crate) struct PendingInserts {
    queued: AtomicBool,
    slot: Mutex<Option<(ArcRwLockWriteGuard<RawRwLock, KeyIndex>, Vec<Key>)>>,
}

impl PendingInserts {
    /// Queues a batch's inserts. The slot is empty: a batch runs any queued inserts, and waits
    /// for taken ones, before it takes the index lock it hands over here.
    pub(crate) fn queue(&self, index: ArcRwLockWriteGuard<RawRwLock, KeyIndex>, keys: Vec<Key>) {
        let mut slot = self.slot.lock();
        debug_assert!(slot.is_none(), "inserts queued over inserts not run");
        *slot = Some((index, keys));
        drop(slot);
        self.queued.store(true, Ordering::Release);
    }

    /// Runs the queued inserts on this thread, if no thread has taken them; a panic poisons
    /// the store. The index lock is released when they are done.
    pub(crate) fn run_if_queued(&self, poisoned: &AtomicBool) {
        if !self.queued.load(Ordering::Acquire) {
            return;
        }
        let taken = {
            let mut slot = self.slot.lock();
            self.queued.store(false, Ordering::Release);
            slot.take()
        };
        if let Some((mut index, keys)) = taken {
            if catch_unwind(AssertUnwindSafe(|| index.insert_all(keys))).is_err() {
                poisoned.store(true, Ordering::Release);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::RwLock;
    use std::sync::Arc;

    fn keys(n: usize) -> Vec<Key> {
        (0..n).map(|i| Key::new(format!("k{:05}", (i * 7919) % n).as_bytes())).collect()
    }

    #[test]
    fn the_first_thread_to_ask_runs_the_inserts_and_frees_the_index() {
        let index = Arc::new(RwLock::new(KeyIndex::default()));
        let pending = PendingInserts::default();
        let poisoned = AtomicBool::new(false);
        pending.queue(index.write_arc(), keys(1000));
        assert!(index.try_read().is_none(), "the batch's write lock is held while queued");
        pending.run_if_queued(&poisoned);
        let read = index.try_read().expect("free once the inserts ran");
        assert_eq!(read.len(), 1000);
        drop(read);
        // Asked again: nothing queued, nothing done.
        pending.run_if_queued(&poisoned);
        assert_eq!(index.read().len(), 1000);
        assert!(!poisoned.load(Ordering::Acquire));
    }

    #[test]
    fn inserts_taken_by_another_thread_are_waited_for_by_the_index_lock() {
        let index = Arc::new(RwLock::new(KeyIndex::default()));
        let pending = Arc::new(PendingInserts::default());
        let poisoned = Arc::new(AtomicBool::new(false));
        for round in 1..=50 {
            pending.queue(index.write_arc(), keys(2000).into_iter().map(|k| Key::new(&[&*k, format!("/{round}").as_bytes()].concat())).collect());
            let (p, f) = (Arc::clone(&pending), Arc::clone(&poisoned));
            let other = std::thread::spawn(move || p.run_if_queued(&f));
            // Whichever thread takes them, a reader after this call sees every key.
            pending.run_if_queued(&poisoned);
            assert_eq!(index.read().len(), 2000 * round);
            other.join().unwrap();
        }
    }
}
