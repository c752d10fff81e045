//! A store's whole state as bytes, for the durable log's snapshots: `Store::snapshot_into`
//! writes it between batches, `Store::from_snapshot` rebuilds an identical store. A snapshot can
//! also be split: `Store::begin_snapshot` captures the counters, leases and key count between
//! two batches, and `SnapshotPlan::write_into` reads the keys and their histories later, beside
//! applies, keeping the versions up to the captured revision (same bytes).
//!
//! Format version 1, little-endian, lengths and counts u32:
//!
//! ```text
//! header   "MSSNAP" | u16 version | u8 flags (bit 0: poisoned)
//!          | i64 revision | i64 compact revision | i64 next automatic lease id
//! leases   u32 count | count × (i64 id | i64 ttl), ids ascending
//! sections u32 count | count × (u32 entries | u64 bytes | entries)
//! entry    u32 key length | key | u32 versions | versions, oldest first
//! version  i64 create_revision | i64 mod_revision | i64 version | i64 lease
//!          | u32 sub-revision | u32 value length | value
//! ```
//!
//! Every key with history appears once, tombstones included, in ascending key order across all
//! sections; sections only cut that list into runs restore decodes in parallel. The ordered
//! indexes and the keys attached to each lease are not stored: they follow from the entries (a
//! key is live when its latest version is not a tombstone, and then belongs to that version's
//! lease), and key order lets restore build the index without sorting.

use crate::key_index::KeyIndex;
use crate::kv::{Key, KeyEntry, KeyValue, Value, Version};
use crate::kvstore::{Config, Store};
use crate::lessor_state::{Lease, Leases};
use crate::shards::{hash_key, shard_of, SHARD_COUNT};
use smallvec::SmallVec;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::atomic::Ordering;

const MAGIC: &[u8; 6] = b"MSSNAP";
/// The format version `snapshot_into` writes and `from_snapshot` reads.
pub const SNAPSHOT_FORMAT_VERSION: u16 = 1;
const FLAG_POISONED: u8 = 1;
const HEADER_BYTES: usize = 6 + 2 + 1 + 3 * 8;
const LEASE_BYTES: usize = 16;
const SECTION_HEADER_BYTES: usize = 4 + 8;
const ENTRY_FIXED: usize = 4 + 4;
/// Entries per section snapshot_into writes.
const SECTION_ENTRIES: usize = 16_384;
const VERSION_FIXED: usize = 4 * 8 + 4 + 4;
/// Revisions and the lease counter stay far below this, so restored counters never overflow.
const MAX_COUNTER: i64 = i64::MAX / 2;

/// Why bytes could not be restored as a store: what was wrong and at which byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotError {
    pub reason: &'static str,
    pub offset: usize,
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed snapshot at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for SnapshotError {}

/// What [`Store::begin_snapshot`] captured: everything of the state at one revision except the
/// keys and their histories, which [`SnapshotPlan::write_into`] reads later, beside applies,
/// keeping only the versions up to that revision.
pub struct SnapshotPlan {
    revision: i64,
    compact_revision: i64,
    poisoned: bool,
    next_lease_id: i64,
    /// (id, ttl), ids ascending.
    leases: Vec<(i64, i64)>,
    keys: PlanKeys,
    /// The store's history epoch then: a pass that ends with another one may have read history
    /// that a compaction (or a clear) had already cut.
    epoch: u64,
}

/// The keys with history at a plan's revision, live or not.
enum PlanKeys {
    /// Listed when the plan was taken (the writer lock is held throughout the pass).
    Listed(Vec<Key>),
    /// Counted when the plan was taken and read from the index during the pass, a few thousand
    /// at a time, in key order: listing every key (a reference count each) held the applying
    /// thread ~19 ms per 1.5M keys. The index can only have gained keys since, created after
    /// the plan (no version at or below its revision: passed over); losing one takes a
    /// compaction, which interrupts the pass anyway.
    Counted(usize),
}

