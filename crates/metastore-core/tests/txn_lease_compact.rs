//! Transactions, leases, compaction and events: the etcd golden cases at engine level.

mod common;

use common::{apply, batch_events, dump, Res};
use metastore_core::{BatchBuilder, ErrorNumber, EventsMode, Store};

const VERSION: u8 = 0;
const MOD: u8 = 2;
const VALUE: u8 = 3;
const EQUAL: u8 = 0;
const GREATER: u8 = 1;

fn put(b: &mut BatchBuilder, k: &str, v: &str) {
    b.put(k.as_bytes(), v.as_bytes(), 0, 0);
}

fn one(store: &Store, f: impl FnOnce(&mut BatchBuilder)) -> Res {
    let mut b = BatchBuilder::new();
    f(&mut b);
    apply(store, &b.finish()).1.remove(0)
}

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
        b.txn(&[], |w| {
            put(w, "a", "1");
            w.put(b"b", b"2", 42, 0);
        }, |w| {
            w.put(b"c", b"3", 99, 0); // untaken: its missing lease does not matter
        });
    });
    assert_eq!(r, Res::Error { rev: 1, number: ErrorNumber::LeaseNotFound as u16 });
    assert!(s.is_empty());
    let r = one(&s, |b| {
        b.txn(&[(VALUE, EQUAL, 0, b"nope", b"", b"x")], |w| { w.put(b"c", b"3", 99, 0); }, |w| put(w, "d", "4"));
    });
    assert!(matches!(r, Res::Txn { succeeded: false, rev: 2, .. }));
}

#[test]
fn duplicate_keys_and_too_many_ops_refuse_the_batch() {
    let s = Store::default();
    let dup = {
        let mut b = BatchBuilder::new();
        b.txn(&[], |w| {
            put(w, "d", "1");
            put(w, "d", "2");
        }, |_| {});
        b.finish()
    };
    assert_eq!(s.apply_batch(&dup).unwrap_err().number, ErrorNumber::DuplicateKey);
    let nested_ok = {
        let mut b = BatchBuilder::new();
        b.txn(&[], |w| {
            w.txn(&[], |w| put(w, "k", "then"), |w| put(w, "k", "else"));
            w.delete_range(b"x", b"", false);
            w.delete_range(b"x", b"y", false);
        }, |_| {});
        b.finish()
    };
    assert!(s.apply_batch(&nested_ok).is_ok());
    let too_many = {
        let mut b = BatchBuilder::new();
        b.txn(&[], |w| {
            for i in 0..129 {
                put(w, &format!("k{i}"), "v");
            }
        }, |_| {});
        b.finish()
    };
    assert_eq!(s.apply_batch(&too_many).unwrap_err().number, ErrorNumber::TooManyOps);
}

#[test]
fn lease_revoke_deletes_attached_keys_in_key_order_in_one_revision() {
    let s = Store::default();
    assert_eq!(one(&s, |b| { b.lease_grant(0, 1); }), Res::LeaseGrant { rev: 1, id: 1, ttl: 2 });
    assert_eq!(one(&s, |b| { b.lease_grant(1, 30); }), Res::Error { rev: 1, number: ErrorNumber::LeaseExists as u16 });
    one(&s, |b| {
        b.put(b"lb", b"1", 1, 0);
        b.put(b"la", b"2", 1, 0);
        b.put(b"moved", b"3", 1, 0);
        b.put(b"moved", b"4", 0, 0); // a put without lease detaches
    });
    let (ttl, keys) = s.lease_info(1).unwrap();
    assert_eq!((ttl, keys.iter().map(|k| k.to_vec()).collect::<Vec<_>>()), (2, vec![b"la".to_vec(), b"lb".to_vec()]));
    let mut b = BatchBuilder::new();
    b.lease_revoke(1);
    let out = s.apply_batch_into(&b.finish(), Vec::new(), EventsMode::Events).unwrap();
    let (rev, results) = common::decode(&out);
    assert_eq!((rev, &results[0]), (6, &Res::LeaseRevoke { rev: 6 }));
    let events = batch_events(&out);
    assert_eq!(events.iter().map(|e| (e.delete, e.kv.key.clone(), e.kv.modr, e.sub)).collect::<Vec<_>>(), vec![
        (true, b"la".to_vec(), 6, 0),
        (true, b"lb".to_vec(), 6, 1)
    ]);
    assert!(s.lease_info(1).is_none());
    assert_eq!(one(&s, |b| { b.lease_revoke(1); }), Res::Error { rev: 6, number: ErrorNumber::LeaseNotFound as u16 });
}

#[test]
fn compaction_keeps_the_newest_version_at_or_below_and_the_tombstone_at_it() {
    let s = Store::default();
    one(&s, |b| put(b, "k", "v2")); // 2
    one(&s, |b| put(b, "k", "v3")); // 3
    one(&s, |b| { b.delete_range(b"k", b"", false); }); // 4
    one(&s, |b| put(b, "k", "v5")); // 5
    assert_eq!(one(&s, |b| { b.compact(4); }), Res::Compact { rev: 5 });
    assert_eq!(one(&s, |b| { b.compact(4); }), Res::Error { rev: 5, number: ErrorNumber::Compacted as u16 });
    assert_eq!(one(&s, |b| { b.compact(6); }), Res::Error { rev: 5, number: ErrorNumber::FutureRev as u16 });
    // A watch from 4 still sees the delete at 4, then the put at 5 (etcd #18089, fixed).
    let events = common::events_at(&s.changes(4, b"k", b"", false).unwrap(), 0);
    assert_eq!(events.iter().map(|e| (e.delete, e.kv.modr)).collect::<Vec<_>>(), vec![(true, 4), (false, 5)]);
    assert_eq!(s.changes(3, b"k", b"", false), Err(ErrorNumber::Compacted));
}

#[test]
fn events_carry_prev_kv_in_mode_two() {
    let s = Store::default();
    one(&s, |b| put(b, "k", "old"));
    let mut b = BatchBuilder::new();
    put(&mut b, "k", "new");
    b.delete_range(b"k", b"", false);
    let out = s.apply_batch_into(&b.finish(), Vec::new(), EventsMode::EventsWithPrev).unwrap();
    let events = batch_events(&out);
    assert_eq!(events.len(), 2);
    assert_eq!((events[0].kv.value.as_slice(), events[0].prev.as_ref().unwrap().value.as_slice()), (&b"new"[..], &b"old"[..]));
    assert!(events[1].delete);
    assert_eq!((events[1].kv.version, events[1].kv.modr), (0, 4));
    assert_eq!(events[1].prev.as_ref().unwrap().value, b"new".to_vec());
}

