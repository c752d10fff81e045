//! The write transaction a batch runs in (etcd's mvcc/kvstore_txn.go, storeTxnWrite): the locks
//! it holds for the whole batch, the revision it advances, and the write primitives every op is
//! built from (put and delete at a revision, with their effects on the indexes and the lease
//! table). The ops themselves are in ops/; apply.rs opens the transaction and runs them.

use crate::codec::{DeleteRangeRef, PutRef, PUT_IGNORE_LEASE, PUT_IGNORE_VALUE, PUT_PREV_KV};
use crate::errors::ErrorNumber;
use crate::key_index::{KeyIndex, RangeEnd};
use crate::kv::{Key, KeyEntry, KeyValue, Value, Version};
use crate::kvstore::Store;
use crate::lessor_state::Leases;
use crate::results::EventWriter;
use crate::shards::{hash_key, shard_of, ShardTable};
use hashbrown::hash_table::{Entry, VacantEntry};
use parking_lot::{ArcRwLockWriteGuard, RawRwLock};

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
    shard: &mut ShardTable,
    hash: u64,
    op: &PutRef<'_>,
    rev: i64,
    sub: u32,
    want_prev: bool,
    events: Option<&mut EventWriter>,
) -> PutEffect {
    match shard.slot(hash, op.key) {
        Entry::Occupied(mut o) => put_existing(o.get_mut(), op, rev, sub, want_prev, events),
        Entry::Vacant(v) => put_new(v, op, rev, sub, events),
    }
}

/// A put to a key that has an entry (live, or deleted with its history kept).
pub(crate) fn put_existing(entry: &mut KeyEntry, op: &PutRef<'_>, rev: i64, sub: u32, want_prev: bool, events: Option<&mut EventWriter>) -> PutEffect {
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
pub(crate) fn put_new(slot: VacantEntry<'_, KeyEntry>, op: &PutRef<'_>, rev: i64, sub: u32, events: Option<&mut EventWriter>) -> PutEffect {
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
        let entry = shard.find_mut(hash, key)?;
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

    /// Live keys of a delete's range, in key order.
    pub(crate) fn doomed(&self, op: &DeleteRangeRef<'_>) -> Vec<Key> {
        match RangeEnd::parse(op.range_end) {
            RangeEnd::Single => self.store.shards.with_entry(op.key, |e| e.filter(|e| e.live().is_some()).map(|e| vec![e.key.clone()]).unwrap_or_default()),
            end => self.index.collect_range(op.key, end),
        }
    }
}

/// The state-dependent checks of a put, in the order docs/codec.md gives.
#[inline]
/// A put request checks its lease first (etcd's applyPut); inside a transaction the key comes
/// first (etcd's checkRequestPut), see `ops/txn.rs`.
pub(crate) fn check_put(op: &PutRef<'_>, exists: bool, lease_exists: impl Fn(i64) -> bool) -> Result<(), ErrorNumber> {
    if op.lease != 0 && !lease_exists(op.lease) {
        return Err(ErrorNumber::LeaseNotFound);
    }
    if op.flags & (PUT_IGNORE_VALUE | PUT_IGNORE_LEASE) != 0 && !exists {
        return Err(ErrorNumber::KeyNotFound);
    }
    Ok(())
}
