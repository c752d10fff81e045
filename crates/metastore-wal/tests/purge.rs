//! Purging segments a snapshot covers, and opening after a snapshot index.

mod common;

use common::*;
use metastore_wal::Wal;

const GROUPS: u64 = 120;
const TOTAL: u64 = GROUPS * 3;

#[test]
fn purge_deletes_whole_segments_at_or_below_the_index_and_the_log_reopens_from_what_is_left() {
    let probe = temp_dir("purge-probe");
    let segs = fill(&probe, GROUPS);
    let firsts: Vec<u64> = segs.iter().map(|s| first_index_of(s)).collect();
    assert!(firsts.len() >= 5, "small segments rotate: {firsts:?}");
    std::fs::remove_dir_all(&probe).unwrap();
    // (purge through, segments expected to go): just below a boundary keeps that segment, the
    // boundary's last index removes it, and the active segment always stays.
    let cases = [(0, 0), (firsts[1] - 2, 0), (firsts[1] - 1, 1), (firsts[2], 2), (firsts[3] - 1, 3), (TOTAL, firsts.len() - 1), (u64::MAX, firsts.len() - 1)];
    for (i, &(through, removed)) in cases.iter().enumerate() {
        let dir = temp_dir(&format!("purge-{i}"));
        fill(&dir, GROUPS);
        let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
        assert_eq!(wal.purge_through(through).unwrap(), removed, "purge through {through}");
        assert_eq!(wal.first_index(), firsts[removed], "purge through {through}");
        assert_eq!(wal.last_index(), TOTAL);
        assert_eq!(segments(&dir).len(), firsts.len() - removed);
        assert_eq!(wal.purge_through(through).unwrap(), 0, "purging again removes nothing");
        drop(wal);

        let (mut wal, entries, recovery) = Wal::open(&dir, small()).unwrap_or_else(|e| panic!("reopen after purge through {through}: {e}"));
        assert_eq!(recovery.truncated, None);
        assert_eq!((wal.first_index(), wal.last_index()), (firsts[removed], TOTAL));
        let indexes: Vec<u64> = entries.iter().map(|e| e.index).collect();
        assert_eq!(indexes, (firsts[removed]..=TOTAL).collect::<Vec<_>>(), "purge through {through}");
        assert!(entries.iter().all(|e| e.data == entry(e.index)));
        // Appends continue and cut new segments chained from the purged log.
        append_groups(&mut wal, 30);
        drop(wal);
        let (wal, entries, _) = Wal::open(&dir, small()).unwrap();
        assert_eq!((wal.first_index(), wal.last_index()), (firsts[removed], TOTAL + 90));
        assert_eq!(entries.last().unwrap().data, entry(TOTAL + 90));
        drop(wal);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn purging_a_log_with_one_segment_removes_nothing() {
    let dir = temp_dir("purge-one");
    fill(&dir, 2);
    let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
    assert_eq!(wal.purge_through(u64::MAX).unwrap(), 0);
    assert_eq!((wal.first_index(), wal.last_index(), wal.segment_count()), (1, 6, 1));
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn open_after_returns_only_the_entries_after_the_index_but_checks_them_all() {
    let dir = temp_dir("open-after");
    fill(&dir, 60);
    // Mid-group, group boundaries, a segment boundary, the end and past it.
    let boundary = first_index_of(&segments(&dir)[1]);
    for after in [0, 1, 2, 3, 90, boundary - 1, boundary, 179, 180, 500] {
        let (wal, entries, _) = Wal::open_after(&dir, small(), after).unwrap();
        let indexes: Vec<u64> = entries.iter().map(|e| e.index).collect();
        assert_eq!(indexes, (after + 1..=180).collect::<Vec<_>>(), "after {after}");
        assert!(entries.iter().all(|e| e.data == entry(e.index) && e.term == 1));
        assert_eq!((wal.first_index(), wal.last_index(), wal.next_index()), (1, 180, 181));
        drop(wal);
    }
    // Every record is checked: damage in the entries the snapshot holds is read past and
    // reported (it loses nothing), and refused when the snapshot does not hold them all.
    let first = segments(&dir)[0].clone();
    let damaged = records(&first)[2].clone();
    assert_eq!((damaged.kind, damaged.first, damaged.last), (ENTRIES, 4, 6));
    flip_bit(&first, damaged.offset + RECORD_HEADER + 2);
    let (wal, entries, recovery) = Wal::open_after(&dir, small(), 179).unwrap();
    assert_eq!(indexes(&entries), vec![180]);
    assert_eq!(recovery.covered_damage.iter().map(|d| (d.segment.clone(), d.offset)).collect::<Vec<_>>(), vec![(first.clone(), damaged.offset as u64)]);
    drop(wal);
    for after in [0, 5] {
        let (segment, offset, _) = corrupt(Wal::open_after(&dir, small(), after), &format!("after {after}"));
        assert_eq!((segment, offset), (first.clone(), damaged.offset as u64), "after {after}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_gap_between_the_snapshot_and_the_purged_log_is_visible_to_the_caller() {
    let dir = temp_dir("gap");
    fill(&dir, 60);
    let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
    wal.purge_through(100).unwrap();
    let first = wal.first_index();
    drop(wal);
    assert!(first > 2);
    // A snapshot at 1 would need entries from 2: the log starts later, which the caller sees.
    let (wal, entries, _) = Wal::open_after(&dir, small(), 1).unwrap();
    assert!(wal.first_index() > 1 + 1);
    assert_eq!(entries.first().unwrap().index, first);
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_new_log_opened_after_a_snapshot_starts_right_after_it() {
    let dir = temp_dir("fresh-after");
    let (mut wal, entries, _) = Wal::open_after(&dir, small(), 41).unwrap();
    assert!(entries.is_empty());
    assert_eq!((wal.first_index(), wal.last_index(), wal.next_index()), (42, 41, 42));
    assert_eq!(wal.append(3, &[b"first"]).unwrap(), 42);
    drop(wal);
    let (wal, entries, _) = Wal::open_after(&dir, small(), 41).unwrap();
    assert_eq!((entries.len(), entries[0].index, entries[0].term), (1, 42, 3));
    assert_eq!((wal.first_index(), wal.last_index()), (42, 42));
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}
