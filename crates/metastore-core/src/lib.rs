//! MetaStore's engine: an etcd-v3-semantics revisioned key-value store with 512 lock-sharded
//! hash maps, an ordered key index and deterministic batched apply. Pure Rust, no Node-API:
//! the binding crate wraps it, `cargo test` covers it alone.
//!
//! Writes arrive as batches in the op codec (docs/codec.md); results leave as one packed buffer.

mod apply;
pub mod codec;
pub mod error;
mod events;
pub mod key_index;
mod key_index_inserts;
pub mod kv;
pub mod kvstore;
mod kvstore_txn;
pub mod lessor_state;
mod ops;
mod range;
pub mod results;
pub mod shards;
mod snapshot;

pub use codec::{BatchBuilder, Limits};
pub use error::{BatchError, ErrorNumber};
pub use kv::KeyValue;
pub use kvstore::{Config, EventsMode, Store, DEFAULT_PARALLEL_THRESHOLD};
pub use snapshot::{SnapshotError, SnapshotInterrupted, SnapshotPlan, SnapshotStreamError, SNAPSHOT_FORMAT_VERSION};
