//! MetaStore's engine: an etcd-v3-semantics revisioned key-value store with 512 lock-sharded
//! hash maps, an ordered key index and deterministic batched apply. Pure Rust, no Node-API:
//! the binding crate wraps it, `cargo test` covers it alone.
//!
//! Writes arrive as batches in the op codec (docs/codec.md); results leave as one packed buffer.
//! Every byte layout is declared once in formats/ and generated into `layout` (docs/formats.md).
//! The modules and their dependency direction: docs/architecture.md ("Rust core").

// The public surface: the op codec (the binding decodes logged batches with it) and the result
// writer (the binding writes standalone reads with it), and the re-exports below.
pub mod codec;
pub mod layout;
pub mod results;

// The engine, private: the store and its reads, the write transaction and the ops, the indexes,
// the lease table, snapshots.
mod apply;
mod errors;
mod events;
mod key_index;
mod key_index_inserts;
mod kv;
mod kvstore;
mod kvstore_txn;
mod lessor_state;
mod ops;
mod range;
mod shards;
mod snapshot;

pub use codec::{BatchBuilder, Limits};
pub use errors::{BatchError, ErrorNumber};
pub use kv::{Key, KeyValue};
pub use kvstore::{Config, EventsMode, Store, DEFAULT_BACKGROUND_INDEX_MIN, DEFAULT_PARALLEL_THRESHOLD};
pub use layout::snapshot::SNAPSHOT_FORMAT_VERSION;
pub use snapshot::{SnapshotError, SnapshotInterrupted, SnapshotPlan, SnapshotStreamError};