impl PlanKeys {
    fn len(&self) -> usize {
        match self {
            PlanKeys::Listed(keys) => keys.len(),
            PlanKeys::Counted(n) => *n,
        }
    }
}

/// Keys read from the index during a pass: `WALK_CHUNK` at a time, each under a short read lock.
struct IndexWalk<'s> {
    store: &'s Store,
    after: Option<Key>,
    chunk: std::vec::IntoIter<Key>,
}

const WALK_CHUNK: usize = 4096;

impl Iterator for IndexWalk<'_> {
    type Item = Key;

    fn next(&mut self) -> Option<Key> {
        if let Some(key) = self.chunk.next() {
            return Some(key);
        }
        let keys = self.store.index_read().with_history_after(self.after.as_deref(), WALK_CHUNK);
        // At the end `after` stays: asked again, the walk is still at its end.
        if let Some(last) = keys.last() {
            self.after = Some(last.clone());
        }
        self.chunk = keys.into_iter();
        self.chunk.next()
    }
}

/// A snapshot pass met history that changed under it other than by growing: a compaction (or a
/// clear) ran after the plan was taken, so the versions at or below its revision may no longer
/// all be there. Restoring what such a pass read and replaying the log would not give the
/// original store back (a key whose history a compaction dropped whole would come back as a
/// fresh key, and a delete of it would not count a revision), so it writes nothing: take a new
/// plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotInterrupted;

impl fmt::Display for SnapshotInterrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a compaction ran while the snapshot was being written")
    }
}

impl std::error::Error for SnapshotInterrupted {}

/// Why [`SnapshotPlan::write_to`] stopped.
#[derive(Debug)]
pub enum SnapshotStreamError {
    Interrupted(SnapshotInterrupted),
    Io(std::io::Error),
}

impl From<SnapshotInterrupted> for SnapshotStreamError {
    fn from(e: SnapshotInterrupted) -> Self {
        SnapshotStreamError::Interrupted(e)
    }
}

impl From<std::io::Error> for SnapshotStreamError {
    fn from(e: std::io::Error) -> Self {
        SnapshotStreamError::Io(e)
    }
}

