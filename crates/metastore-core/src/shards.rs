//! 512 hash shards, each behind its own lock, holding the key entries.

use crate::kv::KeyEntry;
use hashbrown::HashTable;
use parking_lot::RwLock;
use std::hash::Hasher;

pub const SHARD_COUNT: usize = 512;

pub type Shard = HashTable<KeyEntry>;

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
    shards: Box<[RwLock<Shard>]>,
}

impl Default for Shards {
    fn default() -> Self {
        Shards { shards: (0..SHARD_COUNT).map(|_| RwLock::new(HashTable::new())).collect() }
    }
}

impl Shards {
    #[inline]
    pub fn shard(&self, index: usize) -> &RwLock<Shard> {
        &self.shards[index]
    }

    /// Runs `f` on the entry of `key`, if present, under the shard's read lock.
    #[inline]
    pub fn with_entry<R>(&self, key: &[u8], f: impl FnOnce(Option<&KeyEntry>) -> R) -> R {
        let hash = hash_key(key);
        let guard = self.shards[shard_of(hash)].read();
        f(find(&guard, hash, key))
    }

    pub fn clear(&self) {
        for shard in self.shards.iter() {
            *shard.write() = HashTable::new();
        }
    }
}

/// Asks the CPU to start loading `value`'s cache line (a hint; no effect on other targets).
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally; any address is allowed.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Finds `key` in a locked shard. The history is the next load after the key compare: it is
/// started during the compare, so the two cache misses overlap instead of following each other.
#[inline]
pub fn find<'a>(shard: &'a Shard, hash: u64, key: &[u8]) -> Option<&'a KeyEntry> {
    shard.find(hash, |e| {
        prefetch(&*e.history);
        &*e.key == key
    })
}

/// Finds `key` in a locked shard, mutably.
#[inline]
pub fn find_mut<'a>(shard: &'a mut Shard, hash: u64, key: &[u8]) -> Option<&'a mut KeyEntry> {
    shard.find_mut(hash, |e| &*e.key == key)
}

/// The slot of `key` in a locked shard: its entry, or where it goes (one probe for both).
#[inline]
pub fn slot<'a>(shard: &'a mut Shard, hash: u64, key: &[u8]) -> hashbrown::hash_table::Entry<'a, KeyEntry> {
    shard.entry(hash, |e| &*e.key == key, |e| hash_key(&e.key))
}

/// Inserts a new entry (the caller checked that the key is absent).
#[inline]
pub fn insert_new(shard: &mut Shard, hash: u64, entry: KeyEntry) {
    shard.insert_unique(hash, entry, |e| hash_key(&e.key));
}

/// Removes `key` and returns its entry.
#[inline]
pub fn remove(shard: &mut Shard, hash: u64, key: &[u8]) -> Option<KeyEntry> {
    match shard.find_entry(hash, |e| &*e.key == key) {
        Ok(occupied) => Some(occupied.remove().0),
        Err(_) => None,
    }
}
