//! 512 hash shards, each behind its own lock, holding the key entries: the shard table
//! ([`ShardTable`]) with its growth rule, and the hash that picks a key's shard.

use crate::kv::KeyEntry;
use hashbrown::HashTable;
use parking_lot::RwLock;
use std::hash::Hasher;

pub const SHARD_COUNT: usize = 512;

/// One shard's hash table of key entries. Entries go in only through [`ShardTable::slot`] and
/// [`ShardTable::insert_new`], which keep the table's growth rule (see `make_room`); the raw
/// table is not handed out, so nothing grows it another way.
#[derive(Default)]
pub struct ShardTable {
    table: HashTable<KeyEntry>,
}

/// Hash of a key: one hash per op selects the shard and probes its table.
#[inline]
pub fn hash_key(key: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(key);
    h.finish()
}

/// Shard of a hash. Uses bits 32..41, which the table itself uses neither for its bucket index
/// (low bits) nor for its control tags (top 7 bits), so keys of one shard still spread well.
#[inline]
pub fn shard_of(hash: u64) -> usize {
    ((hash >> 32) as usize) & (SHARD_COUNT - 1)
}

pub struct Shards {
    shards: Box<[RwLock<ShardTable>]>,
}

impl Default for Shards {
    fn default() -> Self {
        Shards { shards: (0..SHARD_COUNT).map(|_| RwLock::new(ShardTable::default())).collect() }
    }
}

impl Shards {
    #[inline]
    pub fn shard(&self, index: usize) -> &RwLock<ShardTable> {
        &self.shards[index]
    }

    /// Runs `f` on the entry of `key`, if present, under the shard's read lock.
    #[inline]
    pub fn with_entry<R>(&self, key: &[u8], f: impl FnOnce(Option<&KeyEntry>) -> R) -> R {
        let hash = hash_key(key);
        let guard = self.shards[shard_of(hash)].read();
        f(guard.find(hash, key))
    }

    pub fn clear(&self) {
        for shard in self.shards.iter() {
            *shard.write() = ShardTable::default();
        }
    }
}

/// Asks the CPU to start loading `value`'s cache line (a hint; no effect on other targets).
#[inline(always)]
fn prefetch<T>(value: &T) {
    prefetch_addr((value as *const T).cast());
}

