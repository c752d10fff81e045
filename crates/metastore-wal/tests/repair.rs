//! Explicit repair: a corrupt log is cut exactly at the damage and opens afterwards with the
//! entries before it; a healthy log (or one with only a torn tail) is left as it was.

mod common;

use common::*;
use metastore_wal::{repair, Wal, WalError};
use std::path::PathBuf;

const GROUPS: u64 = 120;
const TOTAL: u64 = GROUPS * 3;

/// Where to damage the log: (segment number, byte offset in it). Offsets are chosen per case
/// from the log's own layout.
enum Place {
    /// A bit inside the payload of the `n`th record of a segment.
    Record { segment: usize, record: usize },
    /// A bit inside a segment's header.
    Header { segment: usize },
}

#[test]
fn repair_cuts_a_corrupt_log_exactly_at_the_damage_and_it_opens_with_the_entries_before() {
    let cases = [
        ("first record of the first segment", Place::Record { segment: 0, record: 0 }),
        ("middle of the first segment", Place::Record { segment: 0, record: 3 }),
        ("middle of a middle segment", Place::Record { segment: 2, record: 2 }),
        ("first record of a middle segment", Place::Record { segment: 1, record: 0 }),
        ("last segment, not its last record", Place::Record { segment: usize::MAX, record: 0 }),
        ("header of a middle segment", Place::Header { segment: 2 }),
        ("header of the first segment", Place::Header { segment: 0 }),
    ];
    for (i, (what, place)) in cases.iter().enumerate() {
        let dir = temp_dir(&format!("repair-{i}"));
        let segs = fill(&dir, GROUPS);
        assert!(segs.len() >= 4);
        let pick = |s: usize| if s == usize::MAX { segs.len() - 1 } else { s };
        // Damage, and what must survive: the last entry kept, the segment cut, the offset.
        let (seg, at, offset, last_kept): (usize, usize, u64, u64) = match *place {
            Place::Record { segment, record } => {
                let seg = pick(segment);
                let start = record_offsets(&segs[seg])[record];
                (seg, start + 16, start as u64, record_first_index(&segs[seg], start) - 1)
            }
            Place::Header { segment } => (segment, 10, 0, first_index_of(&segs[segment]) - 1),
        };
        let pristine = std::fs::read(&segs[seg]).unwrap();
        flip_bit(&segs[seg], at);
        match Wal::open(&dir, small()) {
            Err(WalError::Corrupt { segment, offset: o, .. }) => assert_eq!((segment, o), (segs[seg].clone(), offset), "{what}"),
            other => panic!("{what}: expected corruption, got {:?}", other.map(|_| ())),
        }

        let report = repair(&dir, small()).unwrap();
        let cut = report.truncated.clone().unwrap_or_else(|| panic!("{what}: nothing truncated"));
        assert_eq!((cut.segment.clone(), cut.offset, report.last_index), (segs[seg].clone(), offset, last_kept), "{what}");
        assert!(cut.bytes_dropped > 0, "{what}");
        let whole = offset == 0 && seg > 0;
        let removed: Vec<PathBuf> = segs[if whole { seg } else { seg + 1 }..].to_vec();
        assert_eq!(cut.segments_removed, removed, "{what}");
        assert_eq!(segments(&dir), segs[..segs.len() - removed.len()].to_vec(), "{what}");
        assert!(report.to_string().starts_with("truncated "), "{what}: {report}");
        if !whole {
            // Cut exactly there: the bytes before are untouched, everything after is zero, and
            // the segment keeps its preallocated size.
            let now = std::fs::read(&segs[seg]).unwrap();
            let keep = (offset as usize).max(32);
            assert_eq!(now.len() as u64, SEGMENT_SIZE, "{what}");
            if offset > 0 {
                assert!(now[..keep] == pristine[..keep], "{what}: bytes before the damage changed");
            }
            assert!(now[keep..].iter().all(|&b| b == 0), "{what}: bytes after the damage remain");
        }

        let (mut wal, entries, recovery) = Wal::open(&dir, small()).unwrap_or_else(|e| panic!("{what}: open after repair: {e}"));
        assert_eq!(recovery.truncated, None, "{what}");
        let first = first_index_of(&segs[0]);
        assert_eq!(entries.iter().map(|e| e.index).collect::<Vec<_>>(), (first..=last_kept).collect::<Vec<_>>(), "{what}");
        assert!(entries.iter().all(|e| e.data == entry(e.index)), "{what}");
        assert_eq!(wal.append(1, &[b"after repair"]).unwrap(), last_kept + 1, "{what}");
        drop(wal);
        assert!(repair(&dir, small()).unwrap().truncated.is_none(), "{what}: a second repair finds nothing");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn repair_of_a_log_that_opens_changes_nothing() {
    // (case, damage): a healthy log, and one with a torn tail (which opening cuts, not repair).
    let cases: [(&str, bool); 2] = [("healthy", false), ("torn tail", true)];
    for (i, (what, torn)) in cases.iter().enumerate() {
        let dir = temp_dir(&format!("repair-noop-{i}"));
        let segs = fill(&dir, GROUPS);
        let last = segs.last().unwrap().clone();
        let (start, end) = last_record_span(&last);
        if *torn {
            let data = std::fs::read(&last).unwrap();
            std::fs::write(&last, &data[..(start + end) / 2]).unwrap();
        }
        let before = dir_bytes(&dir);
        let report = repair(&dir, small()).unwrap();
        assert_eq!(dir_bytes(&dir), before, "{what}: repair changed files");
        assert!(report.truncated.is_none(), "{what}");
        assert!(report.to_string().starts_with("nothing to repair"), "{what}: {report}");
        let kept = if *torn { record_first_index(&last, start) - 1 } else { TOTAL };
        assert_eq!(report.last_index, kept, "{what}");
        assert_eq!(report.torn_tail, torn.then(|| (last.clone(), start as u64)), "{what}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn repair_refuses_while_the_log_is_open() {
    let dir = temp_dir("repair-locked");
    fill(&dir, 3);
    let (wal, _, _) = Wal::open(&dir, small()).unwrap();
    assert!(matches!(repair(&dir, small()), Err(WalError::Locked(_))));
    drop(wal);
    assert!(repair(&dir, small()).unwrap().truncated.is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}
