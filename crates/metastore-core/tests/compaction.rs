//! Compaction at engine level (etcd's compact, with the #18089 fix): the newest version at or
//! below the revision stays, and a deletion at it too, so a watch from there still sees it.

mod common;

use common::{one, put, Res};
use metastore_core::{ErrorNumber, Store};

#[test]
fn compaction_keeps_the_newest_version_at_or_below_and_the_tombstone_at_it() {
    let s = Store::default();
    one(&s, |b| put(b, "k", "v2")); // 2
    one(&s, |b| put(b, "k", "v3")); // 3
    one(&s, |b| {
        b.delete_range(b"k", b"", false);
    }); // 4
    one(&s, |b| put(b, "k", "v5")); // 5
    assert_eq!(
        one(&s, |b| {
            b.compact(4);
        }),
        Res::Compact { rev: 5 }
    );
    assert_eq!(
        one(&s, |b| {
            b.compact(4);
        }),
        Res::Error { rev: 5, number: ErrorNumber::Compacted as u16 }
    );
    assert_eq!(
        one(&s, |b| {
            b.compact(6);
        }),
        Res::Error { rev: 5, number: ErrorNumber::FutureRev as u16 }
    );
    // A watch from 4 still sees the delete at 4, then the put at 5 (etcd #18089, fixed).
    let events = common::events_at(&s.changes(4, b"k", b"", false).unwrap(), 0);
    assert_eq!(events.iter().map(|e| (e.delete, e.kv.modr)).collect::<Vec<_>>(), vec![(true, 4), (false, 5)]);
    assert_eq!(s.changes(3, b"k", b"", false), Err(ErrorNumber::Compacted));
}
