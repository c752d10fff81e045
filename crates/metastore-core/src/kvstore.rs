//! The store (etcd's mvcc/kvstore.go): hash shards holding each key's history, the ordered
//! indexes, the lease table and the revision counters, with the store's configuration, its
//! thread pool and its point reads. Writes go through a write transaction (kvstore_txn.rs) that
//! apply.rs opens per batch; range.rs, events.rs and snapshot/ add the other reads.

use crate::codec::Limits;
use crate::key_index::KeyIndex;
use crate::key_index_inserts::PendingInserts;
use crate::kv::{Key, KeyEntry, KeyValue};
use crate::lessor_state::Leases;
use crate::shards::Shards;
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Limits and tuning of a store.
#[derive(Clone, Debug)]
pub struct Config {
    pub limits: Limits,
    /// Smallest run of same-type ops applied in parallel across shards. Below it, ops apply one
    /// by one on the calling thread (parallel work has a fixed cost that small runs don't repay).
    pub parallel_threshold: usize,
    /// Threads of the store's rayon pool. The calling thread takes its share of a parallel run
    /// too, so 0 means one per core but one (at least one).
    pub threads: usize,
    /// Smallest lease TTL in seconds; shorter grants are raised to it (etcd: 2 s).
    pub min_lease_ttl: i64,
    /// Fewest new keys a batch leaves for the ordered index that a pool thread inserts while
    /// the caller goes on (index readers and the next batch wait for it); fewer go in before
    /// apply returns.
    pub background_index_min: usize,
}

pub const DEFAULT_PARALLEL_THRESHOLD: usize = 4096;

/// Below this many keys, a pool thread's wake-up (a few µs) costs more than the inserts save.
pub const DEFAULT_BACKGROUND_INDEX_MIN: usize = 256;

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            parallel_threshold: DEFAULT_PARALLEL_THRESHOLD,
            threads: 0,
            min_lease_ttl: 2,
            background_index_min: DEFAULT_BACKGROUND_INDEX_MIN,
        }
    }
}

/// How much of a batch's changes apply reports (docs/codec.md, "Events"); the numbers are
/// declared in formats/results.mjs.
pub use crate::layout::results::EventsMode;

impl EventsMode {
    /// The mode numbered `n`; an unknown number asks for everything.
    pub fn from_u32(n: u32) -> Self {
        EventsMode::from_repr(n).unwrap_or(EventsMode::EventsWithPrev)
    }
}

pub struct Store {
    pub(crate) config: Config,
    pub(crate) shards: Shards,
    /// Shared with a pool thread that finishes a batch's index inserts (see
    /// `Store::apply_batch_into`); read it through [`Store::index_read`].
    pub(crate) index: Arc<RwLock<KeyIndex>>,
    /// A batch's index inserts not yet started, with its write lock on the index.
    pub(crate) pending: Arc<PendingInserts>,
    pub(crate) leases: RwLock<Leases>,
    pub(crate) revision: AtomicI64,
    pub(crate) compact_revision: AtomicI64,
    /// Serialises writers: apply is single-writer, readers take shard and index locks.
    pub(crate) writer: Mutex<()>,
    pool: OnceLock<rayon::ThreadPool>,
    /// Set when an apply panicked midway, or the index inserts it left to the pool did: the
    /// state is then unknown and writes are refused. (The batch whose inserts failed has already
    /// returned; the next one finds out.)
    pub(crate) poisoned: Arc<AtomicBool>,
    /// Bumped before anything drops history (compaction, clear): a snapshot pass running beside
    /// applies checks it to know that the history it read still held its revision in full.
    pub(crate) history_epoch: AtomicU64,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(Config::default())
    }
}

