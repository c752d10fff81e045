//! A store directory (`LOCK`, `snap/`, `wal/`): `open_store` restores the newest snapshot that
//! checks out and opens the log after it, refusing a log that does not reach back to the
//! snapshot or up to it; `verify_store` says the same without opening; `repair_store` makes it
//! open, reporting what it dropped.

mod common;

use common::*;
use metastore_wal::{open_store, repair_store, verify_store, write_snapshot, OpenedStore, Snapshot, WalError};
use std::path::Path;

const GROUPS: u64 = 120;
const TOTAL: u64 = GROUPS * 3;

fn open(dir: &Path) -> Result<OpenedStore, WalError> {
    open_store(dir, small(), &mut |s: &Snapshot| if s.payload == format!("state@{}", s.index).into_bytes() { Ok(()) } else { Err("not my state".into()) })
}

fn verify(dir: &Path) -> metastore_wal::StoreVerify {
    verify_store(dir, &mut |s: &Snapshot| String::from_utf8(s.payload.clone()).map_err(|e| e.to_string())).unwrap()
}

/// A store with `GROUPS` groups of 3 entries and snapshots at `snapshots`; purged through
/// `purge` when given; closed cleanly or not.
fn build(dir: &Path, snapshots: &[u64], purge: Option<u64>, closed: bool) {
    let mut store = open(dir).unwrap();
    append_groups(&mut store.wal, GROUPS);
    for &k in snapshots {
        write_snapshot(&store.snap_dir, k, 1, format!("state@{k}").as_bytes()).unwrap();
    }
    if let Some(through) = purge {
        assert!(store.wal.purge_through(through).unwrap() > 0);
    }
    if closed {
        store.wal.close().unwrap();
    }
}

