//! Transactions (etcd's txn.go at engine level): one revision for all of a TXN's writes, with
//! per-op result headers; compares on missing keys and ranges; a taken branch that fails its
//! checks applies nothing.

mod common;

use common::{dump, one, put, Res};
use metastore_core::{ErrorNumber, Store};

const VERSION: u8 = 0;
const MOD: u8 = 2;
const VALUE: u8 = 3;
const EQUAL: u8 = 0;
const GREATER: u8 = 1;

#[test]
fn txn_with_three_writes_takes_one_revision_and_reports_per_op_headers() {
    let s = Store::default();
    one(&s, |b| put(b, "a", "1")); // rev 2
    let r = one(&s, |b| {
        b.txn(
            &[(VALUE, EQUAL, 0, b"a", b"", b"1")],
            |w| {
                w.range(b"a", b"", 0, 0, 0, [0; 6]);
                put(w, "x1", "v1");
                w.range(b"x1", b"", 0, 0, 0, [0; 6]);
                put(w, "x2", "v2");
                w.delete_range(b"a", b"", false);
            },
            |w| put(w, "fail", "1"),
        );
    });
    let Res::Txn { rev, succeeded, responses } = r else { panic!("{r:?}") };
    assert!(succeeded);
    assert_eq!(rev, 3);
    let revs: Vec<i64> = responses
        .iter()
        .map(|r| match r {
            Res::Range { rev, .. } | Res::Put { rev, .. } | Res::Delete { rev, .. } => *rev,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(revs, vec![2, 3, 3, 3, 3]);
    assert_eq!(s.revision(), 3);
    let kvs = dump(&s);
    assert_eq!(kvs.iter().map(|kv| (kv.key.clone(), kv.modr)).collect::<Vec<_>>(), vec![(b"x1".to_vec(), 3), (b"x2".to_vec(), 3)]);
}

#[test]
fn txn_compares_missing_keys_and_ranges_like_etcd() {
    let s = Store::default();
    one(&s, |b| put(b, "p/a", "1"));
    one(&s, |b| put(b, "p/b", "2"));
    let succeeded = |cmp: (u8, u8, i64, &[u8], &[u8], &[u8])| match one(&s, |b| {
        b.txn(&[cmp], |_| {}, |_| {});
    }) {
        Res::Txn { succeeded, .. } => succeeded,
        other => panic!("{other:?}"),
    };
    assert!(!succeeded((VALUE, EQUAL, 0, b"missing", b"", b"")), "VALUE on a missing key is false");
    assert!(succeeded((VERSION, EQUAL, 0, b"missing", b"", b"")), "a missing key compares as zero");
    assert!(succeeded((MOD, GREATER, 0, b"p/", b"p0", b"")), "every key of the range");
    assert!(!succeeded((MOD, GREATER, 2, b"p/", b"p0", b"")), "p/a has mod 2");
    assert_eq!(s.revision(), 3, "read-only txns do not bump");
}

#[test]
fn txn_failing_its_taken_branch_checks_applies_nothing() {
    let s = Store::default();
    let r = one(&s, |b| {
        b.txn(
            &[],
            |w| {
                put(w, "a", "1");
                w.put(b"b", b"2", 42, 0);
            },
            |w| {
                w.put(b"c", b"3", 99, 0); // untaken: its missing lease does not matter
            },
        );
    });
    assert_eq!(r, Res::Error { rev: 1, number: ErrorNumber::LeaseNotFound as u16 });
    assert!(s.is_empty());
    let r = one(&s, |b| {
        b.txn(
            &[(VALUE, EQUAL, 0, b"nope", b"", b"x")],
            |w| {
                w.put(b"c", b"3", 99, 0);
            },
            |w| put(w, "d", "4"),
        );
    });
    assert!(matches!(r, Res::Txn { succeeded: false, rev: 2, .. }));
}
