//! MetaStore's engine: an etcd-v3-semantics revisioned key-value store with 512 lock-sharded
//! hash maps, an ordered key index and deterministic batched apply. Pure Rust, no Node-API:
//! the binding crate wraps it, `cargo test` covers it alone.
//!
//! Writes arrive as batches in the op codec (docs/codec.md); results leave as one packed buffer.
//! Every byte layout is declared once in formats/ and generated into `layout` (docs/formats.md).

mod apply;
mod changes;
pub mod codec;
mod compact;
pub mod error;
pub mod index;
mod index_inserts;
pub mod kv;
pub mod kvstore;
pub mod layout;
pub mod lease;
mod range;
pub mod results;
pub mod shards;
mod snapshot;
mod txn;
mod txn_check;

pub use codec::{BatchBuilder, Limits};
pub use error::{BatchError, ErrorNumber};
pub use kv::KeyValue;
pub use kvstore::{Config, EventsMode, Store, DEFAULT_PARALLEL_THRESHOLD};
pub use layout::snapshot::SNAPSHOT_FORMAT_VERSION;
pub use snapshot::{SnapshotError, SnapshotInterrupted, SnapshotPlan, SnapshotStreamError};
