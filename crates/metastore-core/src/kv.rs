//! The data model: a key's history of versions (etcd's key_index generations, flattened), each
//! an `mvccpb.KeyValue`.

use compact_bytes::CompactBytesSlice;
use smallvec::SmallVec;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use triomphe::ThinArc;

/// Key bytes, shared by the hash shard that owns the entry, the ordered indexes and the lease
/// table. One thin pointer (8 bytes, the length lives in the allocation): at millions of keys
/// every slot that holds a key is paid for many times over (examples/memory.rs).
#[derive(Clone)]
pub struct Key(ThinArc<(), u8>);

impl Key {
    pub fn new(bytes: &[u8]) -> Self {
        Key(ThinArc::from_header_and_slice((), bytes))
    }
}

impl Deref for Key {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        &self.0.slice
    }
}

impl Borrow<[u8]> for Key {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self
    }
}

impl From<&[u8]> for Key {
    fn from(bytes: &[u8]) -> Self {
        Key::new(bytes)
    }
}

// Keys compare, order and hash as their bytes (what `Borrow<[u8]>` lookups require).
impl PartialEq for Key {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?})", String::from_utf8_lossy(self))
    }
}

/// A value's bytes: up to 15 inline, longer ones in one exact-size allocation (the size of a
/// `Box<[u8]>`). Small values are common in metadata (flags, ids, counters), and a put of one
/// then allocates nothing for its value.
pub type Value = CompactBytesSlice;

/// A key's value and metadata at one revision. A deletion is recorded as a tombstone: version 0,
/// `mod_revision` = the deletion's revision, everything else empty — the shape etcd gives a
/// DELETE event's key-value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub value: Value,
    /// Revision of the put that created the key in its current generation.
    pub create_revision: i64,
    /// Revision of the last change.
    pub mod_revision: i64,
    /// 1 on create, +1 per put; 0 for a tombstone.
    pub version: i64,
    /// Attached lease, 0 for none.
    pub lease: i64,
}

impl KeyValue {
    pub fn tombstone(revision: i64) -> Self {
        KeyValue { value: Value::default(), create_revision: 0, mod_revision: revision, version: 0, lease: 0 }
    }

    pub fn is_tombstone(&self) -> bool {
        self.version == 0
    }
}

/// One entry of a key's history: the key-value and its sub-revision within `mod_revision`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub kv: KeyValue,
    pub sub: u32,
}

/// A key's versions, oldest first, ordered by (mod_revision, sub). Most keys hold one version,
/// kept inline.
pub type History = SmallVec<[Version; 1]>;

/// Everything the store keeps for one key. The history is boxed so that a hash-shard slot is two
/// pointers: the tables are sized for growth (~60% full at scale), so each byte of a slot costs
/// about two bytes per key.
#[derive(Debug)]
pub struct KeyEntry {
    pub key: Key,
    pub history: Box<History>,
}

impl KeyEntry {
    pub fn new(key: Key, first: Version) -> Self {
        let mut history = History::new();
        history.push(first);
        KeyEntry { key, history: Box::new(history) }
    }
}

impl KeyEntry {
    /// The latest version if the key is live.
    #[inline]
    pub fn live(&self) -> Option<&KeyValue> {
        self.history.last().map(|v| &v.kv).filter(|kv| !kv.is_tombstone())
    }

    /// The key as it was at `revision`, if it was live then.
    pub fn at(&self, revision: i64) -> Option<&KeyValue> {
        let i = self.history.partition_point(|v| v.kv.mod_revision <= revision);
        (i > 0).then(|| &self.history[i - 1].kv).filter(|kv| !kv.is_tombstone())
    }
}