impl Store {
    /// Appends the encoding of the whole state to `out` (see the module documentation). Holds
    /// the writer lock throughout, so no batch applies halfway through it.
    pub fn snapshot_into(&self, out: &mut Vec<u8>) {
        let _writer = self.writer.lock();
        let plan = self.plan_locked(true);
        // Nothing applies meanwhile, so nothing can interrupt the pass; it may use the store's
        // pool, which no batch is using.
        plan.write(self, out, true).expect("no compaction can run while the writer lock is held");
    }

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
    fn plan_locked(&self, list: bool) -> SnapshotPlan {
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

    /// Rebuilds a store from bytes [`Store::snapshot_into`] wrote. Anything malformed or
    /// truncated is an error, never a panic.
    pub fn from_snapshot(config: Config, bytes: &[u8]) -> Result<Store, SnapshotError> {
        let mut r = Reader { bytes, pos: 0, base: 0 };
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(SnapshotError { reason: "not a snapshot (bad magic)", offset: 0 });
        }
        r.pos = MAGIC.len();
        if u16::from_le_bytes(r.array()?) != SNAPSHOT_FORMAT_VERSION {
            return r.fail_at(MAGIC.len(), "unsupported snapshot format version");
        }
        let flags = r.array::<1>()?[0];
        if flags & !FLAG_POISONED != 0 {
            return r.fail_at(r.pos - 1, "undefined flags");
        }
        let revision = r.i64()?;
        if !(1..=MAX_COUNTER).contains(&revision) {
            return r.fail_at(r.pos - 8, "revision out of range");
        }
        let compact_revision = r.i64()?;
        if !(-1..=revision).contains(&compact_revision) {
            return r.fail_at(r.pos - 8, "compact revision out of range");
        }
        let next_id = r.i64()?;
        if !(1..=MAX_COUNTER).contains(&next_id) {
            return r.fail_at(r.pos - 8, "next lease id out of range");
        }

        let lease_count = r.count(LEASE_BYTES)?;
        let mut lease_list = Vec::with_capacity(lease_count);
        for _ in 0..lease_count {
            let (id, ttl) = (r.i64()?, r.i64()?);
            if id == 0 || lease_list.last().is_some_and(|&(prev, _)| prev >= id) {
                return r.fail_at(r.pos - LEASE_BYTES, "lease ids not ascending or zero");
            }
            lease_list.push((id, Lease { ttl, keys: BTreeSet::new() }));
        }
        let mut leases: BTreeMap<i64, Lease> = lease_list.into_iter().collect();

        let section_count = r.count(SECTION_HEADER_BYTES)?;
        let mut sections = Vec::with_capacity(section_count);
        for _ in 0..section_count {
            let entries = r.u32()? as usize;
            let len = u64::from_le_bytes(r.array()?);
            let base = r.pos;
            let Some(bytes) = usize::try_from(len).ok().and_then(|len| r.bytes.get(base..base.checked_add(len)?)) else {
                return r.fail_at(base - 8, "section longer than the snapshot");
            };
            if entries > bytes.len() / ENTRY_FIXED {
                return r.fail_at(base - SECTION_HEADER_BYTES, "more entries than the section can hold");
            }
            r.pos = base + bytes.len();
            sections.push(Section { entries, base, bytes });
        }
        if r.pos != bytes.len() {
            return r.fail_at(r.pos, "bytes after the last section");
        }

        let store = Store::new(config);
        let per_shard = sections.iter().map(|s| s.entries).sum::<usize>() / SHARD_COUNT;
        if per_shard > 0 {
            for s in 0..SHARD_COUNT {
                store.shards.shard(s).write().reserve(per_shard);
            }
        }
        let restored: Vec<Result<SectionKeys<'_>, SnapshotError>> = if sections.len() > 1 {
            store.par_map(&sections, |section| restore_section(&store, &leases, revision, section))
        } else {
            // One section: no need for the store's pool (which would start its threads).
            sections.iter().map(|section| restore_section(&store, &leases, revision, section)).collect()
        };
        let (mut parts, mut last) = (Vec::with_capacity(restored.len()), None);
        for part in restored {
            let part = part?;
            if last.is_some() && part.first.is_some() && last >= part.first {
                return Err(SnapshotError { reason: "keys out of order", offset: part.base });
            }
            last = part.last.or(last);
            parts.push(part);
        }

        // Sections are in key order, so the live and dead lists come out sorted.
        let mut index = KeyIndex::default();
        let mut dead: Vec<Key> = Vec::with_capacity(parts.iter().map(|p| p.dead.len()).sum());
        let mut leased: Vec<(i64, Key)> = Vec::new();
        for part in parts {
            for key in part.live {
                index.keys.insert(key);
            }
            dead.extend(part.dead);
            leased.extend(part.leased);
        }
        index.dead = dead.into_iter().collect();
        for (id, key) in leased {
            if let Some(lease) = leases.get_mut(&id) {
                lease.keys.insert(key);
            }
        }

        *store.index.write() = index;
        *store.leases.write() = Leases { leases, next_id };
        store.compact_revision.store(compact_revision, Ordering::Release);
        store.revision.store(revision, Ordering::Release);
        store.poisoned.store(flags & FLAG_POISONED != 0, Ordering::Release);
        Ok(store)
    }
}

