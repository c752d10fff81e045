//! Restoring a store from snapshot bytes: every field checked, sections decoded in parallel
//! into the shards, then the ordered index and the lease table rebuilt from the entries.

use super::{SnapshotError, MAX_COUNTER};
use crate::key_index::KeyIndex;
use crate::kv::{Key, KeyEntry, KeyValue, Value, Version};
use crate::kvstore::{Config, Store};
use crate::layout::snapshot::*;
use crate::lessor_state::{Lease, Leases};
use crate::shards::{hash_key, shard_of, SHARD_COUNT};
use smallvec::SmallVec;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

impl Store {
    /// Rebuilds a store from bytes [`Store::snapshot_into`] wrote. Anything malformed or
    /// truncated is an error, never a panic.
    pub fn from_snapshot(config: Config, bytes: &[u8]) -> Result<Store, SnapshotError> {
        let mut r = Reader { bytes, pos: 0, base: 0 };
        if bytes.len() < SNAPSHOT_MAGIC.len() || bytes[..SNAPSHOT_MAGIC.len()] != SNAPSHOT_MAGIC {
            return Err(SnapshotError { reason: "not a snapshot (bad magic)", offset: 0 });
        }
        r.pos = SNAPSHOT_VERSION_AT;
        if u16::from_le_bytes(r.array()?) != SNAPSHOT_FORMAT_VERSION {
            return r.fail_at(SNAPSHOT_VERSION_AT, "unsupported snapshot format version");
        }
        let flags = r.array::<1>()?[0];
        if flags & !SNAPSHOT_POISONED != 0 {
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

        let lease_count = r.count(SNAPSHOT_LEASE_BYTES)?;
        let mut lease_list = Vec::with_capacity(lease_count);
        for _ in 0..lease_count {
            let (id, ttl) = (r.i64()?, r.i64()?);
            if id == 0 || lease_list.last().is_some_and(|&(prev, _)| prev >= id) {
                return r.fail_at(r.pos - SNAPSHOT_LEASE_BYTES, "lease ids not ascending or zero");
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
            if entries > bytes.len() / KEY_ENTRY_FIXED {
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
        store.poisoned.store(flags & SNAPSHOT_POISONED != 0, Ordering::Release);
        Ok(store)
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
    let capacity = section.entries.min(section.bytes.len() / KEY_ENTRY_FIXED);
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
        let mut history: SmallVec<[Version; 1]> = SmallVec::with_capacity(versions.min((r.bytes.len() - r.pos) / KEY_VERSION_FIXED));
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
    use crate::codec::{BatchBuilder, PUT_IGNORE_LEASE};

    fn snapshot(store: &Store) -> Vec<u8> {
        let mut out = Vec::new();
        store.snapshot_into(&mut out);
        out
    }

    /// A small store with every kind of state: history, tombstones, leases, a compaction.
    fn small_store() -> Store {
        let store = Store::default();
        let mut b = BatchBuilder::new();
        b.lease_grant(0, 10).lease_grant(5, 20);
        b.put(b"a", b"1", 1, 0).put(b"b", b"2", 0, 0).put(b"c", b"3", 5, 0).put(b"a", b"4", 0, PUT_IGNORE_LEASE);
        b.delete_range(b"b", &[], false).put(b"d", b"", 0, 0).compact(3).put(b"b", b"5", 5, 0).delete_range(b"d", &[], false);
        store.apply_batch(&b.finish()).unwrap();
        store
    }

    #[test]
    fn a_poisoned_store_restores_poisoned() {
        let store = Store::default();
        store.poisoned.store(true, Ordering::Release);
        let mut bytes = Vec::new();
        store.snapshot_into(&mut bytes);
        assert!(Store::from_snapshot(Config::default(), &bytes).unwrap().is_poisoned());
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = snapshot(&small_store());
        for len in 0..bytes.len() {
            assert!(Store::from_snapshot(Config::default(), &bytes[..len]).is_err(), "prefix of {len} bytes accepted");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Store::from_snapshot(Config::default(), &longer).is_err());
    }

    #[test]
    fn wrong_magic_or_version_is_refused() {
        let bytes = snapshot(&small_store());
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert_eq!(Store::from_snapshot(Config::default(), &magic).err().map(|e| e.offset), Some(0));
        let mut version = bytes.clone();
        version[6..8].copy_from_slice(&(SNAPSHOT_FORMAT_VERSION + 1).to_le_bytes());
        let err = Store::from_snapshot(Config::default(), &version).err().expect("refused");
        assert_eq!(err.offset, 6);
        assert!(err.to_string().contains("version"), "{err}");
        assert!(Store::from_snapshot(Config::default(), b"").is_err());
        let _: &dyn std::error::Error = &SnapshotError { reason: "x", offset: 1 };
    }

    #[test]
    fn inconsistent_entries_are_refused() {
        // One key, one version; header 33 bytes, no leases (4), one section (4 + 12).
        let store = Store::default();
        store.apply_batch(&BatchBuilder::new().put(b"k", b"v", 0, 0).finish()).unwrap();
        let bytes = snapshot(&store);
        let version_at = 33 + 4 + 4 + 12 + 4 + 1 + 4;
        let corrupt = |at: usize, value: i64| {
            let mut b = bytes.clone();
            b[at..at + 8].copy_from_slice(&value.to_le_bytes());
            Store::from_snapshot(Config::default(), &b).err().map(|e| e.reason)
        };
        assert_eq!(corrupt(version_at + 8, 5), Some("inconsistent version"), "mod revision beyond the store's");
        assert_eq!(corrupt(version_at, 3), Some("inconsistent version"), "created after its change");
        assert_eq!(corrupt(version_at + 24, 9), Some("live key attached to a lease that does not exist"));
        assert_eq!(corrupt(9, 0), Some("revision out of range"));
        assert!(corrupt(version_at + 16, 1).is_none(), "an untouched field restores");
    }
}
