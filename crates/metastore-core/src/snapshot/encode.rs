//! Writing a snapshot: a plan's header and leases, then the keys with their versions up to the
//! plan's revision, section by section (the format is in snapshot.rs).

use super::{PlanKeys, SnapshotInterrupted, SnapshotPlan, SnapshotStreamError, SECTION_ENTRIES};
use crate::kv::{Key, Version};
use crate::kvstore::Store;
use crate::layout::snapshot::*;
use crate::shards::{hash_key, shard_of};
use std::sync::atomic::Ordering;

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

impl Store {
    /// Appends the encoding of the whole state to `out` (the format is in snapshot.rs). Holds
    /// the writer lock throughout, so no batch applies halfway through it.
    pub fn snapshot_into(&self, out: &mut Vec<u8>) {
        let _writer = self.writer.lock();
        let plan = self.plan_locked(true);
        // Nothing applies meanwhile, so nothing can interrupt the pass; it may use the store's
        // pool, which no batch is using.
        plan.write(self, out, true).expect("no compaction can run while the writer lock is held");
    }
}

impl SnapshotPlan {
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
            out.reserve(SNAPSHOT_FIXED + SNAPSHOT_LEASE_BYTES * self.leases.len() + parts.iter().map(Vec::len).sum::<usize>());
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
        out.extend_from_slice(&SNAPSHOT_MAGIC);
        out.extend_from_slice(&SNAPSHOT_FORMAT_VERSION.to_le_bytes());
        out.push(if self.poisoned { SNAPSHOT_POISONED } else { 0 });
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
        buf.reserve(SECTION_HEADER_BYTES + entries * (KEY_ENTRY_FIXED + KEY_VERSION_FIXED + 32));
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
        buf[start + SECTION_BYTE_COUNT_AT..start + SECTION_HEADER_BYTES].copy_from_slice(&size.to_le_bytes());
        Ok(())
    }
}

fn u32_len(n: usize) -> [u8; 4] {
    u32::try_from(n).expect("a snapshot length exceeds u32").to_le_bytes()
}

/// Appends one entry: the key and the given versions of it, oldest first.
fn put_entry(buf: &mut Vec<u8>, key: &[u8], versions: &[Version]) {
    buf.reserve(KEY_ENTRY_FIXED + key.len() + versions.iter().map(|v| KEY_VERSION_FIXED + v.kv.value.len()).sum::<usize>());
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