impl SnapshotPlan {
    /// The revision the snapshot is at.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// Appends the encoding of `store` as it was at the plan's revision to `out`: the same bytes
    /// [`Store::snapshot_into`] would have written then. `store` must be the store the plan was
    /// taken from; batches may apply meanwhile, from another thread too. Keys are read from the
    /// index a few thousand at a time and each under its shard's read lock alone, keeping its
    /// versions up to the plan's revision (versions are only ever appended after it, except by
    /// compaction). Works on the calling thread only, so it leaves the store's pool to the
    /// batches.
    ///
    /// Fails when a compaction (or a clear) ran after the plan was taken, before the pass ended:
    /// the history it read may then lack versions at or below the plan's revision. `out` is then
    /// back to its length before the call.
    pub fn write_into(&self, store: &Store, out: &mut Vec<u8>) -> Result<(), SnapshotInterrupted> {
        self.write(store, out, false)
    }

    fn write(&self, store: &Store, out: &mut Vec<u8>, parallel: bool) -> Result<(), SnapshotInterrupted> {
        let start = out.len();
        let result = self.write_unchecked(store, out, parallel).and_then(|()| self.check_epoch(store));
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// Writes the same bytes as [`SnapshotPlan::write_into`] to `sink`, one section (up to
    /// `SECTION_ENTRIES` keys) at a time: a section is the most held in memory, not the whole
    /// snapshot. On an interruption the sink holds part of a snapshot: discard it.
    pub fn write_to<W: std::io::Write + ?Sized>(&self, store: &Store, sink: &mut W) -> Result<(), SnapshotStreamError> {
        let mut buf = Vec::new();
        self.write_head(&mut buf, self.sections());
        sink.write_all(&buf)?;
        self.for_each_section(store, |section| {
            sink.write_all(section)?;
            Ok::<_, SnapshotStreamError>(())
        })?;
        self.check_epoch(store)?;
        Ok(())
    }

    fn sections(&self) -> usize {
        self.keys.len().div_ceil(SECTION_ENTRIES)
    }

    /// Encodes the sections one after another, in key order, handing each to `f`.
    fn for_each_section<E: From<SnapshotInterrupted>>(&self, store: &Store, mut f: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        let total = self.keys.len();
        let mut keys: Box<dyn Iterator<Item = Key> + '_> = match &self.keys {
            PlanKeys::Listed(keys) => Box::new(keys.iter().cloned()),
            PlanKeys::Counted(_) => Box::new(IndexWalk { store, after: None, chunk: Vec::new().into_iter() }),
        };
        let mut buf = Vec::new();
        for first in (0..total).step_by(SECTION_ENTRIES) {
            buf.clear();
            self.encode_section(store, SECTION_ENTRIES.min(total - first), &mut keys, &mut buf)?;
            f(&buf)?;
        }
        Ok(())
    }

    /// Whether no compaction ran since the plan was taken. Any shard read that saw cut history
    /// was locked after the compaction bumped the epoch, so this load sees the bump.
    fn check_epoch(&self, store: &Store) -> Result<(), SnapshotInterrupted> {
        if store.history_epoch.load(Ordering::SeqCst) == self.epoch {
            Ok(())
        } else {
            Err(SnapshotInterrupted)
        }
    }

    fn write_unchecked(&self, store: &Store, out: &mut Vec<u8>, parallel: bool) -> Result<(), SnapshotInterrupted> {
        // A store within one section is done on this thread (its pool may not even exist yet).
        if let (true, PlanKeys::Listed(keys)) = (parallel && self.sections() > 1, &self.keys) {
            let sections: Vec<&[Key]> = keys.chunks(SECTION_ENTRIES).collect();
            let parts = store.par_map(&sections, |keys| {
                let mut buf = Vec::new();
                self.encode_section(store, keys.len(), &mut keys.iter().cloned(), &mut buf)?;
                Ok(buf)
            });
            let parts: Vec<Vec<u8>> = parts.into_iter().collect::<Result<_, SnapshotInterrupted>>()?;
            out.reserve(HEADER_BYTES + 4 + LEASE_BYTES * self.leases.len() + 4 + parts.iter().map(Vec::len).sum::<usize>());
            self.write_head(out, parts.len());
            for part in &parts {
                out.extend_from_slice(part);
            }
            return Ok(());
        }
        self.write_head(out, self.sections());
        self.for_each_section(store, |section| {
            out.extend_from_slice(section);
            Ok::<_, SnapshotInterrupted>(())
        })
    }

