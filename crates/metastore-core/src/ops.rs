//! The ops a batch applies, one file per op type (docs/codec.md), each a method of the write
//! transaction ([`Apply`](crate::kvstore_txn::Apply)) built from its primitives. RANGE is a read
//! and lives in range.rs; apply.rs dispatches every op and runs long runs of puts and of
//! single-key deletes shard-parallel.

mod compact;
mod delete;
mod lease;
mod put;
mod txn;
