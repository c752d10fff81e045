//! The data model: a key's current value and metadata, as etcd's `mvccpb.KeyValue`.

use std::sync::Arc;

/// Key bytes, shared by the hash shard that owns the entry and the ordered index.
pub type Key = Arc<[u8]>;

/// A key's value and metadata at one revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub value: Box<[u8]>,
    /// Revision of the put that created the key in its current generation.
    pub create_revision: i64,
    /// Revision of the last put.
    pub mod_revision: i64,
    /// 1 on create, +1 per put.
    pub version: i64,
    /// Attached lease, 0 for none.
    pub lease: i64,
}

/// Everything the store keeps for one key. Today that is the live value; MVCC history (the
/// revision chain of etcd's key_index generations) goes beside it without changing the shards.
#[derive(Debug)]
pub struct KeyEntry {
    pub key: Key,
    pub current: KeyValue,
}