    /// Header, leases and the section count.
    fn write_head(&self, out: &mut Vec<u8>, sections: usize) {
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&SNAPSHOT_FORMAT_VERSION.to_le_bytes());
        out.push(if self.poisoned { FLAG_POISONED } else { 0 });
        out.extend_from_slice(&self.revision.to_le_bytes());
        out.extend_from_slice(&self.compact_revision.to_le_bytes());
        out.extend_from_slice(&self.next_lease_id.to_le_bytes());
        out.extend_from_slice(&u32_len(self.leases.len()));
        for (id, ttl) in &self.leases {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&ttl.to_le_bytes());
        }
        out.extend_from_slice(&u32_len(sections));
    }

    /// Appends one section of `entries` keys, the next ones from `keys` with versions at or
    /// below the plan's revision, each with those versions.
    fn encode_section(&self, store: &Store, entries: usize, keys: &mut dyn Iterator<Item = Key>, buf: &mut Vec<u8>) -> Result<(), SnapshotInterrupted> {
        let start = buf.len();
        buf.reserve(SECTION_HEADER_BYTES + entries * (ENTRY_FIXED + VERSION_FIXED + 32));
        buf.extend_from_slice(&u32_len(entries));
        buf.extend_from_slice(&[0; 8]);
        let mut written = 0;
        while written < entries {
            // Fewer keys than the plan counted: only a compaction (or a clear) takes keys away.
            let key = keys.next().ok_or(SnapshotInterrupted)?;
            let hash = hash_key(&key);
            let shard = store.shards.shard(shard_of(hash)).read();
            let entry = shard.find(hash, &key).ok_or(SnapshotInterrupted)?;
            let kept = entry.history.partition_point(|v| v.kv.mod_revision <= self.revision);
            if kept == 0 {
                // Created after the plan (or its history compacted since, which the epoch check
                // catches): not in this snapshot.
                continue;
            }
            put_entry(buf, &key, &entry.history[..kept]);
            written += 1;
        }
        let size = (buf.len() - start - SECTION_HEADER_BYTES) as u64;
        buf[start + 4..start + SECTION_HEADER_BYTES].copy_from_slice(&size.to_le_bytes());
        Ok(())
    }
}

fn u32_len(n: usize) -> [u8; 4] {
    u32::try_from(n).expect("a snapshot length exceeds u32").to_le_bytes()
}

/// Appends one entry: the key and the given versions of it, oldest first.
fn put_entry(buf: &mut Vec<u8>, key: &[u8], versions: &[Version]) {
    buf.reserve(ENTRY_FIXED + key.len() + versions.iter().map(|v| VERSION_FIXED + v.kv.value.len()).sum::<usize>());
    buf.extend_from_slice(&u32_len(key.len()));
    buf.extend_from_slice(key);
    buf.extend_from_slice(&u32_len(versions.len()));
    for Version { kv, sub } in versions {
        for n in [kv.create_revision, kv.mod_revision, kv.version, kv.lease] {
            buf.extend_from_slice(&n.to_le_bytes());
        }
        buf.extend_from_slice(&sub.to_le_bytes());
        buf.extend_from_slice(&u32_len(kv.value.len()));
        buf.extend_from_slice(&kv.value);
    }
}

/// Bounds-checked little-endian reads; offsets in errors count from the snapshot's start.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn fail_at<T>(&self, pos: usize, reason: &'static str) -> Result<T, SnapshotError> {
        Err(SnapshotError { reason, offset: self.base + pos })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        if self.bytes.len() - self.pos < n {
            return self.fail_at(self.pos, "truncated");
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A count of items at least `min_bytes` long each; more than the bytes left can hold is
    /// truncation (and is never allocated for).
    fn count(&mut self, min_bytes: usize) -> Result<usize, SnapshotError> {
        let n = self.u32()? as usize;
        if n > (self.bytes.len() - self.pos) / min_bytes {
            return self.fail_at(self.pos - 4, "truncated (count exceeds the bytes left)");
        }
        Ok(n)
    }
}

