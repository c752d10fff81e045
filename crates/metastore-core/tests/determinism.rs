//! Apply is a pure function of the ops: one by one, as one batch, split anyhow, serial or
//! parallel on any thread count, with the index brought up to date before apply returns or
//! after, the results and the state are the same.

mod common;

use common::{apply, dump, Res};
use metastore_core::codec::{PUT_IGNORE_LEASE, PUT_IGNORE_VALUE, PUT_PREV_KV};
use metastore_core::{BatchBuilder, Config, Store};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum TestOp {
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
        limit: i64,
        order: u8,
        target: u8,
        flags: u8,
        revision: i64,
    },
    Grant {
        id: i64,
    },
    Revoke {
        id: i64,
    },
    Compact {
        back: i64,
    },
    /// if version(key) > n then put key2 else delete key2
    Txn {
        key: u8,
        n: i64,
        key2: u8,
    },
}

fn key(k: u8) -> Vec<u8> {
    vec![b'k', b'0' + k]
}

fn op_strategy() -> impl Strategy<Value = TestOp> {
    prop_oneof![
        6 => (0u8..10, proptest::collection::vec(any::<u8>(), 0..4), 0u8..8, prop_oneof![6 => Just(0i64), 1 => Just(1i64), 1 => Just(2i64)]).prop_map(
            |(key, value, flags, lease)| {
                // ignoreValue needs an empty value and ignoreLease lease 0 (else the batch is refused).
                let value = if flags & PUT_IGNORE_VALUE != 0 { vec![] } else { value };
                let lease = if flags & PUT_IGNORE_LEASE != 0 { 0 } else { lease };
                TestOp::Put { key, value, flags: flags & (PUT_PREV_KV | PUT_IGNORE_VALUE | PUT_IGNORE_LEASE), lease }
            }
        ),
        3 => (0u8..10, proptest::option::weighted(0.3, 0u8..11), any::<bool>()).prop_map(|(key, end, prev)| TestOp::Delete { key, end, prev }),
        1 => (0u8..10, 0u8..11, 0i64..4, 0u8..3, 0u8..5, 0u8..4, 0i64..6).prop_map(|(key, end, limit, order, target, flags, revision)| TestOp::Range { key, end, limit, order, target, flags, revision }),
        1 => (1i64..3).prop_map(|id| TestOp::Grant { id }),
        1 => (1i64..3).prop_map(|id| TestOp::Revoke { id }),
        1 => (0i64..4).prop_map(|back| TestOp::Compact { back }),
        1 => (0u8..10, 0i64..3, 0u8..10).prop_map(|(key, n, key2)| TestOp::Txn { key, n, key2 }),
    ]
}

/// Ops that name a revision (ranges, compactions) use small absolute ones: every run starts from a
/// fresh store, so the outcome, errors for future or compacted revisions included, must agree.
fn encode(ops: &[TestOp]) -> Vec<u8> {
    let mut b = BatchBuilder::new();
    for op in ops {
        match op {
            TestOp::Put { key: k, value, flags, lease } => b.put(&key(*k), value, *lease, *flags),
            TestOp::Delete { key: k, end, prev } => b.delete_range(&key(*k), &end.map(key).unwrap_or_default(), *prev),
            TestOp::Range { key: k, end, limit, order, target, flags, revision } => {
                b.range(&key(*k), &key(*end), *flags, *order, *target, [*limit, *revision, 0, 0, 0, 0])
            }
            TestOp::Grant { id } => b.lease_grant(*id, 60),
            TestOp::Revoke { id } => b.lease_revoke(*id),
            TestOp::Compact { back } => b.compact(*back),
            TestOp::Txn { key: k, n, key2 } => b.txn(
                &[(0, 1, *n, &key(*k), &[], &[])],
                |w| {
                    w.put(&key(*key2), b"t", 0, 0);
                },
                |w| {
                    w.delete_range(&key(*key2), &[], true);
                },
            ),
        };
    }
    b.finish()
}

fn run(store: &Store, batches: &[Vec<u8>]) -> (Vec<Res>, Vec<common::Kv>, i64) {
    let results = batches.iter().flat_map(|b| apply(store, b).1).collect();
    (results, dump(store), store.revision())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn batch_split_and_thread_count_do_not_change_the_outcome(
        ops in proptest::collection::vec(op_strategy(), 0..60),
        cuts in proptest::collection::vec(0usize..60, 0..5),
    ) {
        let one_by_one: Vec<Vec<u8>> = ops.iter().map(|op| encode(std::slice::from_ref(op))).collect();
        let expected = run(&Store::default(), &one_by_one);

        let whole = vec![encode(&ops)];
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c.min(ops.len())).collect();
        bounds.extend([0, ops.len()]);
        bounds.sort_unstable();
        let split: Vec<Vec<u8>> = bounds.windows(2).map(|w| encode(&ops[w[0]..w[1]])).collect();

        // Background index inserts from 1 key: every batch that makes a key live leaves the
        // index to a pool thread, and every later read and batch must wait for it.
        for (threshold, threads, background) in [(usize::MAX, 0, usize::MAX), (2, 1, usize::MAX), (2, 2, 1), (3, 0, usize::MAX), (usize::MAX, 1, 1), (2, 1, 1)] {
            let config = Config { parallel_threshold: threshold, threads, background_index_min: background, ..Config::default() };
            prop_assert_eq!(&run(&Store::new(config.clone()), &whole), &expected, "whole, threshold {} threads {} background {}", threshold, threads, background);
            prop_assert_eq!(&run(&Store::new(config), &split), &expected, "split, threshold {} threads {} background {}", threshold, threads, background);
        }
    }
}
