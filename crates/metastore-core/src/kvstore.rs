//! The store: hash shards, the ordered index and the revision counter, with the one-op write
//! paths (put, delete range) and the entry points for batches and reads.

use crate::codec::{decode_batch, DeleteRangeRef, Limits, OpRef, PutRef, PUT_IGNORE_LEASE, PUT_IGNORE_VALUE, PUT_PREV_KV};
use crate::error::{BatchError, ErrorNumber};
use crate::index::{KeyIndex, RangeEnd};
use crate::kv::{Key, KeyEntry, KeyValue};
use crate::results::ResultWriter;
use crate::shards::{find_mut, hash_key, insert_new, remove, shard_of, Shards};
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::OnceLock;

/// Limits and tuning of a store.
#[derive(Clone, Debug)]
pub struct Config {
    pub limits: Limits,
    /// Smallest run of same-type ops applied in parallel across shards. Below it, ops apply one
    /// by one on the calling thread (parallel work has a fixed cost that small runs don't repay).
    pub parallel_threshold: usize,
    /// Threads of the store's rayon pool; 0 = one per core.
    pub threads: usize,
}

pub const DEFAULT_PARALLEL_THRESHOLD: usize = 4096;

impl Default for Config {
    fn default() -> Self {
        Config { limits: Limits::default(), parallel_threshold: DEFAULT_PARALLEL_THRESHOLD, threads: 0 }
    }
}

pub struct Store {
    pub(crate) config: Config,
    pub(crate) shards: Shards,
    pub(crate) index: RwLock<KeyIndex>,
    revision: AtomicI64,
    /// Serialises writers: apply is single-writer, readers take shard and index locks.
    writer: Mutex<()>,
    pool: OnceLock<rayon::ThreadPool>,
    /// Set when an apply panicked midway: the state is then unknown and writes are refused.
    poisoned: AtomicBool,
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
            index: RwLock::new(KeyIndex::default()),
            revision: AtomicI64::new(1),
            writer: Mutex::new(()),
            pool: OnceLock::new(),
            poisoned: AtomicBool::new(false),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Current revision (1 for a fresh store).
    pub fn revision(&self) -> i64 {
        self.revision.load(Ordering::Acquire)
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.index.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    pub(crate) fn pool(&self) -> &rayon::ThreadPool {
        self.pool.get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(self.config.threads)
                .thread_name(|i| format!("metastore-apply-{i}"))
                .build()
                .expect("rayon pool")
        })
    }

    /// Latest value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<KeyValue> {
        self.shards.with_entry(key, |e| e.map(|e| e.current.clone()))
    }

    /// Runs `f` on the latest value of `key` without copying it.
    pub fn with_kv<R>(&self, key: &[u8], f: impl FnOnce(Option<(&[u8], &KeyValue)>) -> R) -> R {
        self.shards.with_entry(key, |e| f(e.map(|e| (&*e.key, &e.current))))
    }

    /// Applies one encoded batch and returns the packed results (docs/codec.md). A batch that
    /// fails validation is refused whole, before anything is applied.
    pub fn apply_batch(&self, bytes: &[u8]) -> Result<Vec<u8>, BatchError> {
        self.apply_batch_into(bytes, Vec::new())
    }

    /// [`Store::apply_batch`] writing the results into `buf` (cleared first), so a caller can
    /// reuse one allocation across batches.
    pub fn apply_batch_into(&self, bytes: &[u8], buf: Vec<u8>) -> Result<Vec<u8>, BatchError> {
        let _writer = self.writer.lock();
        if self.is_poisoned() {
            return Err(BatchError::new(ErrorNumber::Internal, -1, "an earlier apply failed midway; reopen the store"));
        }
        let ops = decode_batch(bytes, &self.config.limits)?;
        self.poisoned.store(true, Ordering::Release);
        let mut rev = self.revision();
        let out = self.apply_ops(&ops, &mut rev, buf);
        self.revision.store(rev, Ordering::Release);
        self.poisoned.store(false, Ordering::Release);
        Ok(out.finish(rev))
    }

    /// Serves a standalone read given as a one-op batch holding a RANGE op. `buf` is reused for
    /// the result (a bare RANGE result at offset 0).
    pub fn range_request(&self, bytes: &[u8], buf: Vec<u8>) -> Result<Vec<u8>, BatchError> {
        let ops = decode_batch(bytes, &self.config.limits)?;
        let [OpRef::Range(op)] = ops.as_slice() else {
            return Err(BatchError::new(ErrorNumber::MalformedBatch, -1, "a read request holds exactly one RANGE op"));
        };
        let mut out = ResultWriter::bare(buf);
        let index = self.index.read();
        self.range_into(&index, op, self.revision(), &mut out).map_err(|n| BatchError::new(n, 0, ""))?;
        drop(index);
        Ok(out.finish(0))
    }

    /// One put, on the calling thread.
    pub(crate) fn put(&self, op: &PutRef<'_>, index: &mut KeyIndex, rev: &mut i64, out: &mut ResultWriter) {
        let hash = hash_key(op.key);
        let mut shard = self.shards.shard(shard_of(hash)).write();
        let entry = find_mut(&mut shard, hash, op.key);
        if let Err(number) = check_put(op, entry.is_some(), lease_exists) {
            out.error(*rev, number);
            return;
        }
        *rev += 1;
        match entry {
            Some(entry) => {
                let prev = (op.flags & PUT_PREV_KV != 0).then(|| entry.current.clone());
                update_entry(entry, op, *rev);
                out.put(*rev, prev.as_ref().map(|kv| (op.key, kv)));
            }
            None => {
                let key: Key = op.key.into();
                insert_new(&mut shard, hash, new_entry(key.clone(), op, *rev));
                drop(shard);
                index.insert(key);
                out.put(*rev, None);
            }
        }
    }

    /// One delete of a key or a range, on the calling thread.
    pub(crate) fn delete_range(&self, op: &DeleteRangeRef<'_>, index: &mut KeyIndex, rev: &mut i64, out: &mut ResultWriter) {
        let keys: Vec<Key> = match RangeEnd::parse(op.range_end) {
            RangeEnd::Single => {
                let hash = hash_key(op.key);
                let removed = remove(&mut self.shards.shard(shard_of(hash)).write(), hash, op.key);
                let Some(entry) = removed else {
                    out.delete_range(*rev, 0, std::iter::empty());
                    return;
                };
                *rev += 1;
                index.remove(op.key);
                let prev = op.prev_kv.then_some((&*entry.key, &entry.current));
                out.delete_range(*rev, 1, prev.into_iter());
                return;
            }
            end => index.collect_range(op.key, end),
        };
        if keys.is_empty() {
            out.delete_range(*rev, 0, std::iter::empty());
            return;
        }
        *rev += 1;
        let mut removed = Vec::with_capacity(if op.prev_kv { keys.len() } else { 0 });
        for key in &keys {
            let hash = hash_key(key);
            let entry = remove(&mut self.shards.shard(shard_of(hash)).write(), hash, key);
            index.remove(key);
            if let (true, Some(entry)) = (op.prev_kv, entry) {
                removed.push(entry);
            }
        }
        out.delete_range(*rev, keys.len() as i64, removed.iter().map(|e| (&*e.key, &e.current)));
    }

    /// Drops every key and resets the revision to 1 (used by tests and benchmarks).
    pub fn clear(&self) {
        let _writer = self.writer.lock();
        let mut index = self.index.write();
        self.shards.clear();
        index.clear();
        self.revision.store(1, Ordering::Release);
        self.poisoned.store(false, Ordering::Release);
    }
}