struct Section<'a> {
    entries: usize,
    base: usize,
    bytes: &'a [u8],
}

/// The keys a section restored, for the indexes and the lease table.
#[derive(Default)]
struct SectionKeys<'a> {
    base: usize,
    first: Option<&'a [u8]>,
    last: Option<&'a [u8]>,
    live: Vec<Key>,
    dead: Vec<Key>,
    leased: Vec<(i64, Key)>,
}

/// Decodes one section into the store's shards, locking one shard at a time.
fn restore_section<'a>(store: &Store, leases: &BTreeMap<i64, Lease>, revision: i64, section: &Section<'a>) -> Result<SectionKeys<'a>, SnapshotError> {
    let mut r = Reader { bytes: section.bytes, pos: 0, base: section.base };
    let capacity = section.entries.min(section.bytes.len() / ENTRY_FIXED);
    let mut out = SectionKeys { base: section.base, live: Vec::with_capacity(capacity), ..SectionKeys::default() };
    for _ in 0..section.entries {
        let at = r.pos;
        let key_len = r.u32()? as usize;
        let key_bytes = r.take(key_len)?;
        if out.last.is_some_and(|last| last >= key_bytes) {
            return r.fail_at(at, "keys out of order");
        }
        out.first = out.first.or(Some(key_bytes));
        out.last = Some(key_bytes);
        let key: Key = key_bytes.into();
        let versions = r.u32()? as usize;
        if versions == 0 {
            return r.fail_at(at, "key without history");
        }
        let mut history: SmallVec<[Version; 1]> = SmallVec::with_capacity(versions.min((r.bytes.len() - r.pos) / VERSION_FIXED));
        // (mod_revision, sub) of the version before; mod revisions start at 1.
        let mut previous = (0, 0);
        for _ in 0..versions {
            let version_at = r.pos;
            let (create_revision, mod_revision, version, lease) = (r.i64()?, r.i64()?, r.i64()?, r.i64()?);
            let (sub, value_len) = (r.u32()?, r.u32()? as usize);
            let value = r.take(value_len)?;
            let shape_ok = if version == 0 {
                create_revision == 0 && lease == 0 && value.is_empty()
            } else {
                // Each put of a generation has its own revision in [create, mod].
                (1..=mod_revision).contains(&create_revision) && (1..=mod_revision - create_revision + 1).contains(&version)
            };
            if !shape_ok || previous >= (mod_revision, sub) || !(1..=revision).contains(&mod_revision) {
                return r.fail_at(version_at, "inconsistent version");
            }
            let kv = KeyValue { value: Value::new(value), create_revision, mod_revision, version, lease };
            history.push(Version { kv, sub });
            previous = (mod_revision, sub);
        }
        let latest = &history[history.len() - 1].kv;
        if latest.is_tombstone() {
            out.dead.push(key.clone());
        } else {
            out.live.push(key.clone());
            if latest.lease != 0 {
                if !leases.contains_key(&latest.lease) {
                    return r.fail_at(at, "live key attached to a lease that does not exist");
                }
                out.leased.push((latest.lease, key.clone()));
            }
        }
        let hash = hash_key(&key);
        // Ascending order already rules out a key appearing twice.
        store.shards.shard(shard_of(hash)).write().insert_new(hash, KeyEntry { key, history: Box::new(history) });
    }
    if r.pos != r.bytes.len() {
        return r.fail_at(r.pos, "section length does not match its entries");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_store_restores_poisoned() {
        let store = Store::default();
        store.poisoned.store(true, Ordering::Release);
        let mut bytes = Vec::new();
        store.snapshot_into(&mut bytes);
        assert!(Store::from_snapshot(Config::default(), &bytes).unwrap().is_poisoned());
    }
}