#[test]
fn a_store_opens_from_its_newest_snapshot_and_the_log_after_it_under_its_lock() {
    let dir = temp_dir("store-open");
    build(&dir, &[150, 200], Some(200), true);
    let mut restored = Vec::new();
    let store = open_store(&dir, small(), &mut |s: &Snapshot| {
        restored.push((s.index, s.payload.clone()));
        Ok(())
    })
    .unwrap();
    assert_eq!(restored, vec![(200, b"state@200".to_vec())]);
    assert_eq!(store.recovery.snapshot_index, 200);
    assert_entries(&store.entries, 201, TOTAL, "entries after the snapshot");
    assert!(store.wal.first_index() <= 201 && store.wal.first_index() > 1);
    assert!(matches!(open(&dir), Err(WalError::Locked(_))));
    let v = verify(&dir);
    assert!(v.ok && v.locked, "{}", v.text);
    drop(store);
    assert!(!verify(&dir).locked);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// How the store opens (or not) after some damage, and that verify says the same and repair
/// makes it open.
#[test]
fn open_verify_and_repair_of_a_store_agree() {
    type Damage = fn(&Path);
    struct Case {
        what: &'static str,
        snapshots: &'static [u64],
        purge: Option<u64>,
        closed: bool,
        damage: Damage,
        /// `Ok(first entry returned)` or `Err(the gist of the reason)`.
        opens: Result<u64, &'static str>,
        /// The last index after `repair_store`.
        repaired_last: u64,
    }
    let cases = [
        Case { what: "healthy", snapshots: &[200], purge: Some(200), closed: true, damage: |_| {}, opens: Ok(201), repaired_last: TOTAL },
        Case {
            what: "torn last append",
            snapshots: &[200],
            purge: None,
            closed: false,
            damage: |d| {
                let seg = segments(&d.join("wal")).pop().unwrap();
                let r = last_entries(&seg);
                zero_range(&seg, r.offset + 40, SEGMENT_SIZE as usize);
            },
            opens: Ok(201),
            repaired_last: TOTAL - 3,
        },
        Case {
            what: "damage the snapshot covers",
            snapshots: &[200],
            purge: None,
            closed: true,
            damage: |d| flip_bit(&segments(&d.join("wal"))[0], 300),
            opens: Ok(201),
            repaired_last: TOTAL,
        },
        Case {
            what: "damage after the snapshot",
            snapshots: &[100],
            purge: None,
            closed: true,
            damage: |d| flip_bit(&segments(&d.join("wal"))[3], 300),
            opens: Err("record"),
            repaired_last: 0, // computed below
        },
        Case {
            what: "damaged newest snapshot, the older one is used",
            snapshots: &[100, 200],
            purge: None,
            closed: true,
            damage: |d| flip_bit(&d.join("snap").join(format!("{:016x}.snap", 200)), 50),
            opens: Ok(101),
            repaired_last: TOTAL,
        },
        Case {
            what: "log purged past the snapshot",
            snapshots: &[100],
            purge: Some(300),
            closed: true,
            damage: |_| {},
            opens: Err("entries in between are missing"),
            repaired_last: 100,
        },
        Case {
            what: "log missing, snapshot present",
            snapshots: &[100],
            purge: None,
            closed: true,
            damage: |d| std::fs::remove_dir_all(d.join("wal")).unwrap(),
            opens: Err("missing"),
            repaired_last: 100,
        },
        Case {
            what: "log ends before the snapshot",
            snapshots: &[400],
            purge: None,
            closed: true,
            damage: |_| {},
            opens: Err("before the snapshot at 400"),
            repaired_last: 400,
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let what = case.what;
        let dir = temp_dir(&format!("store-agree-{i}"));
        build(&dir, case.snapshots, case.purge, case.closed);
        (case.damage)(&dir);
        let v = verify(&dir);
        assert!(!v.locked, "{what}");
        let mut repaired_last = case.repaired_last;
        match (open(&dir), case.opens) {
            (Ok(store), Ok(first)) => {
                assert!(v.ok, "{what}: verify says no:\n{}", v.text);
                assert_eq!(store.entries.first().map(|e| e.index), Some(first), "{what}");
                assert_eq!(store.entries.last().map(|e| e.index), Some(store.wal.last_index()), "{what}");
                if what.starts_with("damaged newest") {
                    assert_eq!(store.recovery.skipped_snapshots.len(), 1, "{what}");
                    assert!(v.text.contains("damaged"), "{what}: {}", v.text);
                }
                if what.starts_with("damage the snapshot covers") {
                    assert!(!store.recovery.covered_damage.is_empty(), "{what}");
                }
                if what.starts_with("torn") {
                    assert!(store.recovery.truncated.is_some(), "{what}");
                }
                drop(store);
            }
            (Err(WalError::Corrupt { reason, .. }), Err(gist)) => {
                assert!(reason.contains(gist), "{what}: {reason}");
                assert!(!v.ok, "{what}: verify says it opens:\n{}", v.text);
                if what == "damage after the snapshot" {
                    let seg = segments(&dir.join("wal"))[3].clone();
                    let damaged = records(&seg).into_iter().find(|r| r.offset <= 300 && 300 < r.end).unwrap();
                    repaired_last = if damaged.kind == ENTRIES { damaged.first - 1 } else { damaged.last };
                }
            }
            (Ok(_), Err(gist)) => panic!("{what}: opened, expected an error about {gist:?}"),
            (Err(e), _) => panic!("{what}: {e}"),
        }
        // Repair makes it open, and a second repair has nothing to do.
        let repaired = repair_store(&dir, small(), &mut |_: &Snapshot| Ok(())).unwrap();
        assert_eq!(repaired.log.last_index, repaired_last, "{what}: {}", repaired.log);
        if case.opens.is_ok() {
            assert!(repaired.log.actions.is_empty(), "{what}: {}", repaired.log);
        } else {
            assert!(!repaired.log.actions.is_empty(), "{what}");
        }
        if what == "log purged past the snapshot" {
            let first_left = repaired.log.dropped.first().map(|e| e.index).unwrap();
            assert!(first_left > 101, "{what}");
            assert_eq!(indexes(&repaired.log.dropped), (first_left..=TOTAL).collect::<Vec<_>>(), "{what}");
        }
        assert!(repair_store(&dir, small(), &mut |_: &Snapshot| Ok(())).unwrap().log.actions.is_empty(), "{what}: second repair");
        let store = open(&dir).unwrap_or_else(|e| panic!("{what}: open after repair: {e}"));
        assert_eq!(store.wal.last_index(), repaired_last, "{what}");
        assert!(verify(&dir).locked, "{what}");
        drop(store);
        assert!(verify(&dir).ok, "{what}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A snapshot the caller cannot decode stops the store from opening (it is not skipped for an
/// older one: the state is the caller's), and repair refuses it too.
#[test]
fn a_snapshot_that_does_not_decode_stops_open_verify_and_repair() {
    let dir = temp_dir("store-undecodable");
    build(&dir, &[200], None, true);
    std::fs::write(dir.join("snap").join(format!("{:016x}.snap", 200)), b"").unwrap();
    let path = write_snapshot(&dir.join("snap"), 250, 1, b"not the state").unwrap();
    let (segment, _, reason) = corrupt(open(&dir).map(drop), "undecodable snapshot");
    assert_eq!(segment, path);
    assert!(reason.contains("snapshot does not decode: not my state"), "{reason}");
    let v = verify_store(&dir, &mut |_: &Snapshot| Err("bad".to_string())).unwrap();
    assert!(!v.ok && v.text.contains("does not decode"), "{}", v.text);
    assert!(matches!(repair_store(&dir, small(), &mut |_: &Snapshot| Err("bad".to_string())), Err(WalError::Corrupt { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}
