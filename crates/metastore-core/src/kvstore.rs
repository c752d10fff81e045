//! The store: hash shards holding each key's history, the ordered indexes, the lease table and
//! the revision counters; the write primitives every op is built from; entry points for
//! batches and reads.

use crate::codec::{decode_batch, DeleteRangeRef, Limits, OpRef, PutRef, PUT_IGNORE_LEASE, PUT_IGNORE_VALUE, PUT_PREV_KV};
use crate::error::{BatchError, ErrorNumber};
use crate::key_index::{KeyIndex, RangeEnd};
use crate::key_index_inserts::PendingInserts;
use crate::kv::{Key, KeyEntry, KeyValue, Value, Version};
use crate::lessor_state::Leases;
use crate::results::{EventWriter, ResultWriter};
use crate::shards::{find_mut, hash_key, shard_of, slot, Shard, Shards};
use hashbrown::hash_table::{Entry, VacantEntry};
use parking_lot::{ArcRwLockWriteGuard, Mutex, RawRwLock, RwLock};
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

/// How much of a batch's changes apply reports (docs/codec.md, "Events").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventsMode {
    None,
    Events,
    EventsWithPrev,
}

impl EventsMode {
    pub fn from_u32(n: u32) -> Self {
        match n {
            0 => EventsMode::None,
            1 => EventsMode::Events,
            _ => EventsMode::EventsWithPrev,
        }
    }
}

pub struct Store {
    pub(crate) config: Config,
    pub(crate) shards: Shards,
    /// Shared with a pool thread that finishes a batch's index inserts (see `apply_batch_into`);
    /// read it through [`Store::index_read`].
    pub(crate) index: Arc<RwLock<KeyIndex>>,
    /// A batch's index inserts not yet started, with its write lock on the index.
    pending: Arc<PendingInserts>,
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

/// The mutable state one batch works on, with the locks it holds for the whole batch.
pub(crate) struct Apply<'s> {
    pub store: &'s Store,
    pub index: ArcRwLockWriteGuard<RawRwLock, KeyIndex>,
    pub leases: parking_lot::RwLockWriteGuard<'s, Leases>,
    /// Current revision (published when the batch ends).
    pub rev: i64,
    pub compact_rev: i64,
    pub events: Option<EventWriter>,
    /// Keys made live by the batch's top-level puts, not yet in the index: a run of puts only
    /// adds keys, so the index is brought up to date before any other op and at the end.
    pub deferred: Vec<Key>,
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

