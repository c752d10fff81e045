//! The data model: a key's history of versions (etcd's key_index generations, flattened), each
//! an `mvccpb.KeyValue`.

use smallvec::SmallVec;
use std::sync::Arc;

/// Key bytes, shared by the hash shard that owns the entry and the ordered indexes.
pub type Key = Arc<[u8]>;

/// A key's value and metadata at one revision. A deletion is recorded as a tombstone: version 0,
/// `mod_revision` = the deletion's revision, everything else empty — the shape etcd gives a
/// DELETE event's key-value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub value: Box<[u8]>,
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
        KeyValue { value: Box::default(), create_revision: 0, mod_revision: revision, version: 0, lease: 0 }
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

/// Everything the store keeps for one key: its versions, oldest first, ordered by
/// (mod_revision, sub). Most keys hold one version, kept inline.
#[derive(Debug)]
pub struct KeyEntry {
    pub key: Key,
    pub history: SmallVec<[Version; 1]>,
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
