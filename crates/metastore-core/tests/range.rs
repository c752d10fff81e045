//! Range reads: key ranges, count, limit/more, order, filters, revisions.

mod common;

use common::{apply, result_at, Res};
use metastore_core::{BatchBuilder, ErrorNumber, Store};

fn store_abcde() -> Store {
    let store = Store::default();
    let mut b = BatchBuilder::new();
    // Values sort opposite to keys; "c" is written twice (version 2, mod 7).
    for (k, v) in [("a", "5"), ("b", "4"), ("c", "3"), ("d", "2"), ("e", "1"), ("c", "3")] {
        b.put(k.as_bytes(), v.as_bytes(), 0, 0);
    }
    apply(&store, &b.finish());
    store
}

fn range(store: &Store, key: &[u8], end: &[u8], flags: u8, order: u8, target: u8, ints: [i64; 6]) -> Result<(bool, i64, Vec<String>), ErrorNumber> {
    let req = BatchBuilder::new().range(key, end, flags, order, target, ints).finish();
    let out = store.range_request(&req, Vec::new()).map_err(|e| e.number)?;
    match result_at(&out, 0) {
        Res::Range { more, count, kvs, .. } => Ok((more, count, kvs.into_iter().map(|kv| String::from_utf8(kv.key).unwrap()).collect())),
        other => panic!("{other:?}"),
    }
}

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn key_ranges_limits_and_counts() {
    let s = store_abcde();
    let none = [0; 6];
    let limit = |n| [n, 0, 0, 0, 0, 0];
    let table: Vec<(&str, &[u8], &[u8], [i64; 6], (bool, i64, Vec<String>))> = vec![
        ("single key", b"c", b"", none, (false, 1, keys(&["c"]))),
        ("missing key", b"cc", b"", none, (false, 0, keys(&[]))),
        ("half-open", b"b", b"d", none, (false, 2, keys(&["b", "c"]))),
        ("empty interval", b"c", b"c", none, (false, 0, keys(&[]))),
        ("inverted interval", b"d", b"b", none, (false, 0, keys(&[]))),
        ("from key", b"c", &[0], none, (false, 3, keys(&["c", "d", "e"]))),
        ("every key", &[0], &[0], none, (false, 5, keys(&["a", "b", "c", "d", "e"]))),
        ("limit 2 of 5", &[0], &[0], limit(2), (true, 5, keys(&["a", "b"]))),
        ("limit equal to count", &[0], &[0], limit(5), (false, 5, keys(&["a", "b", "c", "d", "e"]))),
    ];
    for (name, key, end, ints, expected) in table {
        assert_eq!(range(&s, key, end, 0, 0, 0, ints).unwrap(), expected, "{name}");
    }
}

#[test]
fn order_targets_and_filters() {
    let s = store_abcde();
    let all: (&[u8], &[u8]) = (&[0], &[0]);
    let r = |order, target, ints| range(&s, all.0, all.1, 0, order, target, ints).unwrap();
    assert_eq!(r(2, 0, [2, 0, 0, 0, 0, 0]), (true, 5, keys(&["e", "d"])), "key descend, limit");
    assert_eq!(r(0, 4, [0; 6]).2, keys(&["e", "d", "c", "b", "a"]), "value, order none = ascend");
    assert_eq!(r(2, 1, [0; 6]).2, keys(&["c", "a", "b", "d", "e"]), "version descend, ties by key");
    assert_eq!(r(1, 3, [0; 6]).2, keys(&["a", "b", "d", "e", "c"]), "mod ascend");
    // min mod 4 keeps c (7), d (5), e (6): count stays 5, more after filtering.
    assert_eq!(r(0, 0, [2, 0, 4, 0, 0, 0]), (true, 5, keys(&["c", "d"])), "min mod filter");
    assert_eq!(r(0, 0, [0, 0, 0, 0, 0, 3]), (false, 5, keys(&["a", "b"])), "max create filter");
    assert_eq!(range(&s, all.0, all.1, 2, 0, 0, [1, 0, 0, 0, 0, 0]).unwrap(), (false, 5, vec![]), "count only");
}

#[test]
fn past_revisions_read_history_until_compacted() {
    let s = store_abcde();
    assert_eq!(s.revision(), 7);
    assert!(range(&s, b"a", b"", 0, 0, 0, [0, 7, 0, 0, 0, 0]).is_ok());
    assert_eq!(range(&s, b"a", b"", 0, 0, 0, [0, 8, 0, 0, 0, 0]), Err(ErrorNumber::FutureRev));
    // History: at revision 3 only a (2) and b (3) existed.
    assert_eq!(range(&s, &[0], &[0], 0, 0, 0, [0, 3, 0, 0, 0, 0]), Ok((false, 2, keys(&["a", "b"]))));
    let mut b = BatchBuilder::new();
    b.compact(5);
    apply(&s, &b.finish());
    assert_eq!(range(&s, b"a", b"", 0, 0, 0, [0, 4, 0, 0, 0, 0]), Err(ErrorNumber::Compacted));
    assert_eq!(range(&s, &[0], &[0], 0, 0, 0, [0, 5, 0, 0, 0, 0]).unwrap().2, keys(&["a", "b", "c", "d"]));
}

#[test]
fn range_over_many_keys_returns_the_first_limit_keys() {
    let store = Store::default();
    let mut b = BatchBuilder::new();
    for i in 0..100_000u32 {
        b.put(format!("key-{i:08}").as_bytes(), b"v", 0, 0);
    }
    apply(&store, &b.finish());
    let (more, count, got) = range(&store, b"key-00050000", &[0], 0, 0, 0, [10, 0, 0, 0, 0, 0]).unwrap();
    assert!(more);
    assert_eq!(count, 50_000);
    assert_eq!(got, (50_000..50_010).map(|i| format!("key-{i:08}")).collect::<Vec<_>>());
}