/// [`prefetch`] of an address.
#[inline(always)]
fn prefetch_addr(addr: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally; any address is allowed.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(addr.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// Entries whose keys are loaded ahead of their hashing when a table is rebuilt.
const PREFETCH_AHEAD: usize = 8;

impl ShardTable {
    /// Finds `key`. The history is the next load after the key compare: it is started during
    /// the compare, so the two cache misses overlap instead of following each other.
    #[inline]
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<&KeyEntry> {
        self.table.find(hash, |e| {
            prefetch(&*e.history);
            &*e.key == key
        })
    }

    /// Finds `key`, mutably.
    #[inline]
    pub fn find_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut KeyEntry> {
        self.table.find_mut(hash, |e| &*e.key == key)
    }

    /// The slot of `key`: its entry, or where it goes (one probe for both).
    #[inline]
    pub fn slot(&mut self, hash: u64, key: &[u8]) -> hashbrown::hash_table::Entry<'_, KeyEntry> {
        self.make_room();
        self.table.entry(hash, |e| &*e.key == key, |e| hash_key(&e.key))
    }

    /// Inserts a new entry (the caller checked that the key is absent).
    #[inline]
    pub fn insert_new(&mut self, hash: u64, entry: KeyEntry) {
        self.make_room();
        self.table.insert_unique(hash, entry, |e| hash_key(&e.key));
    }

    /// Keeps the entries `keep` returns true for (compaction), in place.
    #[inline]
    pub fn retain(&mut self, keep: impl FnMut(&mut KeyEntry) -> bool) {
        self.table.retain(keep);
    }

    /// Makes room for `additional` more entries at once (restore sizes every shard up front).
    pub fn reserve(&mut self, additional: usize) {
        self.table.reserve(additional, |e| hash_key(&e.key));
    }

    /// Removes `key` and returns its entry (the tests' way to leave tombstones in the table).
    #[cfg(test)]
    #[inline]
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<KeyEntry> {
        match self.table.find_entry(hash, |e| &*e.key == key) {
            Ok(occupied) => Some(occupied.remove().0),
            Err(_) => None,
        }
    }

    /// The growth rule: a full table is rebuilt before the insert that would make the table do
    /// it. The table's own rehash hashes each key through its pointer, one cache miss after the
    /// other; here the keys are prefetched a few entries ahead, so their misses overlap (~25 ns
    /// less per new key in a store that grows). Sized for twice the entries it holds: the
    /// table's own doubling when no removals left tombstones, a smaller table than that when
    /// many did.
    #[inline]
    fn make_room(&mut self) {
        if self.table.len() == self.table.capacity() {
            self.rebuild();
        }
    }

    #[cold]
    #[inline(never)]
    fn rebuild(&mut self) {
        let entries: Vec<KeyEntry> = std::mem::take(&mut self.table).into_iter().collect();
        let mut hashes = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            if let Some(ahead) = entries.get(i + PREFETCH_AHEAD) {
                prefetch_addr(ahead.key.heap_ptr());
            }
            hashes.push(hash_key(&entry.key));
        }
        let mut grown = HashTable::with_capacity((entries.len() * 2).max(4));
        for (entry, hash) in entries.into_iter().zip(hashes) {
            grown.insert_unique(hash, entry, |e| hash_key(&e.key));
        }
        self.table = grown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::{Key, KeyValue, Version};

    fn entry(key: &[u8]) -> KeyEntry {
        KeyEntry::new(Key::new(key), Version { kv: KeyValue::tombstone(1), sub: 0 })
    }

    fn key(i: u32) -> Vec<u8> {
        format!("key-{i:06}").into_bytes()
    }

    /// A full table is rebuilt before the insert: twice the room, every entry still found.
    #[test]
    fn a_full_table_is_rebuilt_with_room_for_as_many_again() {
        let mut shard = ShardTable::default();
        let mut i = 0;
        while shard.table.len() < 1_000 || shard.table.len() < shard.table.capacity() {
            let k = key(i);
            shard.table.insert_unique(hash_key(&k), entry(&k), |e| hash_key(&e.key));
            i += 1;
        }
        let full = shard.table.len();
        shard.make_room();
        assert!(shard.table.capacity() >= 2 * full, "{} entries, capacity {}", full, shard.table.capacity());
        assert_eq!(shard.table.len(), full);
        assert!((0..i).all(|i| shard.find(hash_key(&key(i)), &key(i)).is_some()));
    }

    /// Growth goes through `rebuild` many times over (inserts through both `slot` and
    /// `insert_new`, removals leaving tombstones): every key stays findable, none comes back.
    #[test]
    fn a_table_rebuilt_while_it_grows_and_shrinks_keeps_exactly_its_keys() {
        let mut shard = ShardTable::default();
        for i in 0..20_000u32 {
            let k = key(i);
            if i % 2 == 0 {
                shard.insert_new(hash_key(&k), entry(&k));
            } else if let hashbrown::hash_table::Entry::Vacant(v) = shard.slot(hash_key(&k), &k) {
                v.insert(entry(&k));
            }
            // Every third key goes again: tombstones in the table between rebuilds.
            if i % 3 == 0 {
                assert!(shard.remove(hash_key(&k), &k).is_some());
            }
        }
        for i in 0..20_000u32 {
            let k = key(i);
            assert_eq!(shard.find(hash_key(&k), &k).is_some(), i % 3 != 0, "key {i}");
        }
        assert_eq!(shard.table.len(), (0..20_000u32).filter(|i| i % 3 != 0).count());
    }
}
