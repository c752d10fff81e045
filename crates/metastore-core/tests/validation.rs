//! A batch that fails validation is refused whole: the error names the first bad op and
//! nothing is applied.

mod common;

use common::put;
use metastore_core::codec::{
    BATCH_COUNT_AT, BATCH_HEADER_BYTES, BATCH_MAGIC, BATCH_VERSION_AT, CODEC_VERSION, OP_TXN, OP_TYPE_AT, PUT_IGNORE_LEASE, PUT_IGNORE_VALUE,
};
use metastore_core::{BatchBuilder, Config, ErrorNumber, Limits, Store};

fn good_then(bad: impl FnOnce(&mut BatchBuilder)) -> Vec<u8> {
    let mut b = BatchBuilder::new();
    b.put(b"a", b"1", 0, 0);
    bad(&mut b);
    b.put(b"b", b"2", 0, 0);
    b.finish()
}

#[test]
fn invalid_batches_are_refused_whole() {
    let limits = Limits { max_key_bytes: 8, max_value_bytes: 16, ..Limits::default() };
    let valid = good_then(|_| {});
    let mut cases: Vec<(&str, Vec<u8>, ErrorNumber, i64)> = vec![
        (
            "empty key",
            good_then(|b| {
                b.put(b"", b"x", 0, 0);
            }),
            ErrorNumber::KeyNotProvided,
            1,
        ),
        (
            "empty delete key",
            good_then(|b| {
                b.delete_range(b"", b"", false);
            }),
            ErrorNumber::KeyNotProvided,
            1,
        ),
        (
            "key too large",
            good_then(|b| {
                b.put(b"123456789", b"x", 0, 0);
            }),
            ErrorNumber::KeyTooLarge,
            1,
        ),
        (
            "value too large",
            good_then(|b| {
                b.put(b"k", &[7; 17], 0, 0);
            }),
            ErrorNumber::ValueTooLarge,
            1,
        ),
        (
            "ignoreValue with a value",
            good_then(|b| {
                b.put(b"k", b"x", 0, PUT_IGNORE_VALUE);
            }),
            ErrorNumber::ValueProvided,
            1,
        ),
        (
            "ignoreLease with a lease",
            good_then(|b| {
                b.put(b"k", b"", 5, PUT_IGNORE_LEASE);
            }),
            ErrorNumber::LeaseProvided,
            1,
        ),
        (
            "bad sort order",
            good_then(|b| {
                b.range(b"k", b"", 0, 3, 0, [0; 6]);
            }),
            ErrorNumber::InvalidSort,
            1,
        ),
        (
            "bad sort target",
            good_then(|b| {
                b.range(b"k", b"", 0, 0, 5, [0; 6]);
            }),
            ErrorNumber::InvalidSort,
            1,
        ),
        (
            "unsafe integer",
            good_then(|b| {
                b.put(b"k", b"x", 1 << 60, 0);
            }),
            ErrorNumber::MalformedBatch,
            1,
        ),
        (
            "undefined flag",
            good_then(|b| {
                b.put(b"k", b"x", 0, 0x80);
            }),
            ErrorNumber::MalformedBatch,
            1,
        ),
    ];
    let mut bad_magic = valid.clone();
    bad_magic[0] = b'X';
    cases.push(("bad magic", bad_magic, ErrorNumber::MalformedBatch, -1));
    let mut bad_version = valid.clone();
    bad_version[BATCH_VERSION_AT] = CODEC_VERSION + 1;
    cases.push(("bad version", bad_version, ErrorNumber::UnsupportedVersion, -1));
    let mut trailing = valid.clone();
    trailing.push(0);
    cases.push(("trailing bytes", trailing, ErrorNumber::MalformedBatch, -1));
    let mut extra_count = valid.clone();
    extra_count[BATCH_COUNT_AT] = 3;
    cases.push(("count beyond the ops", extra_count, ErrorNumber::MalformedBatch, 2));
    cases.push(("truncated", valid[..valid.len() - 1].to_vec(), ErrorNumber::MalformedBatch, 1));
    let mut unknown_type = valid.clone();
    unknown_type[BATCH_HEADER_BYTES + OP_TYPE_AT] = 9;
    cases.push(("unknown op type", unknown_type, ErrorNumber::MalformedBatch, 0));
    cases.push(("short header", BATCH_MAGIC.to_vec(), ErrorNumber::MalformedBatch, -1));

    for (name, batch, number, op_index) in cases {
        let store = Store::new(Config { limits, ..Config::default() });
        let err = store.apply_batch(&batch).expect_err(name);
        assert_eq!((err.number, err.op_index), (number, op_index), "{name}: {err}");
        assert_eq!(store.revision(), 1, "{name}: nothing applied");
        assert!(store.is_empty(), "{name}: nothing applied");
    }
}

#[test]
fn duplicate_keys_and_too_many_ops_refuse_the_batch() {
    let s = Store::default();
    let dup = {
        let mut b = BatchBuilder::new();
        b.txn(
            &[],
            |w| {
                put(w, "d", "1");
                put(w, "d", "2");
            },
            |_| {},
        );
        b.finish()
    };
    assert_eq!(s.apply_batch(&dup).unwrap_err().number, ErrorNumber::DuplicateKey);
    let nested_ok = {
        let mut b = BatchBuilder::new();
        b.txn(
            &[],
            |w| {
                w.txn(&[], |w| put(w, "k", "then"), |w| put(w, "k", "else"));
                w.delete_range(b"x", b"", false);
                w.delete_range(b"x", b"y", false);
            },
            |_| {},
        );
        b.finish()
    };
    assert!(s.apply_batch(&nested_ok).is_ok());
    let too_many = {
        let mut b = BatchBuilder::new();
        b.txn(
            &[],
            |w| {
                for i in 0..129 {
                    put(w, &format!("k{i}"), "v");
                }
            },
            |_| {},
        );
        b.finish()
    };
    assert_eq!(s.apply_batch(&too_many).unwrap_err().number, ErrorNumber::TooManyOps);
}