    fn pool(&self) -> &rayon::ThreadPool {
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

    /// Serves a standalone read given as a one-op batch holding a RANGE op. `buf` is reused for
    /// the result (a bare RANGE result at offset 0).
    pub fn range_request(&self, bytes: &[u8], buf: Vec<u8>) -> Result<Vec<u8>, BatchError> {
        let ops = decode_batch(bytes, &self.config.limits)?;
        let [OpRef::Range(op)] = ops.as_slice() else {
            return Err(BatchError::new(ErrorNumber::MalformedBatch, -1, "a read request holds exactly one RANGE op"));
        };
        let mut out = ResultWriter::bare(buf);
        let index = self.index_read();
        self.range_into(&index, op, self.revision(), self.compact_revision(), &mut out)
            .map_err(|n| BatchError::new(n, 0, ""))?;
        drop(index);
        Ok(out.finish(0))
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
}

/// What a put did, for results, indexes and the lease table.
#[derive(Default)]
pub(crate) struct PutEffect {
    /// The live key-value before the put, when asked for.
    pub prev: Option<KeyValue>,
    /// Set when the key became live (new, or re-created after a deletion).
    pub revived: Option<Key>,
    /// (key, old lease, new lease) when the attachment changed.
    pub lease_move: Option<(Key, i64, i64)>,
}

/// Applies a put at (`rev`, `sub`) to a locked shard. The caller checked the op against the
/// state. `events` receives the event when given.
pub(crate) fn put_in_shard(
    shard: &mut Shard,
    hash: u64,
    op: &PutRef<'_>,
    rev: i64,
    sub: u32,
    want_prev: bool,
    events: Option<&mut EventWriter>,
) -> PutEffect {
    match slot(shard, hash, op.key) {
        Entry::Occupied(mut o) => put_existing(o.get_mut(), op, rev, sub, want_prev, events),
        Entry::Vacant(v) => put_new(v, op, rev, sub, events),
    }
}

/// A put to a key that has an entry (live, or deleted with its history kept).
fn put_existing(entry: &mut KeyEntry, op: &PutRef<'_>, rev: i64, sub: u32, want_prev: bool, events: Option<&mut EventWriter>) -> PutEffect {
    let mut effect = PutEffect::default();
    let ignore_value = op.flags & PUT_IGNORE_VALUE != 0;
    let ignore_lease = op.flags & PUT_IGNORE_LEASE != 0;
    let live = entry.live().cloned_if(want_prev);
    let last = &entry.history.last().expect("an entry has history").kv;
    let (create, version, old_lease) = if last.is_tombstone() { (rev, 1, 0) } else { (last.create_revision, last.version + 1, last.lease) };
    let value = if ignore_value { last.value.clone() } else { Value::new(op.value) };
    let lease = if ignore_lease { old_lease } else { op.lease };
    if last.is_tombstone() {
        effect.revived = Some(entry.key.clone());
    }
    if old_lease != lease {
        effect.lease_move = Some((entry.key.clone(), old_lease, lease));
    }
    let kv = KeyValue { value, create_revision: create, mod_revision: rev, version, lease };
    if let Some(events) = events {
        // A watcher's previous key-value is the key at revision - 1 (etcd), which differs
        // from the live one when the same transaction already changed the key.
        events.event(&entry.key, &kv, sub, entry.at(rev - 1));
    }
    push_version(entry, Version { kv, sub });
    effect.prev = live.filter(|_| op.flags & PUT_PREV_KV != 0);
    effect
}

/// A put that creates a key's entry.
fn put_new(slot: VacantEntry<'_, KeyEntry>, op: &PutRef<'_>, rev: i64, sub: u32, events: Option<&mut EventWriter>) -> PutEffect {
    let mut effect = PutEffect::default();
    let key = Key::new(op.key);
    let kv = KeyValue { value: Value::new(op.value), create_revision: rev, mod_revision: rev, version: 1, lease: op.lease };
    if let Some(events) = events {
        events.event(&key, &kv, sub, None);
    }
    if op.lease != 0 {
        effect.lease_move = Some((key.clone(), 0, op.lease));
    }
    slot.insert(KeyEntry::new(key.clone(), Version { kv, sub }));
    effect.revived = Some(key);
    effect
}

/// Appends a version. The single version of a key nobody reads history of is replaced in place
/// only by compaction; here history always grows.
#[inline]
fn push_version(entry: &mut KeyEntry, version: Version) {
    entry.history.push(version);
}

trait ClonedIf {
    fn cloned_if(self, yes: bool) -> Option<KeyValue>;
}

impl ClonedIf for Option<&KeyValue> {
    #[inline]
    fn cloned_if(self, yes: bool) -> Option<KeyValue> {
        if yes {
            self.cloned()
        } else {
            None
        }
    }
}

impl Apply<'_> {
    /// A top-level put's effect: as [`Apply::settle_put`], but a key made live waits in
    /// `deferred` for the index.
    pub(crate) fn settle_put_deferred(&mut self, effect: &mut PutEffect) {
        self.deferred.extend(effect.revived.take());
        self.settle_put(effect);
    }

    /// Puts the deferred keys into the index: before any op other than a put reads or changes it.
    pub(crate) fn flush_index(&mut self) {
        if !self.deferred.is_empty() {
            self.index.insert_all(std::mem::take(&mut self.deferred));
        }
    }

    /// Applies the effect of a put on the indexes and the lease table.
    pub(crate) fn settle_put(&mut self, effect: &mut PutEffect) {
        if let Some(key) = effect.revived.take() {
            self.index.insert(key);
        }
        if let Some((key, from, to)) = effect.lease_move.take() {
            self.leases.reattach(&key, from, to);
        }
    }

    /// The state-dependent checks of a put, in the order docs/codec.md gives.
    pub(crate) fn check_put(&self, op: &PutRef<'_>, exists: bool) -> Result<(), ErrorNumber> {
        check_put(op, exists, |id| self.leases.exists(id))
    }

    /// A put at (`rev`, `sub`), checks done.
    pub(crate) fn put_at(&mut self, op: &PutRef<'_>, rev: i64, sub: u32) -> Option<KeyValue> {
        let hash = hash_key(op.key);
        let store = self.store;
        let mut shard = store.shards.shard(shard_of(hash)).write();
        let mut effect = put_in_shard(&mut shard, hash, op, rev, sub, op.flags & PUT_PREV_KV != 0, self.events.as_mut());
        drop(shard);
        self.settle_put(&mut effect);
        effect.prev
    }

    /// Whether `key` is live now.
    pub(crate) fn exists(&self, key: &[u8]) -> bool {
        self.store.shards.with_entry(key, |e| e.is_some_and(|e| e.live().is_some()))
    }

    /// Deletes a live key at (`rev`, `sub`); returns its last key-value.
    pub(crate) fn delete_at(&mut self, key: &Key, rev: i64, sub: u32) -> Option<KeyValue> {
        let hash = hash_key(key);
        let store = self.store;
        let mut shard = store.shards.shard(shard_of(hash)).write();
        let entry = find_mut(&mut shard, hash, key)?;
        let prev = entry.live()?.clone();
        let tomb = KeyValue::tombstone(rev);
        if let Some(events) = self.events.as_mut() {
            events.event(key, &tomb, sub, entry.at(rev - 1));
        }
        push_version(entry, Version { kv: tomb, sub });
        drop(shard);
        self.index.remove(key);
        if prev.lease != 0 {
            self.leases.reattach(key, prev.lease, 0);
        }
        Some(prev)
    }

    /// One put request: one shard lock and one probe for the checks and the write.
    pub(crate) fn put(&mut self, op: &PutRef<'_>, out: &mut ResultWriter) {
        let hash = hash_key(op.key);
        let store = self.store;
        let mut shard = store.shards.shard(shard_of(hash)).write();
        let want_prev = op.flags & PUT_PREV_KV != 0;
        let mut effect = match slot(&mut shard, hash, op.key) {
            Entry::Occupied(mut o) => {
                if let Err(number) = self.check_put(op, o.get().live().is_some()) {
                    out.error(self.rev, number);
                    return;
                }
                self.rev += 1;
                put_existing(o.get_mut(), op, self.rev, 0, want_prev, self.events.as_mut())
            }
            Entry::Vacant(v) => {
                if let Err(number) = self.check_put(op, false) {
                    out.error(self.rev, number);
                    return;
                }
                self.rev += 1;
                put_new(v, op, self.rev, 0, self.events.as_mut())
            }
        };
        drop(shard);
        self.settle_put_deferred(&mut effect);
        out.put(self.rev, effect.prev.as_ref().map(|kv| (op.key, kv)));
    }

    /// Live keys of a delete's range, in key order.
    pub(crate) fn doomed(&self, op: &DeleteRangeRef<'_>) -> Vec<Key> {
        match RangeEnd::parse(op.range_end) {
            RangeEnd::Single => self.store.shards.with_entry(op.key, |e| e.filter(|e| e.live().is_some()).map(|e| vec![e.key.clone()]).unwrap_or_default()),
            end => self.index.collect_range(op.key, end),
        }
    }

    /// One delete request (a key or a range): one revision for all of it.
    pub(crate) fn delete_range(&mut self, op: &DeleteRangeRef<'_>, out: &mut ResultWriter) {
        let keys = self.doomed(op);
        if keys.is_empty() {
            out.delete_range(self.rev, 0, std::iter::empty());
            return;
        }
        self.rev += 1;
        let rev = self.rev;
        let mut prevs = Vec::with_capacity(if op.prev_kv { keys.len() } else { 0 });
        for (sub, key) in keys.iter().enumerate() {
            let prev = self.delete_at(key, rev, sub as u32);
            if let (true, Some(prev)) = (op.prev_kv, prev) {
                prevs.push(prev);
            }
        }
        out.delete_range(rev, keys.len() as i64, keys.iter().zip(prevs.iter()).map(|(k, kv)| (&**k, kv)));
    }
}

/// The state-dependent checks of a put, in the order docs/codec.md gives.
#[inline]
/// A put request checks its lease first (etcd's applyPut); inside a transaction the key comes
/// first (etcd's checkRequestPut), see `txn.rs`.
pub(crate) fn check_put(op: &PutRef<'_>, exists: bool, lease_exists: impl Fn(i64) -> bool) -> Result<(), ErrorNumber> {
    if op.lease != 0 && !lease_exists(op.lease) {
        return Err(ErrorNumber::LeaseNotFound);
    }
    if op.flags & (PUT_IGNORE_VALUE | PUT_IGNORE_LEASE) != 0 && !exists {
        return Err(ErrorNumber::KeyNotFound);
    }
    Ok(())
}
