//! A batch that fails validation is refused whole: the error names the first bad op and
//! nothing is applied.

mod common;

use metastore_core::codec::{PUT_IGNORE_LEASE, PUT_IGNORE_VALUE};
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
        ("empty key", good_then(|b| { b.put(b"", b"x", 0, 0); }), ErrorNumber::KeyNotProvided, 1),
        ("empty delete key", good_then(|b| { b.delete_range(b"", b"", false); }), ErrorNumber::KeyNotProvided, 1),
        ("key too large", good_then(|b| { b.put(b"123456789", b"x", 0, 0); }), ErrorNumber::KeyTooLarge, 1),
        ("value too large", good_then(|b| { b.put(b"k", &[7; 17], 0, 0); }), ErrorNumber::ValueTooLarge, 1),
        ("ignoreValue with a value", good_then(|b| { b.put(b"k", b"x", 0, PUT_IGNORE_VALUE); }), ErrorNumber::ValueProvided, 1),
        ("ignoreLease with a lease", good_then(|b| { b.put(b"k", b"", 5, PUT_IGNORE_LEASE); }), ErrorNumber::LeaseProvided, 1),
        ("bad sort order", good_then(|b| { b.range(b"k", b"", 0, 3, 0, [0; 6]); }), ErrorNumber::InvalidSort, 1),
        ("bad sort target", good_then(|b| { b.range(b"k", b"", 0, 0, 5, [0; 6]); }), ErrorNumber::InvalidSort, 1),
        ("unsafe integer", good_then(|b| { b.put(b"k", b"x", 1 << 60, 0); }), ErrorNumber::MalformedBatch, 1),
        ("undefined flag", good_then(|b| { b.put(b"k", b"x", 0, 0x80); }), ErrorNumber::MalformedBatch, 1),
    ];
    let mut bad_magic = valid.clone();
    bad_magic[0] = b'X';
    cases.push(("bad magic", bad_magic, ErrorNumber::MalformedBatch, -1));
    let mut bad_version = valid.clone();
    bad_version[3] = 2;
    cases.push(("bad version", bad_version, ErrorNumber::UnsupportedVersion, -1));
    let mut trailing = valid.clone();
    trailing.push(0);
    cases.push(("trailing bytes", trailing, ErrorNumber::MalformedBatch, -1));
    let mut extra_count = valid.clone();
    extra_count[4] = 3;
    cases.push(("count beyond the ops", extra_count, ErrorNumber::MalformedBatch, 2));
    cases.push(("truncated", valid[..valid.len() - 1].to_vec(), ErrorNumber::MalformedBatch, 1));
    let mut unknown_type = valid.clone();
    unknown_type[8] = 9;
    cases.push(("unknown op type", unknown_type, ErrorNumber::MalformedBatch, 0));
    cases.push(("short header", b"MSB".to_vec(), ErrorNumber::MalformedBatch, -1));

    for (name, batch, number, op_index) in cases {
        let store = Store::new(Config { limits, ..Config::default() });
        let err = store.apply_batch(&batch).expect_err(name);
        assert_eq!((err.number, err.op_index), (number, op_index), "{name}: {err}");
        assert_eq!(store.revision(), 1, "{name}: nothing applied");
        assert!(store.is_empty(), "{name}: nothing applied");
    }
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
