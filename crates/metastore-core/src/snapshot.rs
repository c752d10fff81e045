//! A store's whole state as bytes, for the durable log's snapshots: `Store::snapshot_into`
//! writes it between batches, `Store::from_snapshot` rebuilds an identical store. A snapshot can
//! also be split: `Store::begin_snapshot` captures the counters, leases and key count between
//! two batches, and `SnapshotPlan::write_into` reads the keys and their histories later, beside
//! applies, keeping the versions up to the captured revision (same bytes).
//!
//! The format (version 1) is declared in formats/snapshot.mjs; its tables are in docs/formats.md
//! ("Snapshot payload"): a header with the counters, the leases, then the keys in sections.
//!
//! Every key with history appears once, tombstones included, in ascending key order across all
//! sections; sections only cut that list into runs restore decodes in parallel. The ordered
//! indexes and the keys attached to each lease are not stored: they follow from the entries (a
//! key is live when its latest version is not a tombstone, and then belongs to that version's
//! lease), and key order lets restore build the index without sorting.
//!
//! The files: this one holds the format's sizes, the plan and the errors; snapshot/plan.rs takes
//! a plan (`Store::begin_snapshot`), snapshot/encode.rs writes one (`SnapshotPlan::write_into`,
//! `write_to`, `Store::snapshot_into`), snapshot/restore.rs reads the bytes back
//! (`Store::from_snapshot`).

use crate::kv::Key;
use std::fmt;

// The layout (magic, version, flags, sizes) is declared in formats/snapshot.mjs
// (crate::layout::snapshot); encode.rs and restore.rs read it from there.
/// Entries per section snapshot_into writes.
const SECTION_ENTRIES: usize = 16_384;
/// Revisions and the lease counter stay far below this, so restored counters never overflow.
const MAX_COUNTER: i64 = i64::MAX / 2;

/// Why bytes could not be restored as a store: what was wrong and at which byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotError {
    pub reason: &'static str,
    pub offset: usize,
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed snapshot at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for SnapshotError {}

/// What [`Store::begin_snapshot`] captured: everything of the state at one revision except the
/// keys and their histories, which [`SnapshotPlan::write_into`] reads later, beside applies,
/// keeping only the versions up to that revision.
pub struct SnapshotPlan {
    revision: i64,
    compact_revision: i64,
    poisoned: bool,
    next_lease_id: i64,
    /// (id, ttl), ids ascending.
    leases: Vec<(i64, i64)>,
    keys: PlanKeys,
    /// The store's history epoch then: a pass that ends with another one may have read history
    /// that a compaction (or a clear) had already cut.
    epoch: u64,
}

/// The keys with history at a plan's revision, live or not.
enum PlanKeys {
    /// Listed when the plan was taken (the writer lock is held throughout the pass).
    Listed(Vec<Key>),
    /// Counted when the plan was taken and read from the index during the pass, a few thousand
    /// at a time, in key order: listing every key (a reference count each) held the applying
    /// thread ~19 ms per 1.5M keys. The index can only have gained keys since, created after
    /// the plan (no version at or below its revision: passed over); losing one takes a
    /// compaction, which interrupts the pass anyway.
    Counted(usize),
}

impl PlanKeys {
    fn len(&self) -> usize {
        match self {
            PlanKeys::Listed(keys) => keys.len(),
            PlanKeys::Counted(n) => *n,
        }
    }
}

/// A snapshot pass met history that changed under it other than by growing: a compaction (or a
/// clear) ran after the plan was taken, so the versions at or below its revision may no longer
/// all be there. Restoring what such a pass read and replaying the log would not give the
/// original store back (a key whose history a compaction dropped whole would come back as a
/// fresh key, and a delete of it would not count a revision), so it writes nothing: take a new
/// plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotInterrupted;

impl fmt::Display for SnapshotInterrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a compaction ran while the snapshot was being written")
    }
}

impl std::error::Error for SnapshotInterrupted {}

/// Why [`SnapshotPlan::write_to`] stopped.
#[derive(Debug)]
pub enum SnapshotStreamError {
    Interrupted(SnapshotInterrupted),
    Io(std::io::Error),
}

impl From<SnapshotInterrupted> for SnapshotStreamError {
    fn from(e: SnapshotInterrupted) -> Self {
        SnapshotStreamError::Interrupted(e)
    }
}

impl From<std::io::Error> for SnapshotStreamError {
    fn from(e: std::io::Error) -> Self {
        SnapshotStreamError::Io(e)
    }
}

mod encode;
mod plan;
mod restore;