/// Leases arrive with their own issue; until then no lease exists.
pub(crate) fn lease_exists(_lease: i64) -> bool {
    false
}

/// The state-dependent checks of a put, in the order docs/codec.md gives.
#[inline]
pub(crate) fn check_put(op: &PutRef<'_>, exists: bool, lease_exists: fn(i64) -> bool) -> Result<(), ErrorNumber> {
    if op.flags & (PUT_IGNORE_VALUE | PUT_IGNORE_LEASE) != 0 && !exists {
        return Err(ErrorNumber::KeyNotFound);
    }
    if op.lease != 0 && !lease_exists(op.lease) {
        return Err(ErrorNumber::LeaseNotFound);
    }
    Ok(())
}

#[inline]
pub(crate) fn new_entry(key: Key, op: &PutRef<'_>, rev: i64) -> KeyEntry {
    KeyEntry {
        key,
        current: KeyValue { value: op.value.into(), create_revision: rev, mod_revision: rev, version: 1, lease: op.lease },
    }
}

#[inline]
pub(crate) fn update_entry(entry: &mut KeyEntry, op: &PutRef<'_>, rev: i64) {
    let kv = &mut entry.current;
    kv.mod_revision = rev;
    kv.version += 1;
    if op.flags & PUT_IGNORE_VALUE == 0 {
        if kv.value.len() == op.value.len() {
            kv.value.copy_from_slice(op.value);
        } else {
            kv.value = op.value.into();
        }
    }
    if op.flags & PUT_IGNORE_LEASE == 0 {
        kv.lease = op.lease;
    }
}