impl Store {
    pub fn new(config: Config) -> Self {
        Store {
            config,
            shards: Shards::default(),
            index: Arc::new(RwLock::new(KeyIndex::default())),
            pending: Arc::default(),
            leases: RwLock::new(Leases::default()),
            revision: AtomicI64::new(1),
            compact_revision: AtomicI64::new(-1),
            writer: Mutex::new(()),
            pool: OnceLock::new(),
            poisoned: Arc::new(AtomicBool::new(false)),
            history_epoch: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Current revision (1 for a fresh store).
    pub fn revision(&self) -> i64 {
        self.revision.load(Ordering::Acquire)
    }

    /// The compacted revision (-1 for a fresh store).
    pub fn compact_revision(&self) -> i64 {
        self.compact_revision.load(Ordering::Acquire)
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.index_read().len()
    }

    /// The index to read, with every applied batch's keys in it: inserts left to the pool that
    /// no thread has started yet run here first (otherwise the lock waits for them).
    pub(crate) fn index_read(&self) -> parking_lot::RwLockReadGuard<'_, KeyIndex> {
        self.pending.run_if_queued(&self.poisoned);
        self.index.read()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    /// Runs `work` on every item and returns the results in item order, the items shared
    /// between the calling thread and the store's pool. The calling thread takes its share
    /// instead of sleeping until the pool is done (`install` parks it, and waking it costs as
    /// much as a pool thread's wake-up), which is why the pool has a thread fewer than the cores.
    pub(crate) fn par_map<C: Sync, R: Send>(&self, items: &[C], work: impl Fn(&C) -> R + Sync) -> Vec<R> {
        let share = self.parallelism();
        let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
        self.pool().in_place_scope(|scope| {
            let work = &work;
            let mut mine = Vec::new();
            for (i, (slot, item)) in out.iter_mut().zip(items).enumerate() {
                if i % share == 0 {
                    mine.push((slot, item));
                } else {
                    scope.spawn(move |_| *slot = Some(work(item)));
                }
            }
            for (slot, item) in mine {
                *slot = Some(work(item));
            }
        });
        out.into_iter().map(|r| r.expect("every item ran")).collect()
    }

    /// Threads that share a parallel run: the pool's and the calling one.
    pub(crate) fn parallelism(&self) -> usize {
        self.pool().current_num_threads() + 1
    }

    pub(crate) fn pool(&self) -> &rayon::ThreadPool {
        self.pool.get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(match self.config.threads {
                    0 => std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
                    n => n,
                })
                .thread_name(|i| format!("metastore-apply-{i}"))
                .build()
                .expect("rayon pool")
        })
    }

    /// Latest value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<KeyValue> {
        self.shards.with_entry(key, |e| e.and_then(KeyEntry::live).cloned())
    }

    /// Runs `f` on the latest value of `key` without copying it.
    pub fn with_kv<R>(&self, key: &[u8], f: impl FnOnce(Option<(&[u8], &KeyValue)>) -> R) -> R {
        self.shards.with_entry(key, |e| f(e.and_then(|e| e.live().map(|kv| (&*e.key, kv)))))
    }

    /// Drops every key and lease and resets the revision to 1 (used by tests and benchmarks).
    pub fn clear(&self) {
        let _writer = self.writer.lock();
        self.pending.run_if_queued(&self.poisoned);
        let mut index = self.index.write();
        self.history_epoch.fetch_add(1, Ordering::SeqCst);
        self.shards.clear();
        index.clear();
        self.leases.write().clear();
        self.revision.store(1, Ordering::Release);
        self.compact_revision.store(-1, Ordering::Release);
        self.poisoned.store(false, Ordering::Release);
    }

    /// Granted TTL and attached keys (in key order) of a lease.
    pub fn lease_info(&self, id: i64) -> Option<(i64, Vec<Key>)> {
        self.leases.read().get(id).map(|l| (l.ttl, l.keys.iter().cloned().collect()))
    }

    /// Granted lease ids, ascending.
    pub fn lease_ids(&self) -> Vec<i64> {
        self.leases.read().ids().collect()
    }
}
