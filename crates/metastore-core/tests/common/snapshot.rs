//! Helpers of the snapshot tests (snapshot_plan.rs, snapshot_restore.rs): random op batches, a
//! snapshot and a restore of a store, and the check that two stores read alike.

use metastore_core::codec::{PUT_IGNORE_LEASE, PUT_IGNORE_VALUE, PUT_PREV_KV, RANGE_COUNT_ONLY, RANGE_KEYS_ONLY};
use metastore_core::{BatchBuilder, Config, Store};
use proptest::prelude::*;

#[derive(Clone, Debug)]
pub enum TestOp {
    Put {
        key: u8,
        value: Vec<u8>,
        flags: u8,
        lease: i64,
    },
    Delete {
        key: u8,
        end: Option<u8>,
        prev: bool,
    },
    Range {
        key: u8,
        end: u8,
        revision_back: i64,
    },
    /// if version(key) > n then put key2 (with a lease) else delete key2
    Txn {
        key: u8,
        n: i64,
        key2: u8,
        lease: i64,
    },
    /// id 0 picks the next free id.
    Grant {
        id: i64,
        ttl: i64,
    },
    Revoke {
        id: i64,
    },
    /// Compacts at the batch's starting revision minus `back`.
    Compact {
        back: i64,
    },
}

pub fn key(k: u8) -> Vec<u8> {
    vec![b'k', b'a' + k]
}

pub fn lease_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![4 => Just(0i64), 1 => 1i64..5]
}

pub fn op_strategy() -> impl Strategy<Value = TestOp> {
    prop_oneof![
        8 => (0u8..12, proptest::collection::vec(any::<u8>(), 0..6), 0u8..8, lease_strategy()).prop_map(|(key, value, flags, lease)| {
            // The codec refuses a value with ignoreValue and a lease with ignoreLease.
            let value = if flags & PUT_IGNORE_VALUE != 0 { vec![] } else { value };
            let lease = if flags & PUT_IGNORE_LEASE != 0 { 0 } else { lease };
            TestOp::Put { key, value, flags: flags & (PUT_PREV_KV | PUT_IGNORE_VALUE | PUT_IGNORE_LEASE), lease }
        }),
        3 => (0u8..12, proptest::option::weighted(0.3, 0u8..13), any::<bool>()).prop_map(|(key, end, prev)| TestOp::Delete { key, end, prev }),
        1 => (0u8..12, 0u8..13, 0i64..4).prop_map(|(key, end, revision_back)| TestOp::Range { key, end, revision_back }),
        1 => (0u8..12, 0i64..3, 0u8..12, lease_strategy()).prop_map(|(key, n, key2, lease)| TestOp::Txn { key, n, key2, lease }),
        2 => (prop_oneof![Just(0i64), 1i64..5], 1i64..100).prop_map(|(id, ttl)| TestOp::Grant { id, ttl }),
        1 => (1i64..5).prop_map(|id| TestOp::Revoke { id }),
        1 => (0i64..6).prop_map(|back| TestOp::Compact { back }),
    ]
}

pub fn batches_strategy() -> impl Strategy<Value = Vec<Vec<TestOp>>> {
    proptest::collection::vec(proptest::collection::vec(op_strategy(), 0..12), 0..8)
}

/// Encodes ops against `store`'s current revision (for the relative ones).
pub fn encode(store: &Store, ops: &[TestOp]) -> Vec<u8> {
    let rev = store.revision();
    let mut b = BatchBuilder::new();
    for op in ops {
        match op {
            TestOp::Put { key: k, value, flags, lease } => b.put(&key(*k), value, *lease, *flags),
            TestOp::Delete { key: k, end, prev } => b.delete_range(&key(*k), &end.map(key).unwrap_or_default(), *prev),
            TestOp::Range { key: k, end, revision_back } => b.range(&key(*k), &key(*end), 0, 0, 0, [0, (rev - revision_back).max(0), 0, 0, 0, 0]),
            TestOp::Txn { key: k, n, key2, lease } => b.txn(
                &[(0, 1, *n, &key(*k), &[], &[])],
                |w| {
                    w.put(&key(*key2), b"t", *lease, 0);
                },
                |w| {
                    w.delete_range(&key(*key2), &[], true);
                },
            ),
            TestOp::Grant { id, ttl } => b.lease_grant(*id, *ttl),
            TestOp::Revoke { id } => b.lease_revoke(*id),
            TestOp::Compact { back } => b.compact((rev - back).max(0)),
        };
    }
    b.finish()
}

pub fn snapshot(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    store.snapshot_into(&mut out);
    out
}

pub fn restore(store: &Store) -> Store {
    Store::from_snapshot(Config::default(), &snapshot(store)).expect("a snapshot restores")
}

pub fn range_bytes(store: &Store, flags: u8, order: u8, target: u8, limit: i64, revision: i64) -> Result<Vec<u8>, String> {
    let req = BatchBuilder::new().range(&[0], &[0], flags, order, target, [limit, revision, 0, 0, 0, 0]).finish();
    store.range_request(&req, Vec::new()).map_err(|e| e.to_string())
}

/// Every observable read of two stores agrees.
pub fn assert_same_reads(a: &Store, b: &Store) {
    assert_eq!((a.revision(), a.compact_revision(), a.len(), a.is_poisoned()), (b.revision(), b.compact_revision(), b.len(), b.is_poisoned()));
    let (rev, compact) = (a.revision(), a.compact_revision());
    // Revision 0 is the latest; below the compact revision both refuse alike.
    let revisions = std::iter::once(0).chain((compact - 1).max(1)..=rev + 1);
    for revision in revisions {
        for (flags, order, target, limit) in [(0, 0, 0, 0), (RANGE_KEYS_ONLY, 2, 0, 3), (RANGE_COUNT_ONLY, 0, 0, 0), (0, 1, 3, 2), (0, 2, 2, 0)] {
            assert_eq!(range_bytes(a, flags, order, target, limit, revision), range_bytes(b, flags, order, target, limit, revision), "range at {revision}");
        }
    }
    for from in compact - 1..=rev + 1 {
        assert_eq!(a.changes(from, b"", &[0], true), b.changes(from, b"", &[0], true), "changes from {from}");
        assert_eq!(a.changes(from, &key(3), &key(7), false), b.changes(from, &key(3), &key(7), false), "changes from {from}");
    }
    assert_eq!(a.lease_ids(), b.lease_ids());
    for id in a.lease_ids() {
        assert_eq!(a.lease_info(id), b.lease_info(id), "lease {id}");
    }
}

pub fn no_compaction_batches() -> impl Strategy<Value = Vec<Vec<TestOp>>> {
    let op = op_strategy().prop_filter("no compaction", |op| !matches!(op, TestOp::Compact { .. }));
    proptest::collection::vec(proptest::collection::vec(op, 0..12), 1..8)
}

pub fn apply_all(store: &Store, batches: &[Vec<TestOp>]) {
    for ops in batches {
        store.apply_batch(&encode(store, ops)).expect("batch accepted");
    }
}