#[test]
fn state_dependent_failures_are_per_op_results() {
    let store = Store::default();
    let mut b = BatchBuilder::new();
    b.put(b"missing", b"", 0, PUT_IGNORE_VALUE);
    b.put(b"k", b"v", 7, 0);
    b.put(b"k", b"v", 0, 0);
    let (rev, results) = common::apply(&store, &b.finish());
    assert_eq!(rev, 2);
    assert_eq!(results[0], common::Res::Error { rev: 1, number: ErrorNumber::KeyNotFound as u16 });
    assert_eq!(results[1], common::Res::Error { rev: 1, number: ErrorNumber::LeaseNotFound as u16 });
    assert_eq!(results[2], common::Res::Put { rev: 2, prev: None });
}

/// A batch of one TXN chain `depth` levels deep around a put of k = v: each level's only op is
/// the next level, in its success branch, or in its failure branch where `in_failure(level)`.
/// Written without recursion, so any depth can be built.
fn nested_txn_batch(depth: usize, in_failure: impl Fn(usize) -> bool) -> Vec<u8> {
    let mut batch = BATCH_MAGIC.to_vec();
    batch.push(CODEC_VERSION);
    batch.extend_from_slice(&1u32.to_le_bytes());
    for level in 1..=depth {
        let (success, failure) = if in_failure(level) { (0u32, 1u32) } else { (1, 0) };
        batch.extend_from_slice(&[OP_TXN, 0]);
        batch.extend_from_slice(&0u32.to_le_bytes());
        batch.extend_from_slice(&success.to_le_bytes());
        batch.extend_from_slice(&failure.to_le_bytes());
    }
    let mut put = BatchBuilder::new();
    put.put(b"k", b"v", 0, 0);
    batch.extend_from_slice(&put.finish()[BATCH_HEADER_BYTES..]);
    batch
}

fn store_with_depth(max_txn_depth: usize) -> Store {
    // The op budget would cut a chain at 129 levels; only the depth limit is under test here.
    Store::new(Config { limits: Limits { max_txn_ops: 1 << 20, max_txn_depth, ..Limits::default() }, ..Config::default() })
}

#[test]
fn txn_nesting_is_accepted_up_to_max_txn_depth_and_refused_one_level_deeper() {
    for max in [1, 3, metastore_core::codec::DEFAULT_MAX_TXN_DEPTH] {
        let store = store_with_depth(max);
        let err = store.apply_batch(&nested_txn_batch(max + 1, |_| false)).expect_err("one level too deep");
        assert_eq!((err.number, err.op_index), (ErrorNumber::TxnTooDeep, 0), "max {max}: {err}");
        let err = store.apply_batch(&nested_txn_batch(max + 1, |level| level % 2 == 0)).expect_err("through failure branches");
        assert_eq!(err.number, ErrorNumber::TxnTooDeep, "max {max}: {err}");
        assert_eq!(store.revision(), 1, "max {max}: nothing applied");
        store.apply_batch(&nested_txn_batch(max, |_| false)).expect("at the limit");
        assert_eq!(store.get(b"k").map(|kv| kv.value.as_slice().to_vec()), Some(b"v".to_vec()), "max {max}");
    }
    assert_eq!(Limits::default().max_txn_depth, 64);
}

#[test]
fn a_txn_nested_far_past_the_limit_is_refused_not_a_stack_overflow() {
    let store = Store::default();
    let mut b = BatchBuilder::new();
    b.put(b"a", b"1", 0, 0);
    let mut batch = b.finish();
    batch[4] = 2;
    batch.extend_from_slice(&nested_txn_batch(10_000, |_| false)[8..]);
    let err = store.apply_batch(&batch).expect_err("10,000 levels");
    assert_eq!((err.number, err.op_index), (ErrorNumber::TxnTooDeep, 1), "{err}");
    assert!(store.is_empty(), "nothing applied");
    // A configured limit above the ceiling counts as the ceiling: the recursion stays bounded.
    // Decoding and applying recurse once per level, up to the ceiling here, and unoptimised
    // frames are several times the release ones (512 levels take ~0.6 MiB of stack in a release
    // build): this part gets a thread with a larger stack than a test thread's 2 MiB.
    let ceiling = metastore_core::codec::TXN_DEPTH_CEILING;
    let outcomes = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            let store = store_with_depth(usize::MAX);
            let refused = [1_000_000, ceiling + 1].map(|depth| store.apply_batch(&nested_txn_batch(depth, |_| false)).map(|_| ()).map_err(|e| e.number));
            let at_ceiling = store.apply_batch(&nested_txn_batch(ceiling, |_| false)).map(|_| store.revision()).map_err(|e| e.number);
            (refused, at_ceiling)
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(outcomes, ([Err(ErrorNumber::TxnTooDeep), Err(ErrorNumber::TxnTooDeep)], Ok(2)));
}
